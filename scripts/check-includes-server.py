#!/usr/bin/env python3
"""The reference server's include graph (examples/server): no cycles, no
upward dependency, the third-party headers only where they belong, and
every source file in sources.cmake.

A module is a file stem: foo.c and foo.h are the module "foo", and foo.c
including bar.h is the dependency foo -> bar. Every module sits in a layer
of LAYERS below; a module may include its own layer or a lower one, never a
higher one, and the graph of modules must have no cycle. A module the table
does not name is an error too, so a new file gets a place on purpose.

    scripts/check-includes-server.py [--report] [DIR]

--report prints the module graph's cycles (elementary, between distinct
modules) and the layer violations without failing: the figures of a change
of layout. Exit status 0 when clean, 1 otherwise.
"""
import os
import re
import sys

# Lowest first. The server's picture of itself (README.md, "Layout").
LAYERS = [
    # Utilities: no database, no connections, no state of their own.
    # With them, the pure parts of triage and routing (docs/routing.md):
    # conditions on a user's context, the --routing file, office hours in a
    # team's time zone (our own TZif reader), the wait estimate, proactive
    # pacing, and the JSON positions their loaders' errors name.
    ("utilities", ["util", "json", "anonid", "abuse", "auth", "secrets", "blocks",
                   "survey_def", "filetypes", "redact", "server", "jpos", "tz", "hours", "cond",
                   "rules", "waitest", "pacer",
                   # the agent workspace's rules and arithmetic (docs/agent-console.md)
                   "pwhash", "pwworker", "websession", "login_limit", "account", "timeline",
                   "sla_policy", "metrics_agg", "console_files", "presence_tab"]),
    # Every SQL statement, behind one backend-neutral interface (store.h);
    # store_sql.h is what the store's files share, over two drivers
    # (store_sqlite, store_pg). The attachments' bytes on disk, by content
    # hash (blobs).
    ("storage", ["store", "store_sql", "store_sqlite", "store_pg", "store_db", "store_migrate",
                 "store_users", "store_convs",
                 "store_context", "store_surveys", "store_kb", "store_agents", "store_routing",
                 "store_attach", "store_push", "blobs"]),
    # What the bot knows: the knowledge base (indexed by the store) and the
    # flow that answers from it.
    ("content", ["kb", "flow"]),
    # The wire: every server -> client frame.
    ("wire", ["wire"]),
    # The transports: WebSocket (with its output queue and paged replay)
    # and HTTP (with files streamed to disk). They dispatch through tables
    # the server holds, so they name no handler. The webhooks' client. The
    # fan-out between instances over Redis (delivers to ws and agent_ws).
    ("transport", ["outq", "replay", "ws", "http", "http_files", "agent_ws", "webhook",
                   "fanout"]),
    # What the server does, whoever asked: deliveries to a user's
    # connections, the user's context, identities, the bot, the agents'
    # operations, surveys, proactive messages and their triggers,
    # attachments and push notifications.
    ("services", ["deliver", "userctx", "identity", "triage", "bot", "agent", "survey",
                  "proactive", "triggers", "console", "agents", "sla", "metrics",
                  "metrics_csv", "presence", "conv_priority", "attach", "push"]),
    # Handlers: one file per family of client frames and of HTTP routes, and
    # what the routes share to read a query (api_query).
    ("handlers", ["frame_session", "frame_chat", "frame_context", "frame_receipts",
                  "frame_requests", "frame_surveys", "frame_attach", "frame_push",
                  "api_conversations", "api_agent", "api_surveys", "api_console",
                  "api_attachments", "api_push", "api_admin", "api_query"]),
    # The tables that register them, and the program.
    ("tables", ["frame_table", "api_routes"]),
    ("main", ["main", "banner", "evloop", "groupcommit"]),
]

# Third-party headers and the only modules that may include them.
CONFINED = {
    # Only the drivers see their engine (the knowledge base's in-memory
    # full-text index is SQLite's whatever the store).
    "sqlite3.h": {"store_sqlite", "store_kb"},
    "libpq-fe.h": {"store_pg"},
    "libwebsockets.h": {"ws", "http", "outq", "main", "agent_ws", "webhook", "evloop",
                        "groupcommit", "fanout"},
    "lws_config.h": {"main", "evloop", "fanout"},
    "hiredis/hiredis.h": {"fanout"},
    "hiredis/async.h": {"fanout"},
    "hiredis/adapters/libuv.h": {"fanout"},
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def read_includes(path):
    with open(path, encoding="utf-8") as f:
        return INCLUDE.findall(f.read())


def load(root):
    """{module: set(local modules it includes)}, {module: set(system headers)}."""
    deps, system = {}, {}
    for name in sorted(os.listdir(root)):
        stem, ext = os.path.splitext(name)
        if ext not in (".c", ".h"):
            continue
        deps.setdefault(stem, set())
        system.setdefault(stem, set())
        for kind, inc in read_includes(os.path.join(root, name)):
            if kind == '"':
                other = os.path.splitext(os.path.basename(inc))[0]
                if other != stem:
                    deps[stem].add(other)
            else:
                system[stem].add(inc)
    return deps, system


def cycles(deps, limit=10000):
    """The elementary cycles of the graph (each once, from its least node)."""
    found = []
    nodes = sorted(deps)
    for start in nodes:
        stack = [(start, iter(sorted(d for d in deps[start] if d in deps and d > start)))]
        path = [start]
        on_path = {start}
        while stack and len(found) < limit:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                on_path.discard(path.pop())
                continue
            if nxt in on_path:
                continue
            path.append(nxt)
            on_path.add(nxt)
            stack.append((nxt, iter(sorted(d for d in deps[nxt] if d in deps and d > start))))
            if start in deps[nxt]:
                found.append(list(path))
        # edges back to start are checked when a node is pushed; also a
        # direct two-node loop start -> n -> start is covered there.
    return found


def layer_of():
    table = {}
    for rank, (_, mods) in enumerate(LAYERS):
        for m in mods:
            table[m] = rank
    return table


def problems(deps, system):
    rank = layer_of()
    out = []
    for mod in sorted(deps):
        if mod not in rank:
            out.append(f"{mod}: not in the layer table of {os.path.basename(__file__)}")
            continue
        for dep in sorted(deps[mod]):
            if dep not in deps:
                continue  # a header of another directory (lib/, the tests)
            if dep in rank and rank[dep] > rank[mod]:
                out.append(f"{mod} ({LAYERS[rank[mod]][0]}) includes {dep} "
                           f"({LAYERS[rank[dep]][0]}): an upward dependency")
        for inc in sorted(system[mod]):
            allowed = CONFINED.get(os.path.basename(inc))
            if allowed is not None and mod not in allowed:
                out.append(f"{mod} includes <{inc}>, which only {', '.join(sorted(allowed))} may")
    return out


def unlisted(root):
    """The .c files sources.cmake does not build (main.c is the program's)."""
    path = os.path.join(root, "sources.cmake")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        listed = set(re.findall(r"[\w.]+\.c\b", f.read()))
    return [f"{n}: not in sources.cmake" for n in sorted(os.listdir(root))
            if n.endswith(".c") and n != "main.c" and n not in listed]


def main(argv):
    report = "--report" in argv
    args = [a for a in argv if a != "--report"]
    root = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                             "..", "examples", "server")
    deps, system = load(root)
    loops = cycles(deps)
    bad = problems(deps, system) + unlisted(root)
    for loop in loops:
        print("cycle: " + " -> ".join(loop + [loop[0]]))
    for p in bad:
        print(p)
    print(f"{len(deps)} modules, {sum(len(d) for d in deps.values())} dependencies, "
          f"{len(loops)} include cycles, {len(bad)} layering problems")
    if report:
        return 0
    return 1 if loops or bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
