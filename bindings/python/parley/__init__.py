"""Parley for Python: in-app support chat over libparley (ctypes, nothing
to compile). See bindings/python/README.md.

    with parley.Client(url="wss://support.example.com", app_id="my-game") as client:
        conv = client.conversation_start("Payment problem")
        client.send_text(conv, "My gems never arrived")
        ...
        client.service(10)
        for event in client.events():
            ...
"""
from ._errors import ClosedError, Error, strerror
from ._events import Block, Event, Option, Question, Survey
from ._loader import VersionError, compatible, lib as _lib
from ._native import *  # noqa: F401,F403 (the generated enums and constants)
from ._native import ENUMS, GENERATED_VERSION
from ._core import Client, Config, IncompleteError, SurveyResponse

# Functions of bindings/api.json this package deliberately does not wrap.
OMITTED = {
    "parley_config_set_allocator": "the hooks run on any thread, also while Python finalizes; "
                                   "Python hosts keep the C library's allocator",
    "parley_config_set_storage": "Python hosts have files: use data_dir",
    "parley_config_set_redactor": "it writes into a native buffer; Config(redactor=...) uses "
                                  "parley_config_set_text_redactor instead",
}


def version():
    """The loaded library's version string, e.g. "0.1.0"."""
    return _lib.parley_version(None, None, None).decode()


__all__ = ["Block", "Client", "ClosedError", "Config", "Error", "Event", "IncompleteError", "OMITTED",
           "Option", "Question", "Survey", "SurveyResponse", "VersionError", "compatible", "strerror",
           "version", "GENERATED_VERSION"] + [e.__name__ for e in ENUMS]
