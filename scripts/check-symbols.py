#!/usr/bin/env python3
"""The symbols of libparley's objects, checked.

    scripts/check-symbols.py [--nm NM] [--quiet] OBJECT...

Fails when an object defines a global symbol that is neither public
(`parley_`) nor internal (`pl_`), and when the objects call each other in
a cycle (A uses a symbol B defines, B one that A defines, possibly through
others): the link-level picture of the include rules that
scripts/check-layers.py checks. Prints the figures either way.
"""
import argparse
import os
import re
import subprocess
import sys

ALLOWED = re.compile(r"^(parley_|pl_)")
# What compilers and sanitizers add to objects on their own.
TOOLCHAIN = re.compile(r"^(__(asan|ubsan|sancov|tsan|odr_asan|start_|stop_)|\.|_GLOBAL_|__llvm)")


def symbols(nm, obj):
    out = subprocess.run([nm, "-P", obj], check=True, capture_output=True, text=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if TOOLCHAIN.match(name):
            continue
        if kind == "U":
            used.add(name)
        elif kind.isupper() and kind not in "N":
            defined.add(name)
    return defined, used


def short(obj):
    name = os.path.basename(obj)
    for ext in (".o", ".obj"):
        if name.endswith(ext):
            name = name[: -len(ext)]
    return name


def cycles(graph):
    """Groups of objects that reach each other (Tarjan)."""
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
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

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return comps


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nm", default="nm")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("objects", nargs="+")
    args = ap.parse_args()

    owner, uses, problems, n_defined = {}, {}, [], 0
    for obj in args.objects:
        defined, used = symbols(args.nm, obj)
        n = short(obj)
        uses[n] = used
        for sym in sorted(defined):
            n_defined += 1
            owner[sym] = n
            if not ALLOWED.match(sym):
                problems.append("%s defines %s: neither parley_ (public) nor pl_ (internal)" % (n, sym))

    graph = {n: {owner[s] for s in used if s in owner and owner[s] != n} for n, used in uses.items()}
    comps = cycles(graph)
    for comp in comps:
        problems.append("objects calling each other in a cycle: %s" % ", ".join(comp))

    if not args.quiet:
        public = sum(1 for s in owner if s.startswith("parley_"))
        internal = sum(1 for s in owner if s.startswith("pl_"))
        print("objects: %d, global symbols defined: %d (%d parley_, %d pl_, %d other), "
              "links between objects: %d, cycles: %d"
              % (len(uses), n_defined, public, internal, n_defined - public - internal,
                 sum(len(v) for v in graph.values()), len(comps)))
    for p in problems:
        print("error: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
