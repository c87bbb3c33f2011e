"""The package against bindings/api.json: every function wrapped or listed
as omitted, every enum and constant present, signatures bound, the version
checked. Needs no server."""
import json
import os
import re

import parley
from parley import _native

from conftest import API_JSON

PACKAGE = os.path.dirname(parley.__file__)


def api():
    with open(API_JSON, encoding="utf-8") as f:
        return json.load(f)


def wrapper_source():
    """The hand-written modules (not the generated _native.py)."""
    text = ""
    for name in sorted(os.listdir(PACKAGE)):
        if name.endswith(".py") and name != "_native.py":
            with open(os.path.join(PACKAGE, name), encoding="utf-8") as f:
                text += f.read()
    return text


def test_every_function_is_wrapped_or_omitted():
    source = wrapper_source()
    called = set(re.findall(r"\b_?lib\.(parley_\w+)\b", source))
    names = {f["name"] for f in api()["functions"]}
    missing = sorted(names - called - set(parley.OMITTED))
    assert not missing, f"functions of bindings/api.json neither wrapped nor in parley.OMITTED: {missing}"
    stale = sorted(set(parley.OMITTED) - names)
    assert not stale, f"parley.OMITTED names functions the API no longer has: {stale}"
    both = sorted(set(parley.OMITTED) & called)
    assert not both, f"wrapped yet listed in parley.OMITTED: {both}"
    unknown = sorted(called - names)
    assert not unknown, f"the wrapper calls functions bindings/api.json lacks: {unknown}"


def test_every_enum_and_constant_is_there():
    desc = api()
    for e in desc["enums"]:
        cls = getattr(parley, _camel(e["name"]))
        for m in e["values"]:
            assert cls[m["short"]] == m["value"], (e["name"], m["name"])
        assert len(cls.__members__) == len(e["values"]), e["name"]
    for c in desc["constants"]:
        assert getattr(parley, c["name"][len("PARLEY_"):]) == c["value"], c["name"]


def test_every_signature_is_bound():
    lib = parley._lib
    for f in api()["functions"]:
        fn = getattr(lib, f["name"])
        assert fn.argtypes is not None and len(fn.argtypes) == len(f["params"]), f["name"]


def test_version_checked_against_the_generated_one():
    desc = api()["version"]
    assert parley.GENERATED_VERSION == (desc["major"], desc["minor"], desc["patch"])
    assert parley.version() == desc["string"]
    assert parley.compatible((0, 1, 7), (0, 1, 0))
    assert not parley.compatible((0, 2, 0), (0, 1, 0))  # 0.x minors may break
    assert parley.compatible((1, 3, 0), (1, 2, 5))
    assert not parley.compatible((1, 1, 0), (1, 2, 0))  # an older library lacks functions
    assert not parley.compatible((2, 0, 0), (1, 2, 0))


def test_load_refuses_an_incompatible_library(monkeypatch):
    from parley import _loader
    monkeypatch.setattr(_native, "GENERATED_VERSION", (0, 99, 0))
    try:
        _loader.load()
    except parley.VersionError as e:
        assert "not compatible" in str(e)
    else:
        raise AssertionError("a library of another 0.x minor was accepted")


def _camel(name):
    return "".join(w.capitalize() for w in name[len("parley_"):].split("_"))
