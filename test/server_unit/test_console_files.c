/* The console's files: which paths name which files, and none other (no
 * traversal, no hidden files, no other types). */
#include <string.h>

#include "console_files.h"
#include "testlib.h"

static void check_path(const char *path, int want, const char *want_file, const char *want_type)
{
    char out[256];
    const char *type = NULL;
    int rc = console_resolve("/srv/console", path, out, sizeof out, &type);

    CHECK_INT(rc, want);
    if (rc == 1 && want == 1) {
        CHECK_STR(out, want_file);
        CHECK(type && strncmp(type, want_type, strlen(want_type)) == 0);
    }
}

static void test_resolve(void)
{
    check_path("/", 1, "/srv/console/index.html", "text/html");
    check_path("/console/", 1, "/srv/console/index.html", "text/html");
    check_path("/console", 1, "/srv/console/index.html", "text/html");
    check_path("/console/app.js", 1, "/srv/console/app.js", "text/javascript");
    check_path("/console/app.css", 1, "/srv/console/app.css", "text/css");
    check_path("/console/render.js", 1, "/srv/console/render.js", "text/javascript");
    check_path("/console/../secrets.js", 0, NULL, NULL);
    check_path("/console/..", 0, NULL, NULL);
    check_path("/console/a/b.js", 0, NULL, NULL);
    check_path("/console/.hidden.js", 0, NULL, NULL);
    check_path("/console/App.js", 0, NULL, NULL);
    check_path("/console/app.js.map", 0, NULL, NULL);
    check_path("/console/app", 0, NULL, NULL);
    check_path("/console/%2e%2e.js", 0, NULL, NULL);
    check_path("/console/x\\y.js", 0, NULL, NULL);
    check_path("/api/me", 0, NULL, NULL);
    check_path("/index.html", 0, NULL, NULL);
    check_path("//console/app.js", 0, NULL, NULL);
}

static void test_small_buffer(void)
{
    char out[8];
    const char *type;

    CHECK_INT(console_resolve("/a/long/directory", "/console/app.js", out, sizeof out, &type), -1);
}

int main(void)
{
    RUN(test_resolve);
    RUN(test_small_buffer);
    return tl_finish();
}
