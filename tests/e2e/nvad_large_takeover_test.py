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
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

NVAD = "127.0.0.51"
BINDINGS = 70000
T0 = time.monotonic()


def log(msg):
    print("[%7.2fs] %s" % (time.monotonic() - T0, msg), flush=True)


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(f, timeout, step=0.1):
    end = time.monotonic() + timeout
    while True:
        v = f()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for a in ("--nvad", "--nvectl", "--nvad-load"):
        ap.add_argument(a, required=True)
    args = ap.parse_args()
    if not shutil.which("etcd") or not shutil.which("etcdctl"):
        print("etcd is not installed (scripts/setup.sh installs etcd-server and etcd-client)")
        return 1
    tmp = tempfile.mkdtemp(prefix="nvbig-")
    procs = {}
    results = []

    def path(name):
        return os.path.join(tmp, name)

    def start(name, argv):
        procs[name] = subprocess.Popen(argv, stdout=open(path(name + ".log"), "ab"), stderr=subprocess.STDOUT)

    def stop(name, sig=signal.SIGTERM):
        p = procs.pop(name, None)
        if p and p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def check(name, ok, detail):
        log("%s %s: %s" % ("PASS" if ok else "FAIL", name, detail))
        results.append(ok)
        return ok

    def cluster(i):
        r = subprocess.run([args.nvectl, "-d", "nvad", "-s", path("nvad%d.sock" % i), "--json", "show", "cluster"],
                           capture_output=True, text=True, timeout=30)
        try:
            return json.loads(r.stdout) if r.returncode == 0 else {}
        except ValueError:
            return {}

    try:
        client, peer = free_port(), free_port()
        endpoint = "http://127.0.0.1:%d" % client
        start("etcd", ["etcd", "--name", "b0", "--data-dir", path("etcd"), "--listen-client-urls", endpoint,
                       "--advertise-client-urls", endpoint, "--listen-peer-urls", "http://127.0.0.1:%d" % peer,
                       "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % peer,
                       "--initial-cluster", "b0=http://127.0.0.1:%d" % peer, "--log-level", "warn"])
        healthy = wait_until(lambda: subprocess.run(["etcdctl", "--endpoints", endpoint, "endpoint", "health"],
                                                    env=dict(os.environ, ETCDCTL_API="3"),
                                                    capture_output=True).returncode == 0, 20)
        if not check("etcd", healthy, "one member at %s" % endpoint):
            return 1
        key = os.urandom(32).hex()
        port = free_port(socket.SOCK_DGRAM)
        for name, peers in (("nvad.keys", ["127.0.1.%d" % i for i in range(1, 9)]), ("nve.keys", [NVAD])):
            fd = os.open(path(name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.writelines("%s 1 %s\n" % (p, key) for p in peers)
        with open(path("nvad.yaml"), "w") as f:
            f.write("listen: {addresses: [%s], port: %d}\nkey_file: %s\nmax_bindings: %d\n"
                    "store: {backend: etcd, etcd: {endpoints: [%s], timeout: 2s}}\n"
                    "cluster: {lease_ttl: 2s}\nlog: {level: info}\n" % (NVAD, port, path("nvad.keys"),
                                                                         BINDINGS + 100, endpoint))

        start("nvad-1", [args.nvad, "-c", path("nvad.yaml"), "--ctl-socket", path("nvad1.sock")])
        if not check("nvad-1", wait_until(lambda: cluster(1).get("serving"), 15), "elected and serving"):
            return 1
        load = subprocess.run([args.nvad_load, "--nvad", NVAD, "--port", str(port), "--keys", path("nve.keys"),
                               "--nve-base", "127.0.1.1", "--nves", "8", "--vms", str(BINDINGS)],
                              capture_output=True, text=True, timeout=120)
        check("registered", load.returncode == 0, load.stdout.splitlines()[0] if load.stdout else load.stderr.strip())

        stop("nvad-1", signal.SIGKILL)
        t_kill = time.monotonic()
        start("nvad-2", [args.nvad, "-c", path("nvad.yaml"), "--ctl-socket", path("nvad2.sock")])
        serving = wait_until(lambda: cluster(2).get("serving"), 30)
        t_serving = time.monotonic()
        time.sleep(5)
        status = cluster(2)
        with open(path("nvad-2.log"), errors="replace") as f:
            lines = [l.strip() for l in f if "cluster:" in l or "serving: read" in l]
        check("takeover", serving is True and status.get("role") == "leader" and status.get("serving") is True
              and status.get("elections_won") == 1 and status.get("leadership_lost") == 0,
              "nvad-2 serving %.1f s after the kill and still leading 5 s later (elections won %s, lost %s): %s" % (
                  t_serving - t_kill, status.get("elections_won"), status.get("leadership_lost"), lines[-3:]))
    except Exception as e:  # a broken step is a failure, never a hang or a stray process
        check("run", False, "%s: %s" % (type(e).__name__, e))
    finally:
        for name in list(procs):
            stop(name)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
