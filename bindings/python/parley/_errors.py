"""Errors: the library's codes as exceptions; bad arguments as Python's own."""
from ._loader import lib
from ._native import ErrorCode


class Error(Exception):
    """A libparley call failed. `code` is an ErrorCode (an int for a code
    this package does not know), `function` the C function."""

    def __init__(self, code, function, detail=None):
        self.code = _enum(ErrorCode, code)
        self.function = function
        self.message = strerror(code)
        text = f"{function}: {self.message} ({getattr(self.code, 'name', code)})"
        super().__init__(f"{text}: {detail}" if detail else text)


class ClosedError(ValueError):
    """A call on a closed Client, Config or SurveyResponse (like I/O on a
    closed file)."""


def strerror(code):
    return lib.parley_strerror(int(code)).decode("utf-8", "replace")


def check(rc, function):
    """rc when it is not an error, else raises Error."""
    if rc < 0:
        raise Error(rc, function)
    return rc


def _enum(cls, value):
    """The enum member, or the int itself for a value newer than this package."""
    try:
        return cls(value)
    except ValueError:
        return value


def text_in(value, name, nullable=False):
    """A str (or bytes) argument as NUL-terminated UTF-8."""
    if value is None:
        if nullable:
            return None
        raise TypeError(f"{name} must be str, not None")
    if isinstance(value, str):
        value = value.encode("utf-8")
    elif not isinstance(value, (bytes, bytearray)):
        raise TypeError(f"{name} must be str, not {type(value).__name__}")
    if b"\0" in value:
        raise ValueError(f"{name} contains a NUL character")
    return bytes(value)


def text_out(raw):
    return None if raw is None else raw.decode("utf-8", "replace")
