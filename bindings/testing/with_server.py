#!/usr/bin/env python3
"""with_server.py SERVER_BIN [--skip-unless PROGRAM]... -- COMMAND [ARGS...]

Runs COMMAND against a real parley-server, the way every binding's tests
and examples run in `make test`: a throw-away CA and a certificate for
localhost (scripts/gen-certs.sh), the server on a free loopback port over
TLS with a fresh database, then COMMAND with

    PARLEY_TEST_URL          wss://localhost:PORT
    PARLEY_TEST_CA           the CA's PEM file
    PARLEY_TEST_API          https://localhost:PORT/api (the agents' HTTP API)
    PARLEY_TEST_AGENT_TOKEN  its bearer token
    PARLEY_TEST_HMAC_SECRET  the server's --hmac-secret: an identified user
                             proves its id with hex HMAC-SHA256(secret, id)

in its environment (and PARLEY_URL, PARLEY_CA: what the examples read).
The server is stopped afterwards (and dies with this
process if that is killed); its log is printed when COMMAND fails. The exit
status is COMMAND's, or 77 (ctest's skip) with a message when a
--skip-unless PROGRAM is not installed.
"""
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GEN_CERTS = os.path.join(HERE, "..", "..", "scripts", "gen-certs.sh")
TOKEN = "bindings-agent-token"
HMAC_SECRET = "bindings-hmac-secret"
SKIP = 77


def die_with_parent():
    """In the server, between fork and exec: a test killed by its timeout
    must not leave a server behind."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start_server(server_bin, work):
    subprocess.run(["sh", GEN_CERTS, work, "test"], check=True)
    ready = os.path.join(work, "ready")
    log = open(os.path.join(work, "server.log"), "wb")
    proc = subprocess.Popen(
        [server_bin, "--port", "0", "--ready-file", ready,
         "--cert", os.path.join(work, "test-server.pem"), "--key", os.path.join(work, "test-server.key"),
         "--db", os.path.join(work, "server.db"), "--agent-token", TOKEN, "--hmac-secret", HMAC_SECRET],
        stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"parley-server exited with {proc.returncode} before it was ready")
        try:
            with open(ready) as f:
                port = int(f.read().split()[0])
            return proc, port
        except (OSError, ValueError, IndexError):
            time.sleep(0.02)
    proc.kill()
    raise RuntimeError("parley-server not ready after 20 s")


def stop_server(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv):
    if "--" not in argv or len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    sep = argv.index("--")
    opts, command = argv[1:sep], argv[sep + 1:]
    server_bin, needs = opts[0], []
    for i, o in enumerate(opts[1:], 1):
        if o == "--skip-unless":
            needs.append(opts[i + 1])
    for program in needs:
        if not shutil.which(program) and not os.path.exists(program):
            print(f"skipped: {program} is not installed (make deps installs it)")
            return SKIP
    work = tempfile.mkdtemp(prefix="parley-bindings-")
    proc = None
    # ctest's timeout sends SIGTERM first: stop the server on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        proc, port = start_server(server_bin, work)
        url, ca = f"wss://localhost:{port}", os.path.join(work, "test-ca.pem")
        env = dict(os.environ, PARLEY_TEST_URL=url, PARLEY_TEST_CA=ca, PARLEY_URL=url, PARLEY_CA=ca,
                   PARLEY_TEST_API=f"https://localhost:{port}/api",
                   PARLEY_TEST_AGENT_TOKEN=TOKEN, PARLEY_TEST_HMAC_SECRET=HMAC_SECRET)
        try:
            rc = subprocess.run(command, env=env).returncode
        except OSError as e:
            print(f"with_server.py: cannot run {command[0]}: {e}", file=sys.stderr)
            rc = 127
        if rc not in (0, SKIP):
            with open(os.path.join(work, "server.log"), errors="replace") as f:
                tail = f.read()[-4000:]
            print(f"---- parley-server log (end) ----\n{tail}---- end of server log ----", file=sys.stderr)
        return rc
    finally:
        if proc:
            stop_server(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
