/* A utility that calls the OS itself: check-layers.py must refuse it. */
#include <stdio.h>
#include <unistd.h>

int pl_fixture_pid(void);
