#!/usr/bin/env python3
"""The layers of lib/ (docs/architecture.md, "Layers"), checked.

Reads every `#include "..."` of lib/, and fails when
  - an include goes up against the layer table below, or sideways into a
    layer the including one may not use;
  - a module (X.c with its X.h, and X_internal.h when it has a private
    header for the files that implement it) is part of an include cycle;
  - a third-party header is included outside the layer that owns it
    (libwebsockets: the transport; cJSON: the codec);
  - a system header that is not the C standard library's (an OS header:
    unistd.h, pthread.h, windows.h, sys/...) is included outside
    platform/, the only layer that talks to the OS;
  - a file of lib/ belongs to no layer.
Prints the table and the include graph's figures either way.

    scripts/check-layers.py [--lib DIR] [--quiet]

Exit status 0 when the rules hold, 1 otherwise.
"""
import argparse
import fnmatch
import os
import re
import sys

# Top to bottom. Each layer may include itself and the layers it lists;
# `files` are glob patterns relative to lib/. The public header parley.h is
# outside lib/ and open to every layer.
LAYERS = [
    ("facade", ["client.*", "config.*", "disk.*", "errors.c", "version.c", "api_*.c"],
     "every layer: the host's calls, locks, I/O thread, event queue",
     ["feature", "session", "codec", "store", "model", "transport", "platform", "util"]),
    ("feature", ["feature/*"],
     "a feature's state and rules, plugged into the session as a module",
     ["session", "codec", "store", "model", "util"]),
    ("session", ["session/*"],
     "the parley.v1 engine, the outbox, the events it hands out",
     ["codec", "store", "model", "util"]),
    ("codec", ["codec/*"],
     "JSON <-> frames and model objects; the only reader and writer of wire JSON",
     ["model", "util"]),
    ("store", ["store/*"],
     "the journal and the host's storage behind it",
     ["platform", "util"]),
    ("model", ["model/*"],
     "the domain's types and their lifecycle; the wire limits",
     ["util"]),
    ("transport", ["transport/*"],
     "beside the rest: WebSocket over libwebsockets, TLS trust (mbedTLS)",
     ["model", "platform", "util"]),
    ("platform", ["platform/*"],
     "every call to the OS (files, clocks, threads, entropy, device, CA store); POSIX and Win32",
     ["util"]),
    ("util", ["util/*"],
     "allocation, logging, randomness (seeded by the caller), UTF-8",
     []),
]

# Third-party headers and the only layers that may include them.
OWNED_HEADERS = [
    (re.compile(r"libwebsockets\.h|lws_config\.h"), {"transport"}),
    (re.compile(r"cjson/"), {"codec"}),
]

# What any layer may include with <...>: the C standard library, and the
# third-party headers (subject to OWNED_HEADERS). Everything else is the
# OS's, for platform/ only.
C_STANDARD = {
    "assert.h", "complex.h", "ctype.h", "errno.h", "fenv.h", "float.h", "inttypes.h", "iso646.h",
    "limits.h", "locale.h", "math.h", "setjmp.h", "signal.h", "stdalign.h", "stdarg.h",
    "stdatomic.h", "stdbool.h", "stddef.h", "stdint.h", "stdio.h", "stdlib.h", "stdnoreturn.h",
    "string.h", "tgmath.h", "threads.h", "time.h", "uchar.h", "wchar.h", "wctype.h",
}
THIRD_PARTY = re.compile(r"^(mbedtls/|cjson/|libwebsockets\.h$|lws_config\.h$)")

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def layer_of(rel):
    for name, patterns, _, _ in LAYERS:
        if any(fnmatch.fnmatchcase(rel, p) for p in patterns):
            return name
    return None


def sources(lib):
    for root, _, files in os.walk(lib):
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                path = os.path.join(root, f)
                yield os.path.relpath(path, lib).replace(os.sep, "/")


def resolve(lib, rel, target):
    """The lib/-relative path an include names, or None (outside lib/)."""
    for base in (os.path.dirname(rel), ""):
        cand = os.path.normpath(os.path.join(base, target)).replace(os.sep, "/")
        if os.path.exists(os.path.join(lib, cand)):
            return cand
    return None


def module(rel):
    """X.c, X.h and X's private header X_internal.h are one module."""
    stem = os.path.splitext(rel)[0]
    return stem[: -len("_internal")] if stem.endswith("_internal") else stem


def cycles_of(graph):
    """Strongly connected components of more than one module (Tarjan), and
    the number of elementary cycles in them (Johnson's count, small graphs)."""
    index, low, stack, on, comps = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            strong(v)

    count = 0
    for comp in comps:
        nodes = sorted(comp)
        for i, start in enumerate(nodes):
            allowed = set(nodes[i:])
            path = [start]

            def walk(v):
                nonlocal count
                for w in graph.get(v, ()):
                    if w == start:
                        count += 1
                    elif w in allowed and w not in path:
                        path.append(w)
                        walk(w)
                        path.pop()

            walk(start)
    return comps, count


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lib", default=os.path.join(here, "..", "lib"))
    ap.add_argument("--quiet", action="store_true", help="print only problems")
    args = ap.parse_args()
    lib = os.path.normpath(args.lib)

    problems, graph, edges = [], {}, 0
    may = {name: set(allowed) | {name} for name, _, _, allowed in LAYERS}
    for rel in sources(lib):
        layer = layer_of(rel)
        if layer is None:
            problems.append("%s: in no layer (add it to the table in %s)" % (rel, os.path.basename(__file__)))
        graph.setdefault(module(rel), set())
        with open(os.path.join(lib, rel), encoding="utf-8") as f:
            text = f.read()
        for kind, target in INCLUDE.findall(text):
            if kind == "<":
                if layer != "platform" and target not in C_STANDARD and not THIRD_PARTY.search(target):
                    problems.append("%s: includes <%s>, an OS header: only platform/ may" % (rel, target))
                for pattern, owners in OWNED_HEADERS:
                    if layer and pattern.search(target) and layer not in owners:
                        problems.append("%s: includes <%s>, which only %s may" % (rel, target, "/".join(sorted(owners))))
                continue
            dep = resolve(lib, rel, target)
            if dep is None:
                continue  # parley.h, or a header of the tests
            dep_layer = layer_of(dep)
            if layer and dep_layer and dep_layer not in may[layer]:
                problems.append("%s (%s) includes %s (%s): against the layer table" % (rel, layer, dep, dep_layer))
            if module(dep) != module(rel):
                graph[module(rel)].add(module(dep))
                edges += 1

    comps, n_cycles = cycles_of(graph)
    for comp in comps:
        problems.append("include cycle among: %s" % ", ".join(comp))

    if not args.quiet:
        print("layers of lib/, top to bottom (each may include itself and what it lists):")
        for name, patterns, what, allowed in LAYERS:
            print("  %-9s %-44s -> %s" % (name, " ".join(patterns), ", ".join(allowed) or "-"))
            print("  %-9s   %s" % ("", what))
        print("modules: %d, include edges between them: %d, cycles: %d (in %d groups)"
              % (len(graph), edges, n_cycles, len(comps)))
    for p in problems:
        print("error: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
