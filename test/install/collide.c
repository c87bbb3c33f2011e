/* A host with its own functions named like what libparley.a used to export:
 * Parley's internal helpers (proto.c's bad, member, finish, get_string) and
 * the OpenSSL and libwebsockets API that the bundled libwebsockets defines.
 * Linked statically with Parley, the program must link (no duplicate
 * symbol), its own functions must be the ones it calls, and Parley's must
 * still reach its own libwebsockets (a client is created, which creates a
 * libwebsockets context). */
#include <parley.h>
#include <stdio.h>

int bad(void);
int member(void);
int finish(void);
int get_string(void);
void *SSL_new(void *ctx);
void *SSL_CTX_new(const void *method);
int SSL_read(void *ssl, void *buf, int num);
void *lws_create_context(const void *info);

int bad(void)
{
    return 1;
}
int member(void)
{
    return 2;
}
int finish(void)
{
    return 3;
}
int get_string(void)
{
    return 4;
}
void *SSL_new(void *ctx)
{
    return ctx;
}
void *SSL_CTX_new(const void *method)
{
    (void)method;
    return NULL;
}
int SSL_read(void *ssl, void *buf, int num)
{
    (void)ssl;
    (void)buf;
    return num;
}
void *lws_create_context(const void *info)
{
    (void)info;
    return NULL;
}

int main(void)
{
    int x = 0;
    if (bad() + member() + finish() + get_string() != 10 || SSL_new(&x) != &x ||
        SSL_CTX_new(NULL) != NULL || SSL_read(NULL, NULL, 7) != 7 ||
        lws_create_context(NULL) != NULL) {
        fprintf(stderr, "the host's own functions were replaced\n");
        return 1;
    }
    parley_config *cfg = parley_config_new();
    parley_client *pc = NULL;
    int rc = parley_config_set_url(cfg, "ws://127.0.0.1:1/");
    if (rc == PARLEY_OK)
        rc = parley_config_set_app_id(cfg, "collide");
    if (rc == PARLEY_OK)
        rc = parley_config_set_allow_insecure(cfg, 1);
    if (rc == PARLEY_OK)
        rc = parley_client_new(cfg, &pc);
    parley_client_free(pc);
    parley_config_free(cfg);
    printf("collide: host symbols intact, parley client: %s\n", parley_strerror(rc));
    return rc == PARLEY_OK ? 0 : 1;
}
