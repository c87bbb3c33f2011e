/* The release from RtlGetVersion (GetVersionEx reports what the program's
 * manifest claims, not the OS), the architecture of the OS (not of this
 * process, which may be emulated), the user's locale name. */
#include "platform/device.h"

#include <stdio.h>
#include <string.h>
#include <windows.h>

typedef LONG(WINAPI *rtl_get_version_fn)(OSVERSIONINFOW *);

static void os_release(char *out, size_t size)
{
    OSVERSIONINFOW v = {.dwOSVersionInfoSize = sizeof v};
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    FARPROC proc = ntdll ? GetProcAddress(ntdll, "RtlGetVersion") : NULL;
    rtl_get_version_fn get = NULL;
    /* FARPROC to the real signature: how GetProcAddress is used. */
    _Static_assert(sizeof proc == sizeof get, "function pointer sizes");
    memcpy(&get, &proc, sizeof get);
    if (get && get(&v) == 0)
        snprintf(out, size, "Windows %lu.%lu.%lu", v.dwMajorVersion, v.dwMinorVersion,
                 v.dwBuildNumber);
    else
        snprintf(out, size, "Windows");
}

static const char *arch_name(void)
{
    SYSTEM_INFO si;
    GetNativeSystemInfo(&si);
    switch (si.wProcessorArchitecture) {
    case PROCESSOR_ARCHITECTURE_AMD64: return "x86_64";
    case PROCESSOR_ARCHITECTURE_ARM64: return "aarch64";
    case PROCESSOR_ARCHITECTURE_INTEL: return "x86";
    case PROCESSOR_ARCHITECTURE_ARM: return "arm";
    default: return "unknown";
    }
}

static void locale_name(char *out, size_t size)
{
    wchar_t w[LOCALE_NAME_MAX_LENGTH];
    if (GetUserDefaultLocaleName(w, LOCALE_NAME_MAX_LENGTH) <= 0 ||
        WideCharToMultiByte(CP_UTF8, 0, w, -1, out, (int)size, NULL, NULL) <= 0)
        snprintf(out, size, "C");
}

void pl_device_read(pl_device *out)
{
    os_release(out->os, sizeof out->os);
    snprintf(out->arch, sizeof out->arch, "%s", arch_name());
    snprintf(out->platform, sizeof out->platform, "windows-%s", out->arch);
    locale_name(out->locale, sizeof out->locale);
}
