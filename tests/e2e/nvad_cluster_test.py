#!/usr/bin/python3
"""nvad on etcd, end to end (issue 18): a three-member etcd cluster on
loopback, two nvads sharing it (one leader, one standby), two nveds (A and B,
DPDK on net_null ports, agents on loopback) that know both nvads.

  1. 30 VMs registered at A through the leader (nvad-1; nvad-2 and nvad-3
     standbys); a damaged and a
     foreign value planted under nvad's prefix.
  2. 10 VMs moved A -> B; nvad-1 is SIGKILLed after the fifth activation at
     B, in the middle of the moves. A standby takes over (lease 2 s): every move
     completes, A holds a redirect to B for each of the 10 VMs (it was
     notified), and every binding acknowledged before the kill is in the new leader's
     cache. The planted values are reported by key and skipped.
  3. nvad-1 restarted: it stays a standby.
  4. One etcd member SIGKILLed: a new registration still succeeds, and A
     follows whichever nvad leads then (the leader keeps its lease through
     etcd's election, or a standby takes over when the election outlasts it).
  5. All etcd members down: a registration is answered 130 (documented in
     docs/nvad.md), the leader stays up and says why in show cluster; etcd back:
     the registration goes through.

Every process is started by this script and stopped by PID on every path.
Exit 0 when every check passed.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from etcd_support import Etcd, free_port, log, main as run_test, nvad_json, wait_until, write_key_file  # noqa: E402

NVADS = ["127.0.0.21", "127.0.0.22", "127.0.0.23"]
NVES = {"A": ("127.0.0.11", "192.0.2.1"), "B": ("127.0.0.12", "192.0.2.2")}
KEY = "ab" * 32
LEASE_TTL_S = 2
VMS = 30
MOVED = 10
KILL_AFTER = 5


class Cluster:
    def __init__(self, args, tmp, procs, etcd):
        self.args, self.tmp, self.procs, self.etcd = args, tmp, procs, etcd
        self.port = free_port(socket.SOCK_DGRAM)
        self.metrics_ports = [free_port() for _ in NVADS]
        self.prefix = "/nvmove-test-%d/nvad/" % os.getpid()
        self.file_prefix = {n: "nvcl%d%s" % (os.getpid(), n) for n in NVES}
        self.write_files()

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write_files(self):
        write_key_file(self.path("nvad.keys"), [a for a, _ in NVES.values()], KEY)
        write_key_file(self.path("nve.keys"), NVADS, KEY)
        for i, address in enumerate(NVADS):
            with open(self.path("nvad%d.yaml" % (i + 1)), "w") as f:
                f.write("""listen: {addresses: [%s], port: %d}
key_file: %s
notifications: {initial_timeout: 200ms}
store:
  backend: etcd
  etcd: {endpoints: [%s], prefix: "%s", timeout: 500ms}
cluster: {name: nvad-%d, lease_ttl: %ds}
metrics: {address: 127.0.0.1, port: %d}
peers:
%s""" % (address, self.port, self.path("nvad.keys"), ", ".join(self.etcd.endpoints()), self.prefix, i + 1,
         LEASE_TTL_S, self.metrics_ports[i],
         "".join("  - {address: %s, endpoints: [%s]}\n" % nve for nve in NVES.values())))
        with open(self.path("empty.pcap"), "wb") as f:
            f.write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
        for n, (agent_ip, nve_ip) in NVES.items():
            with open(self.path(n + ".yaml"), "w") as f:
                f.write("""ports:
  - {name: fabric, role: fabric, port_id: 0}
  - {name: vms, role: access, port_id: 1}
nve: {ipv4: %s}
fabric_gateway: {ipv4: 192.0.2.254, mac: "02:00:00:00:00:fe"}
route_table: {capacity: 4096}
workers: {mbufs: 4095, idle_sleep_us: 1000}
agent:
  nvad: [%s]
  nvad_port: %d
  listen: %s
  listen_port: %d
  key_file: %s
  retransmit_initial_ms: 200
  retransmit_max_ms: 2000
""" % (nve_ip, ", ".join(NVADS), self.port, agent_ip, self.port, self.path("nve.keys")))

    def metrics(self, i):
        """nvad-i's Prometheus page, or ""."""
        try:
            url = "http://127.0.0.1:%d/metrics" % self.metrics_ports[i - 1]
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.read().decode()
        except OSError:
            return ""

    # --- nvad ------------------------------------------------------------------
    def start_nvad(self, i):
        name = "nvad-%d" % i
        self.procs.start(name, [self.args.nvad, "-c", self.path("nvad%d.yaml" % i), "--ctl-socket",
                                self.path(name + ".sock")])

    def nvad(self, i, *words):
        return nvad_json(self.args.nvectl, self.path("nvad-%d.sock" % i), *words)

    def role(self, i):
        s = self.nvad(i, "show", "cluster")
        return s.get("role") if s else None

    def bindings(self, i):
        return {b["vm_id"]: b for b in (self.nvad(i, "show", "bindings") or [])}

    # --- nved ------------------------------------------------------------------
    def start_nved(self, n):
        pcap = self.path("empty.pcap")
        self.procs.start("nved-" + n, [
            self.args.nved, "-l", "0,1", "--no-huge", "-m", "256", "--no-pci", "--file-prefix", self.file_prefix[n],
            "--vdev", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (pcap, self.path(n + "-out0.pcap")),
            "--vdev", "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (pcap, self.path(n + "-out1.pcap")),
            "--", "-c", self.path(n + ".yaml")])

    def nvectl(self, n, *words):
        r = subprocess.run([self.args.nvectl, "-p", self.file_prefix[n], "-t", "3000", "-j"] + list(words),
                           capture_output=True, text=True, timeout=15)
        if r.returncode != 0:
            return None
        try:
            return json.loads(r.stdout) if r.stdout.strip() else {}
        except ValueError:
            return {}

    def vms(self, n):
        return {v["vm_id"]: v for v in (self.nvectl(n, "show", "vms") or [])}

    def bul(self, n):
        return {b["vm_id"]: b for b in (self.nvectl(n, "show", "bul") or [])}

    def vm_up(self, n, i):
        """Associates and activates VM i at NVE n (nvectl answers before nvad does)."""
        ok = self.nvectl(n, "vm", "associate", "vm%d" % i, "port", "vms", "mac", "02:00:00:01:00:%02x" % i,
                         "addr", "10.0.1.%d" % (i + 1)) is not None
        return ok and self.nvectl(n, "vm", "activate", "vm%d" % i, "hot") is not None


def metric_values(page):
    """{series: value} of a Prometheus text page."""
    out = {}
    for line in page.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                pass
    return out


def etcd_error(status):
    """What show cluster says went wrong: the lease's renewal or a store access."""
    return status.get("last_error") or status.get("store", {}).get("error") or ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nved", required=True)
    ap.add_argument("--nvectl", required=True)
    ap.add_argument("--nvad", required=True)
    args = ap.parse_args()
    return run_test(lambda tmp, procs, res: run(args, tmp, procs, res), "nvmove-cluster-",
                    show_logs=("nvad-1", "nvad-2", "nvad-3", "nved-A", "nved-B"))


def run(args, tmp, procs, res):
    etcd = Etcd(procs, tmp)
    if not res.check("etcd", etcd.start_all(),
                     "three members healthy at %s" % ", ".join(etcd.endpoints())):
        return
    cl = Cluster(args, tmp, procs, etcd)
    cl.start_nvad(1)
    if not res.check("leader", wait_until(lambda: cl.role(1) == "leader", 15) is True,
                     "nvad-1 elected (show cluster: %s)" % cl.role(1)):
        return
    cl.start_nvad(2)
    cl.start_nvad(3)
    res.check("standby", wait_until(lambda: cl.role(2) == "standby" and cl.role(3) == "standby", 15) is True,
              "nvad-2 and nvad-3 are standbys while nvad-1 leads (show cluster: %s, %s)" % (cl.role(2), cl.role(3)))
    for n in NVES:
        cl.start_nved(n)
    if not res.check("nveds", wait_until(lambda: all(cl.nvectl(n, "show", "agent") for n in NVES), 30) is True,
                     "nved A and B up, agents configured with nvad %s" % ", ".join(NVADS)):
        return

    # 1. Registrations through the leader; planted values.
    for i in range(VMS):
        cl.vm_up("A", i)
    registered = wait_until(lambda: sum(v.get("registered", False) for v in cl.vms("A").values()) == VMS, 20)
    res.check("register", registered is True and len(cl.bindings(1)) == VMS,
              "%d VMs registered at A, %d bindings at nvad-1" % (VMS, len(cl.bindings(1))))
    damaged, foreign = cl.prefix + "bindings/0/damaged", cl.prefix + "bindings/0/foreign"
    etcd.etcdctl("put", damaged, "{not json")
    etcd.etcdctl("put", foreign, json.dumps({"format": 1, "virtual_network": 0, "vm_id": "somebody-else"}))

    # 2. Moves A -> B, nvad-1 killed in the middle.
    acked_at_kill = {}
    t_kill = None
    for i in range(MOVED):
        if i == KILL_AFTER:
            time.sleep(0.05)  # some of the first moves are in flight, some done
            for n in NVES:
                acked_at_kill.update({name: n for name, v in cl.vms(n).items() if v.get("registered")})
            procs.stop("nvad-1", signal.SIGKILL)
            t_kill = time.monotonic()
            log("nvad-1 killed (SIGKILL) after %d of %d activations at B; %d VMs registered at A or B then" % (
                KILL_AFTER, MOVED, len(acked_at_kill)))
        cl.vm_up("B", i)
    took_over = wait_until(lambda: [i for i in (2, 3) if cl.role(i) == "leader"], LEASE_TTL_S + 10)
    t_leader = time.monotonic()
    new = took_over[0] if took_over else 2
    other = 5 - new  # the standby that stayed one
    if not res.check("takeover", len(took_over or []) == 1 and cl.role(other) == "standby",
                     "nvad-%d leads %.1f s after the kill (lease %d s), nvad-%d stays a standby" % (
                         new, t_leader - t_kill, LEASE_TTL_S, other)):
        return

    def moves_done():
        at_b, bul = cl.vms("B"), cl.bul("A")
        done = [i for i in range(MOVED) if at_b.get("vm%d" % i, {}).get("registered")
                and bul.get("vm%d" % i, {}).get("new_nve_ipv4") == NVES["B"][1]]
        return len(done) == MOVED
    done = wait_until(moves_done, 20)
    t_done = time.monotonic()
    bindings = cl.bindings(new)
    moved_ok = [i for i in range(MOVED) if bindings.get("vm%d" % i, {}).get("serving_nve", {}).get("address")
                == NVES["B"][0] and any(p["address"] == NVES["A"][0] and p["notification"] == "acknowledged"
                                        for p in bindings["vm%d" % i].get("previous_nves", []))]
    res.check("moves", done is True and len(moved_ok) == MOVED,
              "all %d moves complete %.1f s after the kill: registered at B, A redirects each to %s (show bul), "
              "nvad-%d has B serving and A notified for %d of them" % (
                  MOVED, t_done - t_kill, NVES["B"][1], new, len(moved_ok)))
    missing = sorted(set(acked_at_kill) - set(bindings))
    res.check("durable", not missing and len(bindings) == VMS,
              "%d bindings at nvad-%d; of the %d acknowledged before the kill, missing: %s" % (
                  len(bindings), new, len(acked_at_kill), missing or "none"))
    status = cl.nvad(new, "show", "cluster") or {}
    with open(os.path.join(tmp, "nvad-%d.log" % new), errors="replace") as f:
        text = f.read()
    res.check("bad values", status.get("store", {}).get("skipped_records", 0) >= 2 and damaged in text
              and foreign in text and cl.role(new) == "leader",
              "the damaged and the foreign value reported by key and skipped (%s skipped), nvad-%d serving" % (
                  status.get("store", {}).get("skipped_records"), new))

    # 3. nvad-1 back: a standby.
    cl.start_nvad(1)
    res.check("rejoin", wait_until(lambda: cl.role(1) == "standby", 15) is True,
              "nvad-1 restarted as a standby (show cluster: %s)" % cl.role(1))

    # A request from A since the kill (B made its own during the moves):
    # both NVEs ask the new leader.
    cl.vm_up("A", VMS)
    ok = wait_until(lambda: cl.vms("A").get("vm%d" % VMS, {}).get("registered"), 15)
    failovers = {n: (cl.nvectl(n, "show", "agent") or {}) for n in NVES}
    log("agents: %s" % {n: {k: a.get(k) for k in ("nvad", "nvad_failovers", "replies_not_active")}
                        for n, a in failovers.items()})
    res.check("nves follow", ok is True and all(a.get("nvad") == NVADS[new - 1] for a in failovers.values()),
              "vm%d registered at A; both NVEs now send to %s, nvad-%d (show agent)" % (VMS, NVADS[new - 1], new))

    # 4. One etcd member down. A loaded machine can take longer than the
    # lease to elect etcd's next raft leader: then the nvad leader keeps its
    # lease (etcd extends leases across its elections) and leads again, or a
    # standby takes over; either way one nvad serves and A follows it.
    etcd.kill(0)
    cl.vm_up("A", VMS + 1)
    ok = wait_until(lambda: cl.vms("A").get("vm%d" % (VMS + 1), {}).get("registered"), 15)
    def settled():
        leaders = [i for i in (1, 2, 3) if cl.role(i) == "leader"]
        agent = (cl.nvectl("A", "show", "agent") or {}).get("nvad")
        return (leaders, agent) if len(leaders) == 1 and agent == NVADS[leaders[0] - 1] else None
    leaders, agent_a = wait_until(settled, 10) or ([i for i in (1, 2, 3) if cl.role(i) == "leader"], None)
    res.check("member down", ok is True and len(leaders) == 1 and agent_a is not None,
              "etcd member m0 killed: vm%d registered at A through %s; leaders: %s" % (
                  VMS + 1, agent_a, ["nvad-%d" % i for i in leaders]))
    new = leaders[0] if len(leaders) == 1 else new

    # 5. All of etcd down, then back.
    etcd.kill(1)
    etcd.kill(2)
    cl.vm_up("A", VMS + 2)
    refused = wait_until(lambda: cl.vms("A").get("vm%d" % (VMS + 2), {}).get("refused_with"), 15)
    status = cl.nvad(new, "show", "cluster") or {}
    res.check("etcd down", refused == "Insufficient resources" and all(procs.alive("nvad-%d" % i) for i in (1, 2, 3))
              and status.get("serving") is False and bool(etcd_error(status)),
              "registration answered %s; the three nvads up; show cluster: role %s, not serving, error %r" % (
                  refused, status.get("role"), etcd_error(status)[:80]))
    down = metric_values(cl.metrics(new))
    res.check("metrics down", down.get("nvad_cluster_serving") == 0,
              "nvad-%d's page while etcd is down: %s" % (new, {k: v for k, v in down.items() if k.startswith(
                  ("nvad_cluster", "nvad_store"))}))
    t_back = time.monotonic()
    for i in range(3):
        etcd.start(i)
    ok = wait_until(lambda: cl.vms("A").get("vm%d" % (VMS + 2), {}).get("registered"), 30)
    leaders = [i for i in (1, 2, 3) if cl.role(i) == "leader"]
    res.check("etcd back", ok is True and len(leaders) == 1 and len(cl.bindings(leaders[0])) >= VMS + 3,
              "etcd restarted: vm%d registered %.1f s later; nvads: %s / %s / %s" % (
                  VMS + 2, time.monotonic() - t_back, cl.role(1), cl.role(2), cl.role(3)))
    leader = leaders[0] if leaders else 1
    text = cl.metrics(leader)
    up = metric_values(text)
    promtool = shutil.which("promtool")
    lint = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True) if promtool else None
    res.check("metrics", up.get('nvad_cluster_role{role="leader"}') == 1 and up.get("nvad_cluster_serving") == 1
              and up.get("nvad_store_healthy") == 1 and up.get("nvad_store_skipped_records", 0) >= 2
              and (lint is None or lint.returncode == 0),
              "nvad-%d's page: %s; promtool: %s" % (
                  leader, {k: v for k, v in up.items() if k.startswith(("nvad_cluster", "nvad_store"))},
                  "not installed" if lint is None else (lint.stdout + lint.stderr).strip() or "ok"))


if __name__ == "__main__":
    sys.exit(main())
