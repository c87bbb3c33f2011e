#include "platform/device.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>

/* The locale the user reads in, from the environment the C library uses. */
static void locale_name(char *out, size_t size)
{
    const char *vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    const char *v = NULL;
    for (size_t i = 0; i < 3 && (!v || !*v); i++)
        v = getenv(vars[i]);
    snprintf(out, size, "%s", v && *v ? v : "C");
}

void pl_device_read(pl_device *out)
{
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(out->os, sizeof out->os, "%s %s", u.sysname, u.release);
        snprintf(out->arch, sizeof out->arch, "%s", u.machine);
        snprintf(out->platform, sizeof out->platform, "%s-%s", u.sysname, u.machine);
    } else {
        snprintf(out->os, sizeof out->os, "unknown");
        snprintf(out->arch, sizeof out->arch, "unknown");
        snprintf(out->platform, sizeof out->platform, "unknown");
    }
    for (char *p = out->platform; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    locale_name(out->locale, sizeof out->locale);
}
