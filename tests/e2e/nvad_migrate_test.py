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
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from etcd_support import Etcd, free_port, main as run_test, nvad_json, wait_until, write_key_file  # noqa: E402

NVAD = "127.0.0.31"
NVE_A, NVE_B = "127.0.0.32", "127.0.0.33"
KEY = "cd" * 32
VMS = 20


class Test:
    def __init__(self, args, tmp, procs, res):
        self.args, self.tmp = args, tmp
        self.start, self.stop, self.check = procs.start, procs.stop, res.check
        self.etcd = Etcd(procs, tmp, members=1)
        self.endpoint = self.etcd.endpoint(0)
        self.port = free_port(socket.SOCK_DGRAM)
        self.prefix = "/migrated-%d/nvad/" % os.getpid()
        self.db = os.path.join(tmp, "nvad.db")

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write_files(self):
        write_key_file(self.path("nvad.keys"), [NVE_A, NVE_B], KEY)
        write_key_file(self.path("nve.keys"), [NVAD], KEY)
        base = "listen: {addresses: [%s], port: %d}\nkey_file: %s\n" % (NVAD, self.port, self.path("nvad.keys"))
        with open(self.path("sqlite.yaml"), "w") as f:
            f.write(base + "db_path: %s\n" % self.db)
        with open(self.path("etcd.yaml"), "w") as f:
            f.write(base + "store:\n  backend: etcd\n  etcd: {endpoints: [%s], prefix: \"%s\"}\n"
                    "cluster: {name: migrated, lease_ttl: 2s}\n" % (self.endpoint, self.prefix))

    def start_nvad(self, config):
        sock = self.path("nvad.sock")
        self.start("nvad", [self.args.nvad, "-c", self.path(config), "--ctl-socket", sock])
        return sock

    def nvad(self, *words):
        return nvad_json(self.args.nvectl, self.path("nvad.sock"), *words)

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
    if not t.check("etcd", t.etcd.start_all(), "one member at %s" % t.endpoint):
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
    keys = t.etcd.keys(t.prefix)
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
    return run_test(lambda tmp, procs, res: run(Test(args, tmp, procs, res)), "nvmigrate-",
                    show_logs=("nvad", "etcd-m0"))


if __name__ == "__main__":
    sys.exit(main())
