/* What the OS says about the device, for the context's device facts and
 * the hello frame's platform. Every field is NUL-terminated, cut to fit,
 * and "unknown" when the OS does not say. */
#ifndef PARLEY_PLATFORM_DEVICE_H
#define PARLEY_PLATFORM_DEVICE_H

typedef struct pl_device {
    char os[136];       /* name and release: "Linux 6.1.0-18-amd64", "Windows 10.0.19045" */
    char arch[72];      /* "x86_64", "aarch64" */
    char platform[144]; /* lowercase name-arch: "linux-x86_64", "windows-x86_64" */
    char locale[64];    /* the user's language as the OS names it: "en_US.UTF-8", "en-US" */
} pl_device;

void pl_device_read(pl_device *out);

#endif
