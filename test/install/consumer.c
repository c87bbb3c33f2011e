/* Built against an installed Parley: the header and library agree. */
#include <parley.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    int major = -1;
    const char *v = parley_version(&major, NULL, NULL);
    if (strcmp(v, PARLEY_VERSION_STRING) != 0 || major != PARLEY_VERSION_MAJOR) {
        fprintf(stderr, "header %s, library %s\n", PARLEY_VERSION_STRING, v);
        return 1;
    }
    parley_config *cfg = parley_config_new();
    int rc = parley_config_set_url(cfg, "wss://localhost/");
    parley_config_free(cfg);
    printf("parley %s: %s\n", v, parley_strerror(rc));
    return rc == PARLEY_OK ? 0 : 1;
}
