#!/usr/bin/env python3
"""Generates bindings/api.json, the machine-readable description of the
public API, from include/parley.h (libclang: Debian's python3-clang).

    scripts/gen-api.py            write bindings/api.json
    scripts/gen-api.py --check    fail when bindings/api.json differs from
                                  what the header gives (the ctest test)
    ... --lib libparley.so        also check that the library exports
                                  exactly the described functions

What the types say is derived from them (docs/abi.md, "The API
description"): `const T *` is borrowed or read, `T **` hands out a handle
the caller frees with T's _free function, `char *buf, size_t size` is an
output buffer, a pointer followed by a size_t is a byte string, a callback
is followed by its `void *user`. What the types cannot say (which pointer
parameters may be NULL, how big an output buffer must be, which enums are
bit sets) is in bindings/api-annotations.json; a function lacking that
information makes this script fail, and says what to add.
"""
import argparse
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = os.path.join(ROOT, "include", "parley.h")
OUTPUT = os.path.join(ROOT, "bindings", "api.json")
ANNOTATIONS = os.path.join(ROOT, "bindings", "api-annotations.json")
SCALARS = {"int", "uint32_t", "int64_t", "size_t", "double", "unsigned int"}
MACRO_CONSTANTS = {"PARLEY_VERSION_MAJOR", "PARLEY_VERSION_MINOR", "PARLEY_VERSION_PATCH",
                   "PARLEY_VERSION_STRING"}


class ApiError(Exception):
    """A rule of the header's conventions is broken; the message says how to fix it."""


def load_clang():
    try:
        import clang.cindex as ci
    except ImportError:
        return None
    return ci


# ---- comments ---------------------------------------------------------------

def clean_comment(lines):
    """The text of a /* ... */ block, without the comment markers."""
    text = "\n".join(lines)
    text = re.sub(r"^\s*/\*+", "", text)
    text = re.sub(r"\*+/\s*$", "", text)
    out = [re.sub(r"^\s*\* ?", "", l).rstrip() for l in text.split("\n")]
    return "\n".join(out).strip()


def comment_before(src, line):
    """The comment blocks right above 1-based `line`, skipping the
    declarations of the same group (no blank line in between)."""
    i = line - 2
    while i >= 0 and src[i].strip() and not src[i].rstrip().endswith("*/"):
        i -= 1
    blocks = []
    while i >= 0 and src[i].rstrip().endswith("*/"):
        end = i
        while i >= 0 and "/*" not in src[i]:
            i -= 1
        if i < 0:
            break
        blocks.insert(0, clean_comment(src[i:end + 1]))
        i -= 1
    return "\n".join(b for b in blocks if b)


def trailing_comment(src, line):
    m = re.search(r"/\*\s*(.*?)\s*\*/", src[line - 1])
    return m.group(1) if m else ""


def thread_rule(doc, what):
    m = re.search(r"Thread:\s*(.*?)(?:\n\s*\n|$)", doc, re.S)
    if not m:
        raise ApiError(f"{what}: its comment in parley.h has no 'Thread:' line; every callback "
                       "documents the thread it runs on")
    return " ".join(m.group(1).split())


# ---- types ----------------------------------------------------------------

class Types:
    """Classifies the header's types: handles, callbacks, structs."""

    def __init__(self, ci, handles, callbacks, structs):
        self.ci = ci
        self.handles = handles      # name -> free function or None
        self.callbacks = callbacks  # name -> description
        self.structs = structs      # name -> description

    @staticmethod
    def pointee(t):
        return t.get_pointee()

    def handle_name(self, t):
        """'parley_x' when t is (const) parley_x, else None."""
        name = t.spelling.replace("const ", "").strip()
        return name if name in self.handles else None

    def describe_scalar(self, t):
        name = t.spelling
        return name if name in SCALARS else None


def param_kind(types, fn, params, i):
    """The role of parameter i of `fn` and what goes with it."""
    ci = types.ci
    p = params[i]
    t = p.type
    spelled = t.spelling
    nxt = params[i + 1] if i + 1 < len(params) else None
    next_is_size = nxt is not None and nxt.type.spelling == "size_t"
    base = {"name": p.spelling, "c_type": spelled}
    if spelled in types.callbacks:
        return dict(base, kind="callback", callback=spelled)
    if spelled == "void *":
        prev = [q for q in params[:i] if q.type.spelling in types.callbacks or
                (q.type.kind == ci.TypeKind.POINTER and
                 q.type.get_pointee().spelling.replace("const ", "") in types.structs)]
        if prev and p.spelling == "user":
            return dict(base, kind="user_data", of=[q.spelling for q in prev])
        raise ApiError(f"{fn}: `void *{p.spelling}` is not the `user` after a callback "
                       "(or a struct of callbacks)")
    scalar = types.describe_scalar(t)
    if scalar:
        return dict(base, kind="value", type=scalar)
    if t.kind != ci.TypeKind.POINTER:
        raise ApiError(f"{fn}: parameter `{p.spelling}` has type {spelled}, which no rule of "
                       "scripts/gen-api.py covers")
    target = t.get_pointee()
    handle = types.handle_name(target)
    if handle:
        return dict(base, kind="handle", handle=handle, const=target.is_const_qualified())
    if target.kind == ci.TypeKind.POINTER:
        inner = types.handle_name(target.get_pointee())
        if inner and not target.is_const_qualified():
            return dict(base, kind="handle_out", handle=inner, free=types.handles[inner])
        if target.get_pointee().spelling == "const char" and target.is_const_qualified() and next_is_size:
            return dict(base, kind="string_array", count=nxt.spelling)
    tname = target.spelling.replace("const ", "").strip()
    if tname in types.structs and target.is_const_qualified():
        return dict(base, kind="struct", struct=tname)
    if target.spelling in ("const char", "const unsigned char", "const void") and next_is_size:
        return dict(base, kind="bytes", length=nxt.spelling)
    if target.spelling == "const char":
        return dict(base, kind="string")
    if target.spelling == "char" and next_is_size:
        return dict(base, kind="out_string", size=nxt.spelling)
    if not target.is_const_qualified() and target.spelling in SCALARS:
        return dict(base, kind="out_value", type=target.spelling)
    raise ApiError(f"{fn}: parameter `{p.spelling}` has type {spelled}, which no rule of "
                   "scripts/gen-api.py covers")


def return_kind(types, fn, cursor, params):
    t = cursor.result_type
    s = t.spelling
    if s == "void":
        handles = [p for p in params if p["kind"] == "handle" and not p["const"]]
        if fn.endswith("_free") and len(params) == 1 and handles:
            return {"kind": "destructor", "of": handles[0]["handle"]}
        raise ApiError(f"{fn}: only X_free(X *) destructors may return void")
    owner = params[0]["name"] if params and params[0]["kind"] == "handle" else None
    if s == "const char *":
        return {"kind": "string", "c_type": s, "borrowed_from": owner}
    if t.kind == types.ci.TypeKind.POINTER:
        h = types.handle_name(t.get_pointee())
        if h and t.get_pointee().is_const_qualified():
            return {"kind": "handle", "c_type": s, "handle": h, "borrowed_from": owner}
        if h and types.handles[h] and not params:
            # A constructor: the caller owns the handle; NULL is out of memory.
            return {"kind": "new_handle", "c_type": s, "handle": h, "free": types.handles[h]}
        raise ApiError(f"{fn}: returns {s}; functions hand out handles through `T **out` "
                       "parameters (or X_new(void)) and return only borrowed const pointers")
    if s not in SCALARS:
        raise ApiError(f"{fn}: return type {s} is not covered by scripts/gen-api.py")
    acts = any(p["kind"] in ("handle_out", "out_string", "out_value") or
               (p["kind"] == "handle" and not p["const"]) for p in params)
    if s == "int" and acts:
        # Negative is a PARLEY_ERR_* code; anything else is the result.
        return {"kind": "status", "c_type": s}
    return {"kind": "value", "c_type": s}


# ---- the walk over the header ---------------------------------------------

def parse(ci):
    index = ci.Index.create()
    tu = index.parse(HEADER, args=["-x", "c", "-std=c11"],
                     options=ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
    errors = [d for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error]
    if errors:
        raise ApiError("parley.h does not parse: " + "; ".join(str(d) for d in errors))
    return [c for c in tu.cursor.get_children()
            if c.location.file and os.path.samefile(c.location.file.name, HEADER)]


def macro_value(cursor):
    toks = [t.spelling for t in cursor.get_tokens()][1:]
    if len(toks) == 1 and re.fullmatch(r"\d+[uU]?", toks[0]):
        return int(toks[0].rstrip("uU"))
    if len(toks) == 1 and toks[0].startswith('"'):
        return json.loads(toks[0])
    return None


def collect(ci, cursors, src):
    api = {"macros": [], "constants": [], "enums": [], "handles": [], "callbacks": [],
           "structs": [], "functions": []}
    func_names = {c.spelling for c in cursors if c.kind == ci.CursorKind.FUNCTION_DECL}
    handles, callbacks, structs = {}, {}, {}
    for c in cursors:
        if c.kind == ci.CursorKind.MACRO_DEFINITION and c.spelling.startswith("PARLEY_"):
            value = macro_value(c)
            if value is None:
                continue
            if c.spelling not in MACRO_CONSTANTS:
                raise ApiError(f"{c.spelling} is a #define: make it an enum constant so that "
                               "language bindings see it (only PARLEY_VERSION_* stay macros)")
            api["macros"].append({"name": c.spelling, "value": value})
        elif c.kind == ci.CursorKind.ENUM_DECL:
            collect_enum(c, src, api)
        elif c.kind == ci.CursorKind.TYPEDEF_DECL:
            u = c.underlying_typedef_type.get_canonical()
            name = c.spelling
            if u.kind == ci.TypeKind.RECORD:
                decl = u.get_declaration()
                fields = list(decl.get_children()) if decl.is_definition() else []
                if fields:
                    structs[name] = {"cursor": decl, "doc": comment_before(src, c.extent.start.line)}
                else:
                    free = name + "_free"
                    handles[name] = free if free in func_names else None
            elif u.kind == ci.TypeKind.POINTER and u.get_pointee().kind == ci.TypeKind.FUNCTIONPROTO:
                # Not the canonical type: size_t stays size_t.
                callbacks[name] = {"cursor": c, "proto": c.underlying_typedef_type.get_pointee(),
                                   "doc": comment_before(src, c.extent.start.line)}
    types = Types(ci, handles, callbacks, structs)
    api["handles"] = [{"name": n, "free": f} for n, f in handles.items()]
    for name, cb in callbacks.items():
        api["callbacks"].append(describe_callback(types, name, cb["proto"], cb["cursor"], cb["doc"]))
    for name, st in structs.items():
        api["structs"].append(describe_struct(types, name, st))
    for c in cursors:
        if c.kind == ci.CursorKind.FUNCTION_DECL:
            api["functions"].append(describe_function(types, c, src))
    return api


def collect_enum(c, src, api):
    values = []
    for k in c.get_children():
        values.append({"name": k.spelling, "value": k.enum_value,
                       "doc": trailing_comment(src, k.location.line)})
    if c.is_anonymous():
        doc = comment_before(src, c.extent.start.line)
        for v in values:
            api["constants"].append(dict(v, doc=v["doc"] or doc))
        return
    names = [v["name"] for v in values]
    prefix = os.path.commonprefix(names)
    prefix = prefix[:prefix.rfind("_") + 1]
    doc = trailing_comment(src, c.extent.start.line) or comment_before(src, c.extent.start.line)
    api["enums"].append({"name": c.spelling, "prefix": prefix, "doc": doc, "values": values})


def describe_callback(types, name, proto, cursor, doc):
    params = [{"c_type": a.spelling} for a in proto.argument_types()]
    # Parameter names come from the typedef's tokens: "(void *user, int level, ...)".
    names = [a.spelling for a in cursor.get_children() if a.kind == types.ci.CursorKind.PARM_DECL]
    for p, n in zip(params, names):
        p["name"] = n
    if not names or names[0] != "user" or params[0]["c_type"] != "void *":
        raise ApiError(f"{name}: a callback's first parameter is `void *user`")
    return {"name": name, "returns": proto.get_result().spelling, "params": params,
            "thread": thread_rule(doc, name), "doc": doc}


def describe_struct(types, name, st):
    fields = []
    for f in st["cursor"].get_children():
        t = f.type
        entry = {"name": f.spelling, "c_type": t.spelling}
        if t.kind == types.ci.TypeKind.POINTER and t.get_pointee().kind == types.ci.TypeKind.FUNCTIONPROTO:
            proto = t.get_pointee()
            entry["returns"] = proto.get_result().spelling
            entry["params"] = [{"c_type": a.spelling} for a in proto.argument_types()]
            entry["param_names"] = [a.spelling for a in f.get_children()
                                    if a.kind == types.ci.CursorKind.PARM_DECL]
        fields.append(entry)
    return {"name": name, "fields": fields, "thread": thread_rule(st["doc"], name), "doc": st["doc"]}


def describe_function(types, c, src):
    name = c.spelling
    args = list(c.get_arguments())
    params = [param_kind(types, name, args, i) for i in range(len(args))]
    paired = {p.get("size") or p.get("length") or p.get("count") for p in params} - {None}
    for p in params:
        if p["name"] in paired:
            p["kind"] = "size" if p["kind"] == "value" else p["kind"]
    doc = comment_before(src, c.extent.start.line)
    if not doc:
        raise ApiError(f"{name}: not documented in parley.h (every function has a comment "
                       "saying ownership, threads and errors)")
    out = {"name": name, "returns": return_kind(types, name, c, params), "params": params, "doc": doc}
    deprecated = re.search(r"^Deprecated\b[^\n]*", doc, re.M)
    if deprecated:  # docs/abi.md, "Deprecations"
        out["deprecated"] = deprecated.group(0)
    return out


# ---- annotations ------------------------------------------------------------

NULLABLE_KINDS = ("string", "out_string", "out_value", "struct", "bytes", "string_array")


def apply_annotations(api, notes):
    fnotes = notes.get("functions", {})
    names = {f["name"] for f in api["functions"]}
    stale = sorted(set(fnotes) - names)
    if stale:
        raise ApiError(f"bindings/api-annotations.json names functions parley.h lacks: {', '.join(stale)}")
    for f in api["functions"]:
        pointers = [p for p in f["params"][1:] if p["kind"] in NULLABLE_KINDS]
        if f["params"] and f["params"][0]["kind"] in NULLABLE_KINDS:
            pointers.insert(0, f["params"][0])
        note = fnotes.get(f["name"])
        if not pointers:
            if note:
                raise ApiError(f"{f['name']}: has no pointer parameter to annotate; remove it from "
                               "bindings/api-annotations.json")
            continue
        if note is None:
            listed = ", ".join(p["name"] for p in pointers)
            raise ApiError(
                f"{f['name']}: not in bindings/api-annotations.json. Add\n"
                f'    "{f["name"]}": {{"nullable": [...]}}\n'
                f"naming which of its pointer parameters ({listed}) may be NULL ([] for none)"
                + (", and \"capacity\": {\"PARAM\": \"PARLEY_..._SIZE\"} for each output buffer"
                   if any(p["kind"] == "out_string" for p in pointers) else "")
                + ", then run `make api`.")
        unknown = set(note) - {"nullable", "capacity"}
        if unknown:
            raise ApiError(f"{f['name']}: unknown annotation keys {sorted(unknown)}")
        pnames = {p["name"] for p in pointers}
        bad = set(note.get("nullable", [])) - pnames
        if "nullable" not in note or bad:
            raise ApiError(f"{f['name']}: \"nullable\" must list some of {sorted(pnames)}"
                           + (f" (not {sorted(bad)})" if bad else ""))
        caps = note.get("capacity", {})
        for p in f["params"]:
            if p["kind"] in NULLABLE_KINDS:
                p["nullable"] = p["name"] in note["nullable"]
            if p["kind"] == "out_string":
                cap = caps.get(p["name"])
                if cap is None:
                    raise ApiError(f"{f['name']}: output buffer `{p['name']}` needs \"capacity\": "
                                   f"{{\"{p['name']}\": \"PARLEY_..._SIZE\"}} in "
                                   "bindings/api-annotations.json")
                p["capacity"] = cap
        if set(caps) - {p["name"] for p in f["params"] if p["kind"] == "out_string"}:
            raise ApiError(f"{f['name']}: \"capacity\" names a parameter that is no output buffer")
    consts = {c["name"] for c in api["constants"]}
    for f in api["functions"]:
        for p in f["params"]:
            if p.get("capacity") and p["capacity"] not in consts:
                raise ApiError(f"{f['name']}: capacity {p['capacity']} is not a constant of parley.h")
    flags = set(notes.get("flag_enums", []))
    prefixes = notes.get("enum_prefixes", {})
    enums = {e["name"] for e in api["enums"]}
    if (flags | set(prefixes)) - enums:
        raise ApiError("bindings/api-annotations.json: flag_enums or enum_prefixes name unknown enums "
                       f"{sorted((flags | set(prefixes)) - enums)}")
    for e in api["enums"]:
        e["flags"] = e["name"] in flags
        # The name without its prefix, for the bindings' own enums.
        e["prefix"] = prefixes.get(e["name"], e["prefix"])
        for v in e["values"]:
            v["short"] = v["name"][len(e["prefix"]):] if v["name"].startswith(e["prefix"]) else \
                v["name"][len("PARLEY_"):]


def version_of(api):
    m = {x["name"]: x["value"] for x in api["macros"]}
    return {"major": m["PARLEY_VERSION_MAJOR"], "minor": m["PARLEY_VERSION_MINOR"],
            "patch": m["PARLEY_VERSION_PATCH"], "string": m["PARLEY_VERSION_STRING"]}


def generate(ci):
    src = open(HEADER, encoding="utf-8").read().split("\n")
    api = collect(ci, parse(ci), src)
    with open(ANNOTATIONS, encoding="utf-8") as f:
        apply_annotations(api, json.load(f))
    out = {"generated_by": "scripts/gen-api.py from include/parley.h and bindings/api-annotations.json; "
                           "do not edit: run `make api`",
           "version": version_of(api)}
    out.update(api)
    return dump(out) + "\n"


def dump(value, indent=""):
    """JSON with one line per leaf object (a parameter, an enum value), so that
    a change to the API shows as a readable diff."""
    flat = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, (dict, list)) or (
            isinstance(value, dict) and not any(isinstance(v, (dict, list)) and v for v in value.values())
            and len(flat) < 160) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return flat
    inner = indent + " "
    if isinstance(value, list):
        return "[\n" + ",\n".join(inner + dump(v, inner) for v in value) + "\n" + indent + "]"
    items = [inner + json.dumps(k) + ": " + dump(v, inner) for k, v in value.items()]
    return "{\n" + ",\n".join(items) + "\n" + indent + "}"


def exported_functions(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True, capture_output=True, text=True).stdout
    return {l.split()[-1].split("@")[0] for l in out.splitlines() if " T " in l}


def check_library(text, lib):
    described = {f["name"] for f in json.loads(text)["functions"]}
    exported = {s for s in exported_functions(lib) if s.startswith("parley_")}
    missing, extra = sorted(described - exported), sorted(exported - described)
    if missing or extra:
        raise ApiError(f"{lib} and parley.h disagree: not exported {missing}, exported but not "
                       f"declared {extra}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with bindings/api.json, write nothing")
    ap.add_argument("--lib", help="libparley.so whose exported functions must be exactly the described ones")
    args = ap.parse_args()
    ci = load_clang()
    if ci is None:
        print("skipped: Python's clang module is missing (Debian: python3-clang; make deps installs it)")
        return 77
    try:
        text = generate(ci)
        if args.lib:
            check_library(text, args.lib)
    except ApiError as e:
        print(f"gen-api: {e}", file=sys.stderr)
        return 1
    if args.check:
        old = open(OUTPUT, encoding="utf-8").read() if os.path.exists(OUTPUT) else ""
        if old != text:
            import difflib
            diff = difflib.unified_diff(old.splitlines(), text.splitlines(), "bindings/api.json (checked in)",
                                        "from include/parley.h", lineterm="", n=2)
            sys.stderr.write("\n".join(list(diff)[:80]) + "\n")
            print("gen-api: bindings/api.json is out of date with include/parley.h: run `make api` "
                  "(scripts/gen-api.py, then scripts/gen-bindings.py) and commit the result", file=sys.stderr)
            return 1
        print(f"bindings/api.json matches include/parley.h ({len(json.loads(text)['functions'])} functions)")
        return 0
    with open(OUTPUT, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {os.path.relpath(OUTPUT, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
