/* Host-provided storage: a game keeps Parley's durable state in its own
 * save system instead of a data dir. Here the "save system" is stdio files
 * prefixed with a save-slot path; a console would call its platform's save
 * API instead. The program queues a message with no server reachable,
 * "quits", starts again, and finds the message still waiting to be sent. */
#include <parley.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void slot_path(const char *slot, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s-%s", slot, name);
}

static int save_size(void *slot, const char *name, size_t *len)
{
    char p[512];
    slot_path(slot, name, p, sizeof p);
    FILE *f = fopen(p, "rb");
    if (!f)
        return PARLEY_ERR_NOT_FOUND;
    int ok = fseek(f, 0, SEEK_END) == 0;
    long n = ftell(f);
    fclose(f);
    if (!ok || n < 0)
        return PARLEY_ERR_IO;
    *len = (size_t)n;
    return PARLEY_OK;
}

static int save_read(void *slot, const char *name, void *buf, size_t len)
{
    char p[512];
    slot_path(slot, name, p, sizeof p);
    FILE *f = fopen(p, "rb");
    size_t got = f ? fread(buf, 1, len, f) : 0;
    if (f)
        fclose(f);
    return got == len ? PARLEY_OK : PARLEY_ERR_IO;
}

static int save_append(void *slot, const char *name, const void *data, size_t len)
{
    char p[512];
    slot_path(slot, name, p, sizeof p);
    FILE *f = fopen(p, "ab");
    size_t put = f ? fwrite(data, 1, len, f) : 0;
    int closed = f && fclose(f) == 0;
    return put == len && closed ? PARLEY_OK : PARLEY_ERR_IO;
}

static int save_sync(void *slot, const char *name)
{
    char p[512];
    slot_path(slot, name, p, sizeof p);
    FILE *f = fopen(p, "ab");
    int ok = f && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (f)
        fclose(f);
    return ok ? PARLEY_OK : PARLEY_ERR_IO;
}

static int save_truncate(void *slot, const char *name, size_t len)
{
    char p[512];
    slot_path(slot, name, p, sizeof p);
    return truncate(p, (off_t)len) == 0 ? PARLEY_OK : PARLEY_ERR_IO;
}

static int save_rename(void *slot, const char *from, const char *to)
{
    char a[512], b[512];
    slot_path(slot, from, a, sizeof a);
    slot_path(slot, to, b, sizeof b);
    return rename(a, b) == 0 ? PARLEY_OK : PARLEY_ERR_IO;
}

static int save_remove(void *slot, const char *name)
{
    char p[512];
    slot_path(slot, name, p, sizeof p);
    return remove(p) == 0 || access(p, F_OK) != 0 ? PARLEY_OK : PARLEY_ERR_IO;
}

static const parley_storage save_system = {
    PARLEY_STORAGE_VERSION, save_size,   save_read,   save_append, save_sync,
    save_truncate,          save_rename, save_remove,
};

static parley_client *start_game(char *slot)
{
    parley_config *cfg = parley_config_new();
    parley_config_set_url(cfg, "wss://localhost:1/"); /* nothing listens: offline */
    parley_config_set_app_id(cfg, "host-storage-example");
    parley_config_set_storage(cfg, &save_system, slot);
    parley_client *pc = NULL;
    int rc = parley_client_new(cfg, &pc);
    parley_config_free(cfg);
    if (rc != PARLEY_OK)
        fprintf(stderr, "parley_client_new: %s\n", parley_strerror(rc));
    return pc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s SAVE_SLOT_PREFIX\n", argv[0]);
        return 2;
    }
    parley_client *pc = start_game(argv[1]);
    if (!pc)
        return 1;
    char conv[PARLEY_ID_SIZE];
    parley_conversation_start(pc, "Lost my sword", conv, sizeof conv);
    int rc = parley_send_text(pc, conv, "It vanished after the boss fight", NULL, 0);
    printf("queued offline: %s\n", parley_strerror(rc));
    parley_client_free(pc); /* the player quits */

    pc = start_game(argv[1]);
    if (!pc)
        return 1;
    uint32_t waiting = 0;
    parley_outbox_count(pc, &waiting);
    printf("after a restart, %u item(s) wait for the server\n", (unsigned)waiting);
    parley_client_free(pc);
    return waiting == 2 ? 0 : 1;
}
