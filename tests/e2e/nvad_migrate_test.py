#!/usr/bin/python3
"""nvad-migrate end to end (issue 18): a SQLite store made by a real nvad is
copied into a real etcd, and an nvad on etcd serves what was copied.

  1. nvad on SQLite; 20 VMs registered through the protocol (nve_register);
     one of them moved to a second NVE, so a previous NVE with its
     notification state is in the store; nvad stopped (SIGTERM).
  2. nvad-migrate --sqlite ... --etcd ...: exit 0, 20 binding keys and the
     peers' keys under the prefix.
  3. Run again: refused (exit 1), the prefix already holds bindings; a
     store that does not exist: refused (exit 1), nothing created; bad
     arguments: exit 2.
  4. nvad on etcd at that prefix: elected, serves the 20 bindings, the moved
     VM with its serving NVE and its previous NVE; a refresh of one VM from
     its NVE is accepted (its sequence state came across too).

A single etcd member on loopback is enough here (tests/e2e/nvad_cluster_test.py
runs three). Every process is stopped by PID on every path.
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

NVAD = "127.0.0.31"
NVE_A, NVE_B = "127.0.0.32", "127.0.0.33"
KEY = "cd" * 32
VMS = 20
T0 = time.monotonic()


def log(msg):
    print("[%7.2fs] %s" % (time.monotonic() - T0, msg), flush=True)


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(f, timeout, step=0.05):
    end = time.monotonic() + timeout
    while True:
        v = f()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


class Test:
    def __init__(self, args, tmp):
        self.args, self.tmp = args, tmp
        self.procs = {}
        self.passed = self.failed = 0
        self.port = free_port(socket.SOCK_DGRAM)
        self.etcd_client, self.etcd_peer = free_port(), free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.etcd_client
        self.prefix = "/migrated-%d/nvad/" % os.getpid()
        self.db = os.path.join(tmp, "nvad.db")

    def path(self, name):
        return os.path.join(self.tmp, name)

    def check(self, name, ok, detail):
        log("%s %s: %s" % ("PASS" if ok else "FAIL", name, detail))
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok

    def start(self, name, argv):
        out = open(self.path(name + ".log"), "ab")
        self.procs[name] = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)

    def stop(self, name, sig=signal.SIGTERM):
        p = self.procs.pop(name, None)
        if p and p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode if p else None

    def stop_all(self):
        for name in list(self.procs):
            self.stop(name)

    def write_files(self):
        for name, peers in (("nvad.keys", [NVE_A, NVE_B]), ("nve.keys", [NVAD])):
            fd = os.open(self.path(name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.writelines("%s 1 %s\n" % (p, KEY) for p in peers)
        base = "listen: {addresses: [%s], port: %d}\nkey_file: %s\n" % (NVAD, self.port, self.path("nvad.keys"))
        with open(self.path("sqlite.yaml"), "w") as f:
            f.write(base + "db_path: %s\n" % self.db)
        with open(self.path("etcd.yaml"), "w") as f:
            f.write(base + "store:\n  backend: etcd\n  etcd: {endpoints: [%s], prefix: \"%s\"}\n"
                    "cluster: {name: migrated, lease_ttl: 2s}\n" % (self.endpoint, self.prefix))

    def start_etcd(self):
        self.start("etcd", ["etcd", "--name", "m0", "--data-dir", self.path("etcd"),
                            "--listen-client-urls", self.endpoint, "--advertise-client-urls", self.endpoint,
                            "--listen-peer-urls", "http://127.0.0.1:%d" % self.etcd_peer,
                            "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % self.etcd_peer,
                            "--initial-cluster", "m0=http://127.0.0.1:%d" % self.etcd_peer,
                            "--log-level", "warn"])
        return wait_until(lambda: self.etcdctl("endpoint", "health").returncode == 0, 20)

    def etcdctl(self, *words):
        return subprocess.run(["etcdctl", "--endpoints", self.endpoint] + list(words),
                              env=dict(os.environ, ETCDCTL_API="3"), capture_output=True, text=True, timeout=10)

    def start_nvad(self, config):
        sock = self.path("nvad.sock")
        self.start("nvad", [self.args.nvad, "-c", self.path(config), "--ctl-socket", sock])
        return sock

    def nvad(self, *words):
        r = subprocess.run([self.args.nvectl, "-d", "nvad", "-s", self.path("nvad.sock"), "--json"] + list(words),
                           capture_output=True, text=True, timeout=30)
        try:
            return json.loads(r.stdout) if r.returncode == 0 else None
        except ValueError:
            return None

    def register(self, nve, vm=None, count=None):
        """Through the protocol, as an NVE's agent would: VMs vm-0..vm-(count-1)
        (MACs and addresses counted up from the base), or the one VM vm-<vm>."""
        argv = [self.args.nve_register, "--nvad", NVAD, "--port", str(self.port), "--from", nve,
                "--keys", self.path("nve.keys"), "--endpoint", nve, "--seq-file", self.path(nve + ".seq")]
        if count:
            argv += ["--vm", "vm", "--mac", "02:00:00:00:10:00", "--addr", "10.1.0.1", "--count", str(count)]
        else:
            argv += ["--vm", "vm-%d" % vm, "--mac", "02:00:00:00:10:%02x" % vm, "--addr", "10.1.0.%d" % (1 + vm)]
        return subprocess.run(argv, capture_output=True, text=True, timeout=30)

    def migrate(self, *extra):
        return subprocess.run([self.args.nvad_migrate] + list(extra), capture_output=True, text=True, timeout=60)


def run(t):
    t.write_files()
    if not t.check("etcd", t.start_etcd(), "one member at %s" % t.endpoint):
        return

    # 1. A SQLite store made by a real nvad.
    t.start_nvad("sqlite.yaml")
    if not t.check("nvad on sqlite", wait_until(lambda: t.nvad("show", "version"), 10), "started"):
        return
    r = t.register(NVE_A, count=VMS)
    moved = t.register(NVE_B, vm=5)  # vm-5 moves to B: A becomes its previous NVE
    before = t.nvad("show", "bindings") or []
    t.check("registered", r.returncode == 0 and moved.returncode == 0 and len(before) == VMS,
            "%s; move of vm-5: %s; %d bindings" % (r.stdout.strip(), moved.stdout.strip(), len(before)))
    t.stop("nvad")

    # 2. Copied.
    m = t.migrate("--sqlite", t.db, "--etcd", t.endpoint, "--prefix", t.prefix)
    keys = t.etcdctl("get", "--prefix", t.prefix, "--keys-only").stdout.split()
    bindings = [k for k in keys if k.startswith(t.prefix + "bindings/")]
    peers = [k for k in keys if k.startswith(t.prefix + "peers/")]
    t.check("migrate", m.returncode == 0 and len(bindings) == VMS and len(peers) == 2,
            "exit %d (%s); %d binding keys, %d peer keys under %s" % (
                m.returncode, (m.stdout + m.stderr).strip(), len(bindings), len(peers), t.prefix))

    # 3. Refusals.
    again = t.migrate("--sqlite", t.db, "--etcd", t.endpoint, "--prefix", t.prefix)
    missing = t.migrate("--sqlite", t.path("no.db"), "--etcd", t.endpoint, "--prefix", "/other/")
    bad = t.migrate("--sqlite", t.db, "--etcd", t.endpoint, "--prefix", "/no-slash")
    t.check("refusals", again.returncode == 1 and "already holds" in again.stderr and missing.returncode == 1
            and not os.path.exists(t.path("no.db")) and bad.returncode == 2,
            "again: exit %d (%s); missing store: exit %d (%s); bad prefix: exit %d" % (
                again.returncode, again.stderr.strip()[:90], missing.returncode, missing.stderr.strip(),
                bad.returncode))

    # 4. Served from etcd.
    t.start_nvad("etcd.yaml")
    led = wait_until(lambda: (t.nvad("show", "cluster") or {}).get("serving"), 15)
    after = {b.get("vm_id"): b for b in (t.nvad("show", "bindings") or [])}
    vm5 = after.get("vm-5", {})
    previous = [p.get("address") for p in vm5.get("previous_nves", [])]
    t.check("served", led is True and len(after) == VMS and vm5.get("serving_nve", {}).get("address") == NVE_B
            and NVE_A in previous,
            "nvad on etcd serving: %s; %d bindings; vm-5 served by %s, previous %s" % (
                led, len(after), vm5.get("serving_nve", {}).get("address"), previous))
    refresh = t.register(NVE_A, vm=3)
    t.check("refresh", refresh.returncode == 0, "vm-3 refreshed from %s: %s" % (NVE_A, refresh.stdout.strip()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for a in ("--nvad", "--nvectl", "--nvad-migrate", "--nve-register"):
        ap.add_argument(a, required=True)
    args = ap.parse_args()
    if not shutil.which("etcd") or not shutil.which("etcdctl"):
        print("etcd is not installed (scripts/setup.sh installs etcd-server and etcd-client)")
        return 1
    tmp = tempfile.mkdtemp(prefix="nvmigrate-")
    t = Test(args, tmp)
    try:
        run(t)
    except Exception as e:  # a broken step is a failure, never a hang or a stray process
        t.check("run", False, "%s: %s" % (type(e).__name__, e))
    finally:
        t.stop_all()
        if t.failed:
            for name in ("nvad", "etcd"):
                try:
                    with open(t.path(name + ".log"), errors="replace") as f:
                        log("%s log tail:\n%s" % (name, "".join(f.readlines()[-10:])))
                except OSError:
                    pass
        shutil.rmtree(tmp, ignore_errors=True)
    log("%d passed, %d failed" % (t.passed, t.failed))
    return 0 if t.failed == 0 and t.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
