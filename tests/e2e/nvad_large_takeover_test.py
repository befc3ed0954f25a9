#!/usr/bin/python3
"""A takeover with a large store (issue 18): reading 70,000 bindings from etcd
takes the new leader longer than its lease (2 s). It must renew the lease
while it reads (between pages), not lose it to its own read: before that
fix it was deposed as soon as it had read the store, elected again, read
again, and never served.

  1. One etcd member; nvad-1 (lease 2 s) with 70,000 bindings registered
     through the protocol by tests/tools/nvad_load (8 simulated NVEs).
  2. nvad-1 SIGKILLed; nvad-2 takes over, reads every binding, serves, and
     still leads 5 s later with one election won and no leadership lost.

Every process is stopped by PID on every path.
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from etcd_support import Etcd, free_port, main as run_test, nvad_json, wait_until, write_key_file  # noqa: E402

NVAD = "127.0.0.51"
BINDINGS = 70000


def run(args, tmp, procs, res):
    def path(name):
        return os.path.join(tmp, name)

    def cluster(i):
        return nvad_json(args.nvectl, path("nvad%d.sock" % i), "show", "cluster") or {}

    etcd = Etcd(procs, tmp, members=1)
    if not res.check("etcd", etcd.start_all(), "one member at %s" % etcd.endpoint(0)):
        return
    key = os.urandom(32).hex()
    port = free_port(socket.SOCK_DGRAM)
    write_key_file(path("nvad.keys"), ["127.0.1.%d" % i for i in range(1, 9)], key)
    write_key_file(path("nve.keys"), [NVAD], key)
    with open(path("nvad.yaml"), "w") as f:
        f.write("listen: {addresses: [%s], port: %d}\nkey_file: %s\nmax_bindings: %d\n"
                "store: {backend: etcd, etcd: {endpoints: [%s], timeout: 2s}}\n"
                "cluster: {lease_ttl: 2s}\nlog: {level: info}\n" % (NVAD, port, path("nvad.keys"),
                                                                     BINDINGS + 100, etcd.endpoint(0)))

    procs.start("nvad-1", [args.nvad, "-c", path("nvad.yaml"), "--ctl-socket", path("nvad1.sock")])
    if not res.check("nvad-1", wait_until(lambda: cluster(1).get("serving"), 15), "elected and serving"):
        return
    load = subprocess.run([args.nvad_load, "--nvad", NVAD, "--port", str(port), "--keys", path("nve.keys"),
                           "--nve-base", "127.0.1.1", "--nves", "8", "--vms", str(BINDINGS)],
                          capture_output=True, text=True, timeout=120)
    res.check("registered", load.returncode == 0, load.stdout.splitlines()[0] if load.stdout else load.stderr.strip())

    procs.stop("nvad-1", signal.SIGKILL)
    t_kill = time.monotonic()
    procs.start("nvad-2", [args.nvad, "-c", path("nvad.yaml"), "--ctl-socket", path("nvad2.sock")])
    serving = wait_until(lambda: cluster(2).get("serving"), 30)
    t_serving = time.monotonic()
    time.sleep(5)
    status = cluster(2)
    with open(path("nvad-2.log"), errors="replace") as f:
        lines = [line.strip() for line in f if "cluster:" in line or "serving: read" in line]
    res.check("takeover", serving is True and status.get("role") == "leader" and status.get("serving") is True
              and status.get("elections_won") == 1 and status.get("leadership_lost") == 0,
              "nvad-2 serving %.1f s after the kill and still leading 5 s later (elections won %s, lost %s): %s" % (
                  t_serving - t_kill, status.get("elections_won"), status.get("leadership_lost"), lines[-3:]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for a in ("--nvad", "--nvectl", "--nvad-load"):
        ap.add_argument(a, required=True)
    args = ap.parse_args()
    return run_test(lambda tmp, procs, res: run(args, tmp, procs, res), "nvbig-", show_logs=("nvad-2", "etcd-m0"))


if __name__ == "__main__":
    sys.exit(main())
