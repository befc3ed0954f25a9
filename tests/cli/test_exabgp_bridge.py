#!/usr/bin/python3
"""nvmove-exabgp on its own: the bridge between nvad's export socket and
ExaBGP (control/exabgp_bridge/main.cc), with this script as both ends: a
UNIX socket standing for nvad, and pipes standing for ExaBGP.

  relay          commands from "nvad" reach ExaBGP's side in order; ExaBGP's
                 answers ("done", "error") go back to nvad, one per command
  resync         nvad reconnects (it restarted) with a different set: the
                 bridge withdraws what is no longer in it (prefix and next hop,
                 as nvad words a withdrawal) and keeps the rest; the answers to its
                 own withdraws are not forwarded to nvad
  nvad away      while nvad is gone the bridge keeps running (and keeps its
                 routes announced); it connects again when nvad comes back
  exabgp gone    when ExaBGP closes the bridge's stdin it exits 0

Usage: /usr/bin/python3 tests/cli/test_exabgp_bridge.py --bridge build/control/exabgp_bridge/nvmove-exabgp
Prints PASS/FAIL per check and "N passed, M failed"; exits 1 on a failure.
"""

import argparse
import os
import select
import socket
import subprocess
import sys
import tempfile
import time

A1 = "announce route 10.0.0.5/32 next-hop 192.0.2.2 origin igp community [65001:100]"
A2 = "announce route 10.0.0.6/32 next-hop 192.0.2.2 origin igp community [65001:100]"
A3 = "announce route 10.0.0.7/32 next-hop 192.0.2.3 origin igp"


class Lines:
    """Line reader over a socket or a pipe, with a timeout per line."""

    def __init__(self, fd):
        self.fd, self.buf = fd, b""

    def read(self, timeout=3.0):
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bridge", required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="nvbridge_")
    path = os.path.join(tmp, "export.sock")
    results = {"passed": 0, "failed": 0}

    def check(name, ok, detail):
        results["passed" if ok else "failed"] += 1
        print("%s %s: %s" % ("PASS" if ok else "FAIL", name, detail), flush=True)

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    listener.settimeout(5)
    bridge = subprocess.Popen([args.bridge, "--socket", path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    exa_out = Lines(bridge.stdout.fileno())  # what ExaBGP would read

    def exabgp_says(line):
        bridge.stdin.write((line + "\n").encode())
        bridge.stdin.flush()

    try:
        # ---- relay -------------------------------------------------------------------
        conn, _ = listener.accept()
        nvad_in = Lines(conn.fileno())
        conn.sendall(("#sync begin\n%s\n%s\n#sync end\n%s\n" % (A1, A2, A3)).encode())
        got = [exa_out.read() for _ in range(3)]
        exabgp_says("done")
        exabgp_says("done")
        exabgp_says("error")
        answers = [nvad_in.read() for _ in range(3)]
        check("relay", got == [A1, A2, A3] and answers == ["done", "done", "error"],
              "ExaBGP got %r; nvad got answers %r" % (got, answers))

        # ---- resync ----------------------------------------------------------------------
        conn.close()
        conn, _ = listener.accept()  # the bridge reconnects (nvad restarted)
        nvad_in = Lines(conn.fileno())
        conn.sendall(("#sync begin\n%s\n#sync end\n" % A2).encode())
        got = [exa_out.read() for _ in range(3)]
        withdraws = sorted(g for g in got if g and g.startswith("withdraw"))
        want = sorted(["withdraw route 10.0.0.5/32 next-hop 192.0.2.2", "withdraw route 10.0.0.7/32 next-hop 192.0.2.3"])
        for _ in range(3):
            exabgp_says("done")
        forwarded = [nvad_in.read(timeout=0.5) for _ in range(2)]
        check("resync", got[0] == A2 and withdraws == want and forwarded == ["done", None],
              "after the new sync ExaBGP got %r (withdraws expected %r); nvad got %r (one answer: its own "
              "announce; the bridge's two withdraws are its own)" % (got, want, forwarded))

        # ---- nvad away ---------------------------------------------------------------------
        conn.close()
        time.sleep(1.0)
        alive = bridge.poll() is None
        conn, _ = listener.accept()  # back within its 2 s backoff
        conn.sendall(("#sync begin\n%s\n#sync end\n" % A2).encode())
        again = exa_out.read()
        check("nvad away", alive and again == A2,
              "bridge running while nvad was away: %s; after reconnecting ExaBGP got %r" % (alive, again))

        # ---- exabgp gone -------------------------------------------------------------------
        bridge.stdin.close()
        try:
            rc = bridge.wait(5)
        except subprocess.TimeoutExpired:
            rc = None
        check("exabgp gone", rc == 0, "exit status %r after its stdin closed" % rc)
        conn.close()
    except Exception as e:  # noqa: report, clean up
        check("error", False, repr(e))
    finally:
        if bridge.poll() is None:
            bridge.kill()
            bridge.wait(5)
        listener.close()
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)
    print("%d passed, %d failed" % (results["passed"], results["failed"]))
    return 0 if results["failed"] == 0 and results["passed"] == 4 else 1


if __name__ == "__main__":
    sys.exit(main())
