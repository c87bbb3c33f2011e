#include "parley.h"

const char *parley_version(int *major, int *minor, int *patch)
{
    if (major)
        *major = PARLEY_VERSION_MAJOR;
    if (minor)
        *minor = PARLEY_VERSION_MINOR;
    if (patch)
        *patch = PARLEY_VERSION_PATCH;
    return PARLEY_VERSION_STRING;
}
