/* The platform layer may include OS headers. */
#include <unistd.h>

int pl_fixture_uid(void);
