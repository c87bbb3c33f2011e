"""Finds and loads libparley, binds every function's signature and checks
that the library is one this package was generated for."""
import ctypes
import ctypes.util
import os
import sys

from . import _native


class VersionError(ImportError):
    """The loaded libparley is not compatible with this package."""


def compatible(library, generated):
    """docs/abi.md: same major; before 1.0 the same minor (0.x minors may
    break), from 1.0 on a minor at least the generated one (minors only
    add)."""
    if library[0] != generated[0]:
        return False
    if generated[0] == 0:
        return library[1] == generated[1]
    return library[1] >= generated[1]


def _candidates():
    env = os.environ.get("PARLEY_LIBRARY")
    if env:
        return [env]
    if sys.platform == "win32":
        names = ["parley.dll"]
    elif sys.platform == "darwin":
        names = ["libparley.0.dylib", "libparley.dylib"]
    else:
        names = [f"libparley.so.{_native.GENERATED_VERSION[0]}"]  # the SONAME, not the dev symlink
    found = ctypes.util.find_library("parley")
    return names + ([found] if found else [])


def load():
    errors = []
    for name in _candidates():
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError as e:
            errors.append(str(e))
    else:
        raise ImportError("libparley not found (set PARLEY_LIBRARY to its path): " + "; ".join(errors))
    version = ctypes.CFUNCTYPE(ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int),
                               ctypes.POINTER(ctypes.c_int))(("parley_version", lib))
    parts = [ctypes.c_int() for _ in range(3)]
    text = version(*(ctypes.byref(p) for p in parts)).decode()
    have = tuple(p.value for p in parts)
    if not compatible(have, _native.GENERATED_VERSION):
        want = ".".join(map(str, _native.GENERATED_VERSION))
        raise VersionError(f"libparley {text} ({lib._name}) is not compatible with this package, generated "
                           f"from parley.h {want} (docs/abi.md)")
    try:
        return _native.bind(lib)
    except AttributeError as e:
        raise VersionError(f"libparley {text} lacks a function this package needs: {e}") from None


lib = load()
