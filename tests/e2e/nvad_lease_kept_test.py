#!/usr/bin/python3
"""The nvad leader cut off from etcd while etcd elects a new raft leader
(docs/nvad.md, "etcd itself busy electing"): three etcd members on loopback;
nvad-1 reaches them only through a TCP relay this script can cut; nvad-2
reaches them directly.

  1. nvad-1 leads, nvad-2 is a standby.
  2. The relay is cut just after nvad-1 renewed. While nvad-1 cannot renew,
     etcd's raft leadership is moved twice (etcdctl move-leader, at once and
     2 s later): each new raft leader extends every lease, so nvad-1's lease
     outlives nvad-1's own count of it. nvad-1
     becomes `unavailable` after its TTL; nvad-2 stays a standby (the leader
     key is still there).
  3. The relay is back: nvad-1 finds the leader key on the lease it kept,
     renews it and leads again within a campaign tick, and serves (a
     registration accepted). Before the lease was kept it followed its own
     key as a standby, and no nvad led until the lease expired.
  4. A leader key of another shape ({"name": 5}): the standby shows it and
     stays up (it once stopped on the name's type).

Every process is stopped by PID on every path. Exit 0 when every check passed.
"""
import argparse
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from etcd_support import Etcd, free_port, main as run_test, nvad_json, wait_until, write_key_file  # noqa: E402

NVADS = ["127.0.0.51", "127.0.0.52"]
NVE = "127.0.0.53"
KEY = "cd" * 32
LEASE_TTL_S = 3


class Relay:
    """A TCP relay from a loopback port to an etcd member that can be cut:
    cut() closes every connection and resets new ones at once (as a host
    that lost its route would see them fail), restore() relays again. The
    listener stays bound throughout, so nothing else can take its port;
    close() ends it."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.lock = threading.Lock()
        self.conns, self.refusing = [], False
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            with self.lock:
                refusing = self.refusing
            if refusing:
                reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=2)
                upstream.settimeout(None)  # the timeout was for the connect: an idle connection stays
            except OSError:
                reset(client)
                continue
            with self.lock:
                if self.refusing:  # cut meanwhile
                    reset(client)
                    reset(upstream)
                    continue
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    @staticmethod
    def pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self.lock:
            conns, self.conns, self.refusing = self.conns, [], True
        for s in conns:
            reset(s)

    def restore(self):
        with self.lock:
            self.refusing = False

    def close(self):
        self.cut()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()


def reset(s):
    """Closes `s` with a reset (SO_LINGER 0): the peer's next read fails."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()


def raft_leader(etcd):
    """(leader member id, [member ids]) from etcdctl endpoint status."""
    r = etcd.etcdctl("endpoint", "status", "-w", "json")
    rows = json.loads(r.stdout) if r.returncode == 0 else []
    ids = [row["Status"]["header"]["member_id"] for row in rows]
    leaders = {row["Status"]["leader"] for row in rows}
    return (leaders.pop() if len(leaders) == 1 else None), ids


def move_raft_leader(etcd):
    """Moves etcd's raft leadership to another member; the new leader's id."""
    leader, ids = raft_leader(etcd)
    target = next((i for i in ids if i != leader), None)
    if leader is None or target is None:
        return None
    r = etcd.etcdctl("move-leader", "%x" % target)
    return target if r.returncode == 0 else None


def run_with_relay(args, tmp, procs, res):
    """run(), its relay's listener and connections closed on every path."""
    etcd = Etcd(procs, tmp)
    if not res.check("etcd", etcd.start_all(), "three members healthy at %s" % ", ".join(etcd.endpoints())):
        return
    relay = Relay(etcd.members[0]["client"])
    try:
        run(args, tmp, procs, res, etcd, relay, prefix="/lease-kept-%d/nvad/" % os.getpid())
    finally:
        relay.close()


def run(args, tmp, procs, res, etcd, relay, prefix):
    path = lambda name: os.path.join(tmp, name)  # noqa: E731
    port = free_port(socket.SOCK_DGRAM)
    write_key_file(path("nvad.keys"), [NVE], KEY)
    write_key_file(path("nve.keys"), NVADS, KEY)
    endpoints = {1: ["http://127.0.0.1:%d" % relay.port], 2: etcd.endpoints()}
    for i, address in enumerate(NVADS, 1):
        with open(path("nvad%d.yaml" % i), "w") as f:
            f.write("listen: {addresses: [%s], port: %d}\nkey_file: %s\n"
                    "store:\n  backend: etcd\n  etcd: {endpoints: [%s], prefix: \"%s\", timeout: 500ms}\n"
                    "cluster: {name: nvad-%d, lease_ttl: %ds}\n" % (
                        address, port, path("nvad.keys"), ", ".join(endpoints[i]), prefix, i, LEASE_TTL_S))

    def start(i):
        procs.start("nvad-%d" % i, [args.nvad, "-c", path("nvad%d.yaml" % i), "--ctl-socket", path("nvad-%d.sock" % i)])

    def status(i):
        return nvad_json(args.nvectl, path("nvad-%d.sock" % i), "show", "cluster") or {}

    def role(i):
        return status(i).get("role")

    def register(vm, nvad):
        return subprocess.run([args.nve_register, "--nvad", nvad, "--port", str(port), "--from", NVE,
                               "--keys", path("nve.keys"), "--endpoint", NVE, "--vm", vm,
                               "--mac", "02:00:00:00:30:01", "--addr", "10.3.0.1"],
                              capture_output=True, text=True, timeout=30)

    # 1. nvad-1 leads, nvad-2 stands by.
    start(1)
    if not res.check("leader", wait_until(lambda: role(1) == "leader", 15) is True,
                     "nvad-1 elected through the relay (show cluster: %s)" % role(1)):
        return
    start(2)
    if not res.check("standby", wait_until(lambda: role(2) == "standby", 15) is True,
                     "nvad-2 is a standby (show cluster: %s)" % role(2)):
        return
    lease = status(1).get("lease_id")

    # 2. nvad-1 cut off just after it renewed its lease (etcd would expire
    # it LEASE_TTL_S later); etcd's raft leadership moved at once and again
    # 2 s later, each move extending the lease by its TTL and more.
    renewed = wait_until(lambda: status(1).get("lease_renewed_s_ago", 9) < 0.3, 3)
    if not res.check("renewed", renewed is True, "nvad-1 renewed its lease just now (show cluster: %.2f s ago)" % (
            status(1).get("lease_renewed_s_ago", -1))):
        return
    relay.cut()
    t_cut = time.monotonic()
    moves = []
    for at in (0.0, 2.0):
        time.sleep(max(0.0, t_cut + at - time.monotonic()))
        moves.append(move_raft_leader(etcd))
    unavailable = wait_until(lambda: role(1) == "unavailable", LEASE_TTL_S + 3)
    t_unavailable = time.monotonic()
    res.check("cut off", unavailable is True and all(moves) and role(2) == "standby",
              "nvad-1 unavailable %.1f s after the cut (lease %d s); raft leader moved to %s; nvad-2: %s" % (
                  t_unavailable - t_cut, LEASE_TTL_S, ", ".join("%x" % m for m in moves if m), role(2)))

    # 3. Back: nvad-1 leads again on the same lease, and serves.
    relay.restore()
    back = wait_until(lambda: role(1) == "leader", 3)
    t_back = time.monotonic()
    with open(path("nvad-1.log"), errors="replace") as f:
        resumed = "the leader key is on its lease" in f.read()
    with open(path("nvad-2.log"), errors="replace") as f:
        nvad2_led = "-> leader" in f.read()
    res.check("resumed", back is True and resumed and status(1).get("lease_id") == lease and not nvad2_led,
              "nvad-1 leads again %.1f s after the relay is back, lease %s kept (%s), nvad-2 never led" % (
                  t_back - t_unavailable, lease, status(1).get("lease_id")))
    r = wait_until(lambda: (lambda p: p if p.returncode == 0 else None)(register("vm-kept", NVADS[0])), 10)
    res.check("serving", r is not None and status(1).get("serving") is True,
              "a registration through nvad-1 accepted; show cluster: serving %s" % status(1).get("serving"))

    # 4. A leader key of another shape (another version, a hand-made put):
    # the standby reads it, names no leader, and stays up.
    etcd.etcdctl("put", prefix + "leader", json.dumps({"name": 5, "advertise": ["x"]}))
    foreign = {"name": 5, "advertise": ["x"]}
    read = wait_until(lambda: status(2).get("leader") == foreign, 5)
    time.sleep(1.5)  # more campaigns of nvad-2 on it
    res.check("foreign leader key", read is True and procs.alive("nvad-2") and role(2) == "standby",
              "%s as the leader key: nvad-2 %s, a standby that shows it as the leader (show cluster: %s)" % (
                  json.dumps(foreign), "up" if procs.alive("nvad-2") else "GONE", status(2).get("leader")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nvad", required=True)
    ap.add_argument("--nvectl", required=True)
    ap.add_argument("--nve-register", required=True)
    args = ap.parse_args()
    return run_test(lambda tmp, procs, res: run_with_relay(args, tmp, procs, res), "nvmove-lease-kept-",
                    show_logs=("nvad-1", "nvad-2"))


if __name__ == "__main__":
    sys.exit(main())
