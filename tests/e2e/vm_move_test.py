#!/usr/bin/python3
"""End-to-end test of a VM move: two nveds, nvad, kernel sockets, namespaces.

Run as root with the system Python (it has scapy, used by the ping helper of
vm_namespace_test.py, whose helpers and process handling this test reuses):

    sudo /usr/bin/python3 tests/e2e/vm_move_test.py [--nved P] [--nvectl P] [--nvad P] [--keep-logs]
                                                     [--order activate-first|deactivate-first] [--tenants] [--restart-nvad] [--chain] [--refused] [--ipv6] [--mode hot|warm|cold] [--onward hot|cold]

--order deactivate-first (diagnostics) deactivates the VM on A before
activating it on B instead of after.

Topology (namespaces and interfaces carry this process's PID):

  ns nvm<pid>nve: nved A, nved B and nvad. Control plane on loopback:
      nvad 127.0.0.1 port 61434, agent of A 127.0.0.11, agent of B 127.0.0.12.
  ns nvm<pid>fab: the fabric. A bridge joining A's and B's fabric veths; on it
      the gateway / correspondent 192.0.2.254/24, forwarding on, no redirects,
      and the route 10.0.0.0/24 via 192.0.2.1: the correspondent keeps
      believing the VM is behind NVE A, so its packets stay "in flight" to A
      after the move. A tunnels them to 192.0.2.2 through the gateway MAC; the
      fab kernel routes them back onto the bridge to B.
  ns nvm<pid>vmA / nvm<pid>vmB: the VM before and after the move, both
      10.0.0.5/24 with the same MAC, each behind the access port of its NVE.

      vmA --- nved A (192.0.2.1) ---+                 +--- nved B (192.0.2.2) --- vmB
                                    +-- br (fab) -----+
                                   192.0.2.254, 10.0.0.0/24 via 192.0.2.1

Both nveds use `default_action: drop`: a packet for the VM is either
delivered or tunnelled, never bounced back to the fabric (where the static
route would return it to A until its TTL ran out).

Steps (`--activate-by announcement`: B is activated by the VM's own
gratuitous ARP instead of `vm activate`): nvad, then both nveds; VM associated + activated on A (registration
checked in `show vms` and in nvad's SQLite store); a UDP stream from the
correspondent to 10.0.0.5 every 2 ms with a sequence number, received by
kernel sockets in vmA and vmB; after ~1 s at vmA the move: associate +
activate on B (B registers, nvad notifies A, A tunnels to 192.0.2.2), then
deactivate on A. Sub-tests (each counts once in "N passed, M failed"):

  registration   A's VM registered; nvad's store has it at 127.0.0.11 / 192.0.2.1
  before move    vmA receives the stream (>= 90 % of what was sent before the move)
  move           B registered; nvad's store has the VM at 127.0.0.12 / 192.0.2.2
                 and its log the move; A's `show bul` lists vm1 toward 192.0.2.2
  A's route      after the deactivation, A's route 10.0.0.5 is a tunnel to 192.0.2.2
  in flight      >= 90 % of the datagrams sent after (move done + 100 ms) reach vmB
  wire           tshark on B's fabric link sees IPv4-in-IPv4 192.0.2.1 -> 192.0.2.2
                 (inner 192.0.2.254 -> 10.0.0.5), outer checksum valid, nothing malformed
  counters       nveds and nvad exit 0 on SIGTERM; counters JSON: A encap_ipv4_in_ipv4
                 > 0, B decap_ipv4_outer > 0 and delivered_local > 0

--tenants adds a second tenant (VN 7) with the same address: its VM
10.0.0.5 (MAC 02:00:00:07:00:05) behind A's access port t7, which stays, and
its correspondent 10.7.0.9 behind B's port t7, whose datagrams B tunnels to
A's VN 7 endpoint 192.0.2.11 (A serves VN 7 at 192.0.2.11, B at 192.0.2.12;
docs/protocol.md, "Tenants on the fabric"). Sub-test:

  tenants        tenant 7's VM receives >= 90 % of tenant 7's stream; zero datagrams
                 of either tenant reach the other's VM, before, during and after the move

--mode cold (or warm) activates the VM on B with that hint: A, the last
source NVE, must still redirect what reaches it (seed 003 section 7;
protocol.md 7): every sub-test above holds as for a hot move, and nvad's
store records M = cold.

--ipv6 gives the VM fd00::5 too (IPv6 enabled on the VMs' interfaces and
the bridge only) and adds a stream to it from the fabric, routed to A by a
static neighbour with A's fabric MAC. Sub-test:

  ipv6           >= 90 % delivered natively at vmA before the move and at vmB after
                 it, every IPv6-in-IPv4 frame A -> B with a verified outer checksum

--onward hot|cold adds a third NVE C (192.0.2.3, agent 127.0.0.13, VM
namespace vmC) and, after the move to B, moves the VM on to C with that hint
while the correspondent through A and the one through B (as in --chain)
keep sending. Sub-test:

  onward         hot: >= 90 % of what still reaches A and of what still reaches B arrives
                 at the VM on C (both previous NVEs redirect); cold: >= 90 % of what
                 reaches B (the last source) arrives, A dropped its entry and routes

--refused starts nvad without A's endpoint in its peers list: A's
registration is refused (154) until the configuration is fixed and nvad
restarted 6.5 s later. Sub-test:

  refused        A shows refused_with "Not authorized", sent at most 3 requests while
                 refused, and registers once nvad is fixed (the move then goes on)

--chain brings the VM back to A after the move (A -> B -> A: vm activate on
A, vm deactivate on B) while a second correspondent (192.0.2.253, routing
10.0.0.0/24 through B) sends too. Sub-test:

  chain          after the VM came back, >= 90 % of what was sent through B reached it
                 at A by B's redirect, and >= 90 % of what was sent to A directly

--restart-nvad stops nvad (SIGTERM) after the registration and starts it
again before the move. Sub-test:

  nvad restart   the new nvad restored vm1's binding at A from its store; the move
                 (checked as above) goes through the new process

--bgp adds route optimisation in BGP (seed 003 section 7.3; nvad.md): nvad
exports host routes through ExaBGP (nvmove-exabgp, in ns nve, 10.99.0.1)
to BIRD on the fabric (ns fab, 10.99.0.2, installing into the fabric's
kernel), over a link of their own. After the move the fabric learns
10.0.0.5/32 via 192.0.2.2 and the correspondent's packets go to B directly
instead of through A's tunnel. Sub-test:

  bgp            the fabric's kernel has 10.0.0.5 via 192.0.2.2 (proto bird) after the
                 move (time printed); A's tunnel counter stops growing once it is there;
                 B delivers natively received datagrams; no datagram sent in the second
                 around the switch from tunnel to host route is lost

--router adds nved T (192.0.2.250, agent 127.0.0.14) in the default-router
role (agent.router) and a correspondent (192.0.2.249, ns cT) whose route to
10.0.0.0/24 goes through T; T's own default route (its fabric gateway) is A.
nvad lists T as the default router of A. Sub-test:

  router         after the move T installs 10.0.0.5 -> B's MAC (native, no tunnel; time
                 printed), the correspondent's datagrams then reach vmB natively through T
                 (tshark sees them on B's link with TTL 63) and none is lost across the
                 switch; a forged router registration (wrong key) is dropped by T; when
                 the VM's binding ends (disassociated on B) nvad withdraws T's route

The script also serves as its own helper inside the namespaces
(`--helper NAME ...`).
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import vm_namespace_test as base  # noqa: E402  (helpers, process handling)

REPO = base.REPO
PYTHON = base.PYTHON
DEFAULT_NVED = os.path.join(REPO, "build", "control", "nved", "nved")
DEFAULT_NVECTL = os.path.join(REPO, "build", "control", "nvectl", "nvectl")
DEFAULT_NVAD = os.path.join(REPO, "build", "control", "nvad", "nvad")

NVE_A = "192.0.2.1"
NVE_B = "192.0.2.2"
NVE_C = "192.0.2.3"   # --onward: the third NVE
AGENT_C = "127.0.0.13"
GW_IP = "192.0.2.254"
VM_IP = "10.0.0.5"
VM_GW = "10.0.0.1"
VM_MAC = "02:00:00:0a:00:05"
VM_ID = "vm1"
NVAD_CTL = "127.0.0.1"
AGENT_A = "127.0.0.11"
AGENT_B = "127.0.0.12"
NVAD_PORT = 61434
UDP_PORT = 40000
# --tenants: tenant 7's VM at the same address 10.0.0.5 behind A (it stays),
# and tenant 7's correspondent behind B, whose packets B tunnels to A's VN 7
# endpoint (docs/protocol.md, "Tenants on the fabric").
T7_VN = 7
A_VN7 = "192.0.2.11"
B_VN7 = "192.0.2.12"
VM7_MAC = "02:00:00:07:00:05"
T7_SRC = "10.7.0.9"
# --chain: a second correspondent on the fabric whose route to the VM's
# subnet points at B, so that after the VM comes back to A its packets still
# go to B (a previous NVE) and must be redirected.
COR_B_IP = "192.0.2.253"
# --router: nved T, a ToR in the default-router role (seed 003 7.2), and a
# correspondent whose default router it is. T's own default route points at
# A (where the VM's subnet lives); after the move nvad gives T the VM's host
# route toward B, and T routes the correspondent's packets to B natively.
TOR_IP = "192.0.2.250"
AGENT_T = "127.0.0.14"
COR_T_IP = "192.0.2.249"
FORGED_VM_IP = "10.0.0.77"
# --ipv6: the VM also has VM_IP6; a second correspondent stream goes to it
# from the fabric (through A by a static route), IPv6 in IPv4 after the move.
VM_IP6 = "fd00::5"
GW_IP6 = "2001:db8:ff::254"
UDP_PORT6 = UDP_PORT + 1
# --refused: nvad refuses A's first registration for REFUSED_FOR_S; a policy
# refusal is retried after agent.retransmit_max_ms (2 s here), doubling, with
# +-25 % jitter: at most 3 requests in 6.5 s (0, <= 2.5, <= 7.5 s)
REFUSED_FOR_S = 6.5
REFUSED_MAX_REQUESTS = 3
T7_GW = "10.7.0.1"
INTERVAL_S = 0.002
PRE_MOVE_S = 1.0       # traffic to vmA before the move
POST_MOVE_S = 2.0      # traffic after the move is complete
SETTLE_S = 0.1         # the 90 % criterion counts datagrams sent this long after the move
MIN_SHARE = 0.90
SPOOF_COUNT = 20        # --spoof: IP-in-IP frames from the gateway to B
SPOOF_PORT = 9
SPOOF_RACE_MAX = 5      # A's first redirected frames may overtake nvad's reply to B

log = base.log


def nvad_vm_text(vm_id):
    """How every program writes a VM-ID (control/protocol/vm_id_text.h):
    printable text without spaces as it is."""
    assert all(0x21 <= ord(c) <= 0x7e for c in vm_id) and not vm_id.startswith("hex:")
    return vm_id


NVAD_VM = nvad_vm_text(VM_ID)
sh = base.sh
wait_until = base.wait_until
read = base.read


# --------------------------------------------------------------------------
# Helpers that run inside a namespace (ip netns exec ... this-file --helper).
# --------------------------------------------------------------------------

def helper_seqlisten(port, ready_path, stop_path, lifetime_s, family="4"):
    """One line per datagram: '<seq> <CLOCK_MONOTONIC receive time> <source>'
    ('t<seq> ...' for tenant 7's stream)."""
    s = socket.socket(socket.AF_INET6 if family == "6" else socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind(("::" if family == "6" else "0.0.0.0", port))
    s.settimeout(0.05)
    with open(ready_path, "w") as f:
        f.write("ready\n")
    end = time.monotonic() + lifetime_s
    while time.monotonic() < end and not os.path.exists(stop_path):
        try:
            data, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        t = time.monotonic()
        tag = data.split(b" ", 1)[0].decode("ascii", "replace")
        if tag.startswith("S-") and tag[2:].isdigit():
            print("%s %.6f %s" % (tag[2:], t, addr[0]), flush=True)
        elif len(tag) > 2 and tag[1] == "-" and tag[0].isupper() and tag[2:].isdigit():
            # another stream: T, tenant 7's (--tenants); B, the one through B (--chain)
            print("%s%s %.6f %s" % (tag[0].lower(), tag[2:], t, addr[0]), flush=True)
        else:
            print("? %.6f %s" % (t, addr[0]), flush=True)
    return 0


def helper_stream(dst, port, interval_s, stop_path, max_s, tag="S"):
    """Sends one datagram every interval_s until stop_path exists (or max_s).
    Prints, at the end, one line per datagram '<seq> <send time> <ok|errno>'
    and a JSON summary. No catching up in bursts after a scheduling delay."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
    base.bind_fixed_source(s, dst, port)
    rec = []
    t0 = time.monotonic()
    nxt = t0
    seq = 0
    errors = 0
    while not stop and time.monotonic() < t0 + max_s:
        now = time.monotonic()
        if nxt > now:
            time.sleep(nxt - now)
        t = time.monotonic()
        try:
            s.sendto(("%s-%d " % (tag, seq)).encode() + b"m" * 64, (dst, port))
            r = "ok"
        except OSError as e:
            r = "e%d" % e.errno
            errors += 1
        rec.append("%d %.6f %s" % (seq, t, r))
        seq += 1
        nxt += interval_s
        if nxt < t - interval_s:  # late by more than one interval: do not burst
            nxt = t + interval_s
        if seq % 25 == 0 and os.path.exists(stop_path):
            break
    sys.stdout.write("\n".join(rec) + "\n")
    print(json.dumps({"sent": seq, "errors": errors, "first": t0, "last": time.monotonic()}), flush=True)
    return 0


def helper_garp(iface, mac, ip):
    """The VM announcing itself after its move (seed 003 section 8): one
    gratuitous ARP request, broadcast, sender = target = its address."""
    import socket
    import struct
    m = bytes(int(x, 16) for x in mac.split(":"))
    a = socket.inet_aton(ip)
    frame = b"\xff" * 6 + m + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + m + a + b"\0" * 6 + a
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    s.send(frame)
    s.close()
    return 0


def run_helper(argv):
    name, args = argv[0], argv[1:]
    if name == "garp":
        return helper_garp(args[0], args[1], args[2])
    if name == "seqlisten":
        return helper_seqlisten(int(args[0]), args[1], args[2], float(args[3]), *args[4:5])
    if name == "stream":
        return helper_stream(args[0], int(args[1]), float(args[2]), args[3], float(args[4]), *args[5:6])
    print("unknown helper %r" % name, file=sys.stderr)
    return 2


# --------------------------------------------------------------------------
# The driver.
# --------------------------------------------------------------------------

class MoveEnv(base.Env):
    """Namespaces, links, configurations and processes of this test. Reuses
    vm_namespace_test.Env's spawn() / helper() / stop() / cleanup()."""

    def __init__(self, args, tmp):
        super().__init__(args.nved, tmp)
        pid = os.getpid()
        self.nvectl_bin = args.nvectl
        self.nvad_bin = args.nvad
        p = "nvm%d" % pid
        self.ns_nve, self.ns_fab, self.ns_vma, self.ns_vmb = p + "nve", p + "fab", p + "vmA", p + "vmB"
        self.ns_vm = self.ns_vma  # (the base class's name for it)
        # nve-side ends (read by DPDK) and their peers.
        self.if_fa, self.if_ga = p + "fa", p + "ga"    # A fabric / bridge port A
        self.if_fb, self.if_gb = p + "fb", p + "gb"    # B fabric / bridge port B
        self.if_aa, self.if_va = p + "aa", p + "va"    # A access / vmA
        self.if_ab, self.if_vb = p + "ab", p + "vb"    # B access / vmB
        self.if_br = p + "br"
        self.tenants = args.tenants
        self.bgp = args.bgp
        self.bridge_bin = args.bridge
        self.if_xn, self.if_xf = p + "xn", p + "xf"  # --bgp: ExaBGP (ns nve) <-> BIRD (ns fab)
        self.refused = args.refused
        self.router = args.router
        if self.router:  # T's fabric link, and the correspondent behind T
            self.ns_cort = p + "cT"
            self.if_ft, self.if_gt = p + "ft", p + "gt"
            self.if_ct, self.if_gy = p + "ct", p + "gy"
        self.ipv6 = args.ipv6
        self.chain = args.chain or bool(args.onward)
        self.onward = args.onward
        self.names = "ABC" if self.onward else "AB"
        if self.onward:  # NVE C: fabric link to the bridge, access link to vmC
            self.ns_vmc = p + "vmC"
            self.if_fc, self.if_gx = p + "fc", p + "gx"
            self.if_ac, self.if_vc = p + "ac", p + "vc"
        if self.chain:  # the correspondent routed through B, on the fabric bridge
            self.ns_corb = p + "cB"
            self.if_cb, self.if_gc = p + "cb", p + "gc"
        if self.tenants:  # tenant 7: its VM behind A (port 2), its correspondent behind B (port 2)
            self.ns_vm7a, self.ns_c7b = p + "v7A", p + "c7B"
            self.if_a7, self.if_v7 = p + "a7", p + "v7"
            self.if_b7, self.if_c7 = p + "b7", p + "c7"
        self.prefix = {"A": "nvmvA%d" % pid, "B": "nvmvB%d" % pid}
        self.file_prefix = self.prefix["A"]  # base cleanup removes this one
        self.nve_ip = {"A": NVE_A, "B": NVE_B}
        self.agent_ip = {"A": AGENT_A, "B": AGENT_B}
        self.fab_if = {"A": self.if_fa, "B": self.if_fb}
        self.acc_if = {"A": self.if_aa, "B": self.if_ab}
        if self.onward:
            self.prefix["C"] = "nvmvC%d" % pid
            self.nve_ip["C"], self.agent_ip["C"] = NVE_C, AGENT_C
            self.fab_if["C"], self.acc_if["C"] = self.if_fc, self.if_ac
        if self.router:
            self.prefix["T"] = "nvmvT%d" % pid
            self.nve_ip["T"], self.agent_ip["T"] = TOR_IP, AGENT_T
            self.fab_if["T"] = self.if_ft
        self.nveds = {}
        self.nvad = None
        self.paths = {k: os.path.join(tmp, k) for k in (
            "nvad.yaml", "nvad.keys", "nvad.log", "A.yaml", "B.yaml", "A.keys", "B.keys", "A.log", "B.log",
            "A.counters.json", "B.counters.json")}
        for n in "CT":
            self.paths.update({n + k: os.path.join(tmp, n + k) for k in (".yaml", ".keys", ".log", ".counters.json")})
        self.db = os.path.join(tmp, "nvad-db", "nvad.db")

    # --- topology --------------------------------------------------------------
    def setup(self):
        extra = ((self.ns_vm7a, self.ns_c7b) if self.tenants else ()) + ((self.ns_corb,) if self.chain else ()) + (
            (self.ns_vmc,) if self.onward else ()) + ((self.ns_cort,) if self.router else ())
        for ns in (self.ns_nve, self.ns_fab, self.ns_vma, self.ns_vmb) + extra:
            sh("ip", "netns", "add", ns)
            self.namespaces.append(ns)
            self.netns_sysctl(ns, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1",
                              "net.ipv4.ip_forward=0", "net.ipv4.conf.all.rp_filter=0",
                              "net.ipv4.conf.default.rp_filter=0")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        pairs = [(self.ns_nve, self.if_fa, self.ns_fab, self.if_ga),
                 (self.ns_nve, self.if_fb, self.ns_fab, self.if_gb),
                 (self.ns_nve, self.if_aa, self.ns_vma, self.if_va),
                 (self.ns_nve, self.if_ab, self.ns_vmb, self.if_vb)]
        if self.tenants:
            pairs += [(self.ns_nve, self.if_a7, self.ns_vm7a, self.if_v7),
                      (self.ns_nve, self.if_b7, self.ns_c7b, self.if_c7)]
        if self.chain:
            pairs += [(self.ns_corb, self.if_cb, self.ns_fab, self.if_gc)]
        if self.onward:
            pairs += [(self.ns_nve, self.if_fc, self.ns_fab, self.if_gx), (self.ns_nve, self.if_ac, self.ns_vmc, self.if_vc)]
        if self.bgp:
            pairs += [(self.ns_nve, self.if_xn, self.ns_fab, self.if_xf)]
        if self.router:
            pairs += [(self.ns_nve, self.if_ft, self.ns_fab, self.if_gt), (self.ns_cort, self.if_ct, self.ns_fab, self.if_gy)]
        # DPDK 22.11's net_af_packet joins the fanout group (getpid() ^ ifindex)
        # & 0xffff, and fanout groups are per network namespace: with both
        # nveds in ns nve, A's group for one interface can equal B's for
        # another (e.g. consecutive PIDs and adjacent ifindexes), and B's
        # start fails with "could not set PACKET_FANOUT ...: Invalid
        # argument". A's DPDK interfaces get ifindexes with bit 14 set, B's
        # not: a collision then needs PIDs about 16384 apart.
        index = {self.if_fa: 0x4002, self.if_aa: 0x4003, self.if_fb: 0x12, self.if_ab: 0x13}
        if self.tenants:
            index.update({self.if_a7: 0x4004, self.if_b7: 0x14})
        if self.onward:  # C's: bit 13 (a collision with A or B then needs PIDs 8192 apart)
            index.update({self.if_fc: 0x2012, self.if_ac: 0x2013})
        if self.router:  # T's: bit 12
            index.update({self.if_ft: 0x1012})
        for ns1, if1, ns2, if2 in pairs:
            pinned = ["index", str(index[if1])] if if1 in index else []  # DPDK's interfaces only
            sh("ip", "link", "add", if1, *pinned, "netns", ns1, "type", "veth", "peer", "name", if2, "netns", ns2)
        # The same MAC for the VM on both sides, set before the link is up.
        sh("ip", "-n", self.ns_vma, "link", "set", self.if_va, "address", VM_MAC)
        sh("ip", "-n", self.ns_vmb, "link", "set", self.if_vb, "address", VM_MAC)
        if self.tenants:
            sh("ip", "-n", self.ns_vm7a, "link", "set", self.if_v7, "address", VM7_MAC)
        if self.onward:
            sh("ip", "-n", self.ns_vmc, "link", "set", self.if_vc, "address", VM_MAC)
        for ns1, if1, ns2, if2 in pairs:
            for ns, ifn in ((ns1, if1), (ns2, if2)):
                sh("ip", "netns", "exec", ns, "ethtool", "-K", ifn, "tx", "off", "rx", "off")
                self.netns_sysctl(ns, "net.ipv6.conf.%s.disable_ipv6=1" % ifn, "net.ipv4.conf.%s.rp_filter=0" % ifn)
        # The fabric: a bridge with the gateway's address, routing between its ports.
        f = self.ns_fab
        sh("ip", "-n", f, "link", "add", self.if_br, "type", "bridge", "stp_state", "0", "forward_delay", "0")
        self.netns_sysctl(f, "net.ipv6.conf.%s.disable_ipv6=1" % self.if_br)
        r = sh("ip", "netns", "exec", f, "ethtool", "-K", self.if_br, "tx", "off", check=False)
        if r.returncode != 0:
            log("note: ethtool -K %s tx off: %s" % (self.if_br, (r.stderr or "").strip()))
        for ifn in (self.if_ga, self.if_gb) + ((self.if_gc,) if self.chain else ()) + ((self.if_gx,) if self.onward else ()) + (
                (self.if_gt, self.if_gy) if self.router else ()):
            sh("ip", "-n", f, "link", "set", ifn, "master", self.if_br)
        self.netns_sysctl(f, "net.ipv4.ip_forward=1", "net.ipv4.conf.all.send_redirects=0",
                          "net.ipv4.conf.default.send_redirects=0",
                          "net.ipv4.conf.%s.send_redirects=0" % self.if_br,
                          "net.ipv4.conf.%s.rp_filter=0" % self.if_br)
        ups = [(self.ns_nve, self.if_fa), (self.ns_nve, self.if_fb), (self.ns_nve, self.if_aa),
               (self.ns_nve, self.if_ab), (f, self.if_ga), (f, self.if_gb), (f, self.if_br),
               (self.ns_vma, self.if_va), (self.ns_vmb, self.if_vb)]
        if self.tenants:
            ups += [(self.ns_nve, self.if_a7), (self.ns_nve, self.if_b7), (self.ns_vm7a, self.if_v7),
                    (self.ns_c7b, self.if_c7)]
        if self.chain:
            ups += [(self.ns_corb, self.if_cb), (f, self.if_gc)]
        if self.onward:
            ups += [(self.ns_nve, self.if_fc), (self.ns_nve, self.if_ac), (f, self.if_gx), (self.ns_vmc, self.if_vc)]
        if self.router:
            ups += [(self.ns_nve, self.if_ft), (f, self.if_gt), (self.ns_cort, self.if_ct), (f, self.if_gy)]
        if self.bgp:
            ups += [(self.ns_nve, self.if_xn), (f, self.if_xf)]
            sh("ip", "-n", self.ns_nve, "addr", "add", "10.99.0.1/30", "dev", self.if_xn)
            sh("ip", "-n", f, "addr", "add", "10.99.0.2/30", "dev", self.if_xf)
        for ns, ifn in ups:
            sh("ip", "-n", ns, "link", "set", ifn, "up")
        sh("ip", "-n", f, "addr", "add", GW_IP + "/24", "dev", self.if_br)
        sh("ip", "-n", f, "route", "add", "10.0.0.0/24", "via", NVE_A)
        for ns, ifn in ((self.ns_vma, self.if_va), (self.ns_vmb, self.if_vb)) + (
                ((self.ns_vmc, self.if_vc),) if self.onward else ()):
            sh("ip", "-n", ns, "addr", "add", VM_IP + "/24", "dev", ifn)
            sh("ip", "-n", ns, "route", "add", "default", "via", VM_GW, "dev", ifn, "onlink")
        if self.router:
            sh("ip", "-n", self.ns_cort, "addr", "add", COR_T_IP + "/24", "dev", self.if_ct)
            sh("ip", "-n", self.ns_cort, "route", "add", "10.0.0.0/24", "via", TOR_IP)
        if self.chain:
            sh("ip", "-n", self.ns_corb, "addr", "add", COR_B_IP + "/24", "dev", self.if_cb)
            sh("ip", "-n", self.ns_corb, "route", "add", "10.0.0.0/24", "via", NVE_B)
        if self.tenants:
            sh("ip", "-n", self.ns_vm7a, "addr", "add", VM_IP + "/24", "dev", self.if_v7)
            sh("ip", "-n", self.ns_vm7a, "route", "add", "default", "via", VM_GW, "dev", self.if_v7, "onlink")
            sh("ip", "-n", self.ns_c7b, "addr", "add", T7_SRC + "/24", "dev", self.if_c7)
            sh("ip", "-n", self.ns_c7b, "route", "add", "default", "via", T7_GW, "dev", self.if_c7, "onlink")
        if self.ipv6:
            # IPv6 only where it is carried: the VMs' interfaces and the bridge
            # (the fabric stays IPv4: A tunnels the VM's IPv6 packets in IPv4).
            for ns, ifn in ((self.ns_vma, self.if_va), (self.ns_vmb, self.if_vb), (f, self.if_br)):
                self.netns_sysctl(ns, "net.ipv6.conf.%s.disable_ipv6=0" % ifn)
            for ns, ifn in ((self.ns_vma, self.if_va), (self.ns_vmb, self.if_vb)):
                sh("ip", "-n", ns, "addr", "add", VM_IP6 + "/64", "dev", ifn, "nodad")
            sh("ip", "-n", f, "addr", "add", GW_IP6 + "/64", "dev", self.if_br, "nodad")
            # The correspondent believes fd00::/64 is behind A: a next hop
            # with A's fabric MAC (nved answers no ND for it: no nve.ipv6).
            a_mac = self.mac(self.ns_nve, self.if_fa)
            sh("ip", "-n", f, "-6", "neigh", "add", "fe80::a", "lladdr", a_mac, "dev", self.if_br, "nud", "permanent")
            sh("ip", "-n", f, "-6", "route", "add", "fd00::/64", "via", "fe80::a", "dev", self.if_br)
        self.gw_mac = self.mac(f, self.if_br)

    # --- configuration -----------------------------------------------------------
    @staticmethod
    def write_secret(path, text):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(path, 0o600)

    def write_configs(self):
        keyed = self.names + ("T" if self.router else "")
        key = {n: secrets.token_hex(32) for n in keyed}
        self.write_secret(self.paths["nvad.keys"], "# peer  key-id  key\n" + "".join(
            "%s 1 %s\n" % (self.agent_ip[n], key[n]) for n in keyed))
        for n in keyed:
            self.write_secret(self.paths[n + ".keys"], "%s 1 %s\n" % (NVAD_CTL, key[n]))
        os.makedirs(os.path.dirname(self.db), exist_ok=True)
        with open(self.paths["nvad.yaml"], "w") as fh:
            fh.write("""\
listen: {addresses: [%(nvad)s], port: %(port)d}
key_file: %(keys)s
db_path: %(db)s
notifications: {initial_timeout: 200ms, max_timeout: 2s, retries: 6, redirect_lifetime: %(redirect)s}
peers:
  - {address: %(a)s, endpoints: [%(nve_a)s]}
  - {address: %(b)s, endpoints: [%(nve_b)s]}
%(c)s%(export)s%(routers)slog: {level: debug}
""" % dict(routers=("default_routers:\n  - {address: %s, serves: [%s], virtual_networks: [0]}\n" % (
               AGENT_T, AGENT_A)) if self.router else "",
           export=("export:\n  socket: %s\n  home: [{prefix: 10.0.0.0/24, nve: %s}]\n  community: [\"65001:100\"]\n" % (
               os.path.join(os.path.dirname(self.db), "export.sock"), AGENT_A)) if self.bgp else "",
           c="  - {address: %s, endpoints: [%s]}\n" % (AGENT_C, NVE_C) if self.onward else "",nvad=NVAD_CTL, port=NVAD_PORT, keys=self.paths["nvad.keys"], db=self.db, a=AGENT_A, b=AGENT_B,
           nve_a=NVE_A + (", " + A_VN7 if self.tenants else ""), nve_b=NVE_B + (", " + B_VN7 if self.tenants else ""),
           redirect="4s" if self.long_flow else "32s"))
        with open(self.paths["nvad.yaml"]) as fh:
            self.nvad_yaml_good = fh.read()
        r = sh(self.nvad_bin, "-c", self.paths["nvad.yaml"], "--check", check=False)
        if r.returncode != 0:
            raise RuntimeError("nvad --check rejected its configuration:\n%s%s" % (r.stdout, r.stderr))
        log("nvad config OK: %s" % r.stdout.strip())
        if self.refused:  # A's endpoint left out: nvad refuses A's registrations (154) until fixed
            with open(self.paths["nvad.yaml"], "w") as fh:
                fh.write(self.nvad_yaml_good.replace("endpoints: [%s" % NVE_A, "endpoints: [192.0.2.99"))
        for n in self.names:
            with open(self.paths[n + ".yaml"], "w") as fh:
                fh.write("""\
ports:
  - {name: fabric, role: fabric, port_id: 0}
  - {name: vms, role: access, port_id: 1}
%(t7port)snve: {ipv4: %(nve)s}
fabric_gateway: {ipv4: %(gw)s}
%(tunnel)sdefault_action: drop
%(common)s  state_file: %(state)s
  retransmit_initial_ms: 200
  retransmit_max_ms: 2000
""" % dict(nve=self.nve_ip[n], gw=GW_IP, common=self.common_yaml(n),
                t7port="  - {name: t7, role: access, port_id: 2, vn: %d}\n" % T7_VN if self.tenants else "",
                # Tunnels are accepted from the NVEs nvad names (previous NVEs of
                # a VM that moved here); the tenants' static VN 7 routes tunnel
                # without a move, so those NVEs are configured.
                tunnel="tunnel: {peers: [%s/32, %s/32]}\n" % (NVE_A, NVE_B) if self.tenants else "",
                state=os.path.join(os.path.dirname(self.paths[n + ".yaml"]), n + ".state")))
                if self.tenants:
                    fh.write(self.tenant7_config(n))
            r = sh(self.nved_bin, "--", "-c", self.paths[n + ".yaml"], "--check-config", check=False)
            if r.returncode != 0:
                raise RuntimeError("nved --check-config rejected %s.yaml:\n%s%s" % (n, r.stdout, r.stderr))
        if self.router:
            self.write_tor_config()
        log("nved configs OK")

    def common_yaml(self, n):
        """What every nved here has: a small table and pool, and an agent
        talking to nvad from its own address with its own key file (the agent
        section is left open for more keys)."""
        return """\
route_table: {capacity: 4096}
workers: {mbufs: 4095, idle_sleep_us: 100}
agent:
  nvad: %s
  nvad_port: %d
  listen: %s
  listen_port: %d
  key_file: %s
""" % (NVAD_CTL, NVAD_PORT, self.agent_ip[n], NVAD_PORT, self.paths[n + ".keys"])

    def write_tor_config(self):
        """T: one fabric port, the default-router role for VN 0; its default
        route (fabric gateway) is A, where the VM's subnet lives."""
        with open(self.paths["T.yaml"], "w") as fh:
            fh.write("""\
ports:
  - {name: fabric, role: fabric, port_id: 0}
nve: {ipv4: %(tor)s}
fabric_gateway: {ipv4: %(a)s}
default_action: forward
%(common)s  router: {on_link: [192.0.2.0/24], prefixes: [10.0.0.0/24]}
""" % dict(tor=TOR_IP, a=NVE_A, common=self.common_yaml("T")))
        r = sh(self.nved_bin, "--", "-c", self.paths["T.yaml"], "--check-config", check=False)
        if r.returncode != 0:
            raise RuntimeError("nved --check-config rejected T.yaml:\n%s%s" % (r.stdout, r.stderr))

    def tor_routes(self):
        rc, rows = self.nvectl("T", "show", "default-router", json_out=True)
        return rows if rc == 0 and isinstance(rows, list) else []

    @staticmethod
    def tenant7_config(n):
        """Tenant 7 (--tenants): an access port in VN 7 and this NVE's VN 7
        endpoint on each; A holds tenant 7's VM at 10.0.0.5, B tunnels tenant
        7's packets for it to A's VN 7 endpoint."""
        text = """\
virtual_networks:
  - {vn: %d, ipv4: %s}
""" % (T7_VN, A_VN7 if n == "A" else B_VN7)
        if n == "A":
            return text + "local_vms:\n  - {port: t7, mac: \"%s\", addresses: [%s]}\n" % (VM7_MAC, VM_IP)
        return text + "moved_vms:\n  - {vn: %d, addresses: [%s], nve: %s}\n" % (T7_VN, VM_IP, A_VN7)

    # --- processes ---------------------------------------------------------------
    def start_bgp(self):
        """--bgp: BIRD on the fabric, ExaBGP (with nvmove-exabgp) next to nvad."""
        d = os.path.dirname(self.paths["nvad.yaml"])
        self.bird_ctl = os.path.join(d, "bird.ctl")
        with open(os.path.join(d, "bird.conf"), "w") as fh:
            fh.write("""router id 10.99.0.2;
protocol device {}
protocol kernel k4 { ipv4 { export all; }; }
protocol bgp nvmove {
  local 10.99.0.2 as 65002;
  neighbor 10.99.0.1 as 65001;
  ipv4 { import where (65001, 100) ~ bgp_community; export none; };
}
""")
        with open(os.path.join(d, "exabgp.conf"), "w") as fh:
            fh.write("""process nvmove {
    run %s --socket %s;
    encoder text;
}
neighbor 10.99.0.2 {
    router-id 10.99.0.1;
    local-address 10.99.0.1;
    local-as 65001;
    peer-as 65002;
    family { ipv4 unicast; }
    api { processes [ nvmove ]; }
}
""" % (os.path.abspath(self.bridge_bin), os.path.join(os.path.dirname(self.db), "export.sock")))
        self.bird = self.spawn("bird", self.ns_fab, ["bird", "-f", "-c", os.path.join(d, "bird.conf"), "-s",
                                                     self.bird_ctl, "-P", os.path.join(d, "bird.pid")],
                               os.path.join(d, "bird.log"))
        # `env` execs ExaBGP in place: the PID stopped at cleanup is ExaBGP's.
        self.exabgp = self.spawn("exabgp", self.ns_nve, [
            "env", "exabgp_daemon_user=root", "exabgp_api_cli=false", "exabgp_log_destination=stdout",
            "exabgp_daemon_daemonize=false", "exabgp", os.path.join(d, "exabgp.conf")], os.path.join(d, "exabgp.log"))

    def bgp_established(self):
        r = sh("birdc", "-s", self.bird_ctl, "show", "protocols", "nvmove", check=False)
        return "Established" in r.stdout

    def fabric_route(self):
        return sh("ip", "-n", self.ns_fab, "route", "show", VM_IP, check=False).stdout.strip()

    def start_nvad(self):
        self.nvad_sock = os.path.join(os.path.dirname(self.paths["nvad.yaml"]), "nvad.sock")
        self.nvad = self.spawn("nvad", self.ns_nve, [self.nvad_bin, "-c", self.paths["nvad.yaml"],
                                                    "--ctl-socket", self.nvad_sock],
                               self.paths["nvad.log"])
        log("nvad started, pid %d" % self.nvad.pid)

    def start_nved(self, n):
        argv = [self.nved_bin, "-l", "0,1", "--no-huge", "-m", "256", "--no-pci", "--file-prefix", self.prefix[n],
                "--vdev", "net_af_packet0,iface=%s" % self.fab_if[n]]
        if n in self.acc_if:  # (T, the ToR, has a fabric port only)
            argv += ["--vdev", "net_af_packet1,iface=%s" % self.acc_if[n]]
        if self.tenants:
            argv += ["--vdev", "net_af_packet2,iface=%s" % (self.if_a7 if n == "A" else self.if_b7)]
        argv += ["--", "-c", self.paths[n + ".yaml"], "--log-level", "info",
                "--counters-json", self.paths[n + ".counters.json"]]
        self.nveds[n] = self.spawn("nved " + n, self.ns_nve, argv, self.paths[n + ".log"])
        log("nved %s started, pid %d" % (n, self.nveds[n].pid))

    def nvectl(self, n, *words, json_out=False, timeout=5):
        argv = [self.nvectl_bin, "-p", self.prefix[n], "-t", "2000"] + (["-j"] if json_out else []) + list(words)
        r = sh(*argv, check=False, timeout=timeout)
        if json_out:
            try:
                return r.returncode, json.loads(r.stdout)
            except ValueError:
                return r.returncode, None
        return r.returncode, (r.stdout + r.stderr).strip()

    def vm(self, n, name):
        rc, vms = self.nvectl(n, "show", "vms", json_out=True)
        for v in vms or []:
            if v.get("vm_id") == name:
                return v
        return None

    def bul(self, n, name):
        rc, entries = self.nvectl(n, "show", "bul", json_out=True)
        for b in entries or []:
            if b.get("vm_id") == name:
                return b
        return None

    def route(self, n, addr):
        rc, routes = self.nvectl(n, "show", "routes", addr, json_out=True)
        return (routes or [None])[0] if rc == 0 else None

    def db_binding(self, name):
        """nvad's stored binding of the VM (read-only; WAL lets us read while it runs)."""
        if not os.path.exists(self.db):
            return None
        try:
            con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=2)
            try:
                con.row_factory = sqlite3.Row
                row = con.execute("SELECT * FROM bindings WHERE vm_id = ?", (name.encode(),)).fetchone()
                if row is None:
                    return None
                out = {k: row[k] for k in row.keys() if k not in ("vm_id", "mac")}
                out["previous_nves"] = [dict(p) for p in con.execute(
                    "SELECT address, endpoints, state, retries FROM previous_nves WHERE vm_id = ? "
                    "ORDER BY position", (name.encode(),))]
                return out
            finally:
                con.close()
        except sqlite3.Error as e:
            return {"error": str(e)}

    def cleanup(self):
        super().cleanup()
        for pfx in self.prefix.values():
            runtime = "/var/run/dpdk/" + pfx
            if os.path.isdir(runtime):
                shutil.rmtree(runtime, ignore_errors=True)


def read_send_times(path, with_result=False):
    """A stream helper's output: {seq: send time}, or {seq: (send time,
    "ok" or errno)} with_result."""
    out = {}
    for line in read(path).splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].isdigit():
            out[int(parts[0])] = (float(parts[1]), parts[2]) if with_result else float(parts[1])
    return out


def read_seq_lines(path, tenant7=False, tag=None):
    """Listener output: {seq: receive time} of the main stream, or of
    tenant 7's (tenant7), or of the stream with tag (e.g. "b")."""
    tag = "t" if tenant7 else tag
    out = {}
    for line in read(path).splitlines():
        parts = line.split()
        if not parts:
            continue
        seq = (parts[0][len(tag):] if parts[0].startswith(tag) else None) if tag else parts[0]
        if len(parts) >= 2 and seq and seq.isdigit():
            out.setdefault(int(seq), float(parts[1]))
    return out


def stop_proc(p, sig=signal.SIGTERM, timeout=10.0):
    """Signal, wait, SIGKILL after timeout; returns the exit status (never raises)."""
    try:
        if p.poll() is None:
            p.send_signal(sig)
            try:
                return p.wait(timeout)
            except subprocess.TimeoutExpired:
                log("pid %d ignored signal %d for %.0fs: SIGKILL" % (p.pid, sig, timeout))
                p.kill()
                return p.wait(10)
        return p.returncode
    except Exception as e:  # noqa: cleanup goes on whatever happens
        return "error: %s" % e


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nved", default=DEFAULT_NVED)
    ap.add_argument("--nvectl", default=DEFAULT_NVECTL)
    ap.add_argument("--nvad", default=None, help="default: build/control/nvad/nvad, else any nvad under build/")
    ap.add_argument("--keep-logs", action="store_true", help="keep the temporary directory")
    ap.add_argument("--restart-a", action="store_true",
                    help="restart nved A once it holds the redirect: the redirect must survive (agent.state_file)")
    ap.add_argument("--long-flow", action="store_true",
                    help="redirect lifetime 4 s and 14 s of traffic after the move: the redirect must outlive "
                         "three lifetimes while packets arrive (seed 003 section 5)")
    ap.add_argument("--restart-nvad", action="store_true",
                    help="stop and start nvad between the registration and the move: the binding comes back from "
                         "its store and the move completes through the new process")
    ap.add_argument("--mode", choices=("hot", "warm", "cold"), default="hot",
                    help="the mobility hint B registers the move with (vm activate VM MODE): after a cold move "
                         "the last source NVE (A) still redirects (seed 003 section 7)")
    ap.add_argument("--ipv6", action="store_true",
                    help="the VM also has an IPv6 address, with a stream of its own: delivered natively before "
                         "the move, IPv6-in-IPv4 over the IPv4 fabric after it (cross-family)")
    ap.add_argument("--refused", action="store_true",
                    help="nvad refuses A's registration (A's endpoint missing from its peers) until its "
                         "configuration is fixed and it restarts: A's requests stay bounded and it recovers")
    ap.add_argument("--onward", choices=("hot", "cold"), default=None,
                    help="a third NVE: after the move to B the VM moves on to C (A -> B -> C) with this hint; "
                         "hot: A and B both redirect to C; cold: B (the last source) redirects, A drops its entry")
    ap.add_argument("--chain", action="store_true",
                    help="after the move to B the VM comes back to A (A -> B -> A), while a second correspondent "
                         "sends through B: B, now a previous NVE, redirects it to A")
    ap.add_argument("--bgp", action="store_true",
                    help="nvad exports the VM's host route through ExaBGP to BIRD on the fabric (seed 003 7.3)")
    ap.add_argument("--bridge", default=None, help="nvmove-exabgp (--bgp)")
    ap.add_argument("--router", action="store_true",
                    help="nved T in the default-router role routes a correspondent to B natively after the move")
    ap.add_argument("--register", default=None, help="nve_register (--router: the forged registration)")
    ap.add_argument("--spoof", action="store_true",
                    help="after the move, the gateway sends IP-in-IP to B: dropped as from no known NVE")
    ap.add_argument("--tenants", action="store_true",
                    help="a second tenant (VN 7) with a VM at the same address behind A, which stays, and a "
                         "correspondent behind B: while VN 0's VM moves, neither tenant receives a datagram of "
                         "the other (docs/protocol.md, Tenants on the fabric)")
    ap.add_argument("--activate-by", choices=("cli", "announcement"), default="cli",
                    help="how B learns the VM arrived: nvectl vm activate, or the VM's own gratuitous ARP")
    ap.add_argument("--order", choices=("activate-first", "deactivate-first"), default="activate-first",
                    help="activate-first (default): B activates, then A deactivates (live migration); "
                    "deactivate-first: A deactivates, then B activates (diagnostics)")
    args = ap.parse_args()
    if args.nvad is None:
        args.nvad = DEFAULT_NVAD
        if not os.access(args.nvad, os.X_OK):
            found = subprocess.run(["find", os.path.join(REPO, "build"), "-name", "nvad", "-type", "f", "-perm",
                                    "-u+x"], capture_output=True, text=True).stdout.split()
            if found:
                args.nvad = found[0]
    if not base.preflight([("nved", args.nved), ("nvectl", args.nvectl), ("nvad", args.nvad)]):
        return 1

    base.raise_on_signals()

    tmp = tempfile.mkdtemp(prefix="nvmove-move-e2e-")
    env = MoveEnv(args, tmp)
    env.long_flow = args.long_flow
    res = base.Results(expected=7 + (1 if args.long_flow else 0) + (1 if args.restart_a else 0)
                       + (1 if args.tenants else 0) + (1 if args.restart_nvad else 0) + (1 if args.chain else 0)
                       + (1 if args.refused else 0) + (1 if args.ipv6 else 0) + (1 if args.onward else 0)
                       + (1 if args.bgp else 0) + (1 if args.router else 0))
    stop_path = os.path.join(tmp, "stop")                # the sender
    stop_listeners = os.path.join(tmp, "stop-listeners")  # after the sender, once stragglers are in
    listen_out = {"A": os.path.join(tmp, "vmA.recv"), "B": os.path.join(tmp, "vmB.recv")}
    if args.onward:
        listen_out["C"] = os.path.join(tmp, "vmC.recv")
    if args.tenants:
        listen_out["7A"] = os.path.join(tmp, "vm7A.recv")
    if args.ipv6:
        listen_out["A6"] = os.path.join(tmp, "vmA6.recv")
        listen_out["B6"] = os.path.join(tmp, "vmB6.recv")
    stream6_out = os.path.join(tmp, "stream6.out")
    stream_out = os.path.join(tmp, "stream.out")
    stream7_out = os.path.join(tmp, "stream7.out")
    streamb_out = os.path.join(tmp, "streamB.out")
    streamt_out = os.path.join(tmp, "streamT.out")
    try:
        env.setup()
        log("namespaces %s %s %s %s; VM MAC %s; gateway (bridge) MAC %s" % (
            env.ns_nve, env.ns_fab, env.ns_vma, env.ns_vmb, VM_MAC, env.gw_mac))
        env.write_configs()

        # tshark on B's fabric link (the bridge port toward B), started first:
        # it takes a few seconds to load its dissectors.
        cap_out = os.path.join(tmp, "capture.txt")
        cap_err = os.path.join(tmp, "tshark.err")
        tshark_cmd = ["tshark", "-n", "-l", "-i", env.if_gb, "-f", "ip proto 4 or icmp" + (" or ip proto 41" if args.ipv6 else "")
                      + (" or (udp and src host %s)" % COR_T_IP if args.router else ""),
                      "-w", os.path.join(tmp, "fabric-B.pcap"), "-P", "-a", "duration:80",
                      "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                      "-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]
        for fld in base.CAPTURE_FIELDS:
            tshark_cmd += ["-e", fld]
        cap = env.spawn("tshark", env.ns_fab, tshark_cmd, cap_out, cap_err)

        # ---- 1. nvad, then the two nveds ------------------------------------------
        env.start_nvad()
        if not wait_until(lambda: ("listening on %s port %d" % (NVAD_CTL, NVAD_PORT)) in read(env.paths["nvad.log"])
                          or env.nvad.poll() is not None, 10):
            raise RuntimeError("nvad not listening after 10 s:\n%s" % read(env.paths["nvad.log"]))
        if env.nvad.poll() is not None:
            raise RuntimeError("nvad exited (status %s):\n%s" % (env.nvad.returncode, read(env.paths["nvad.log"])))
        log("nvad listening on %s port %d" % (NVAD_CTL, NVAD_PORT))
        if args.bgp:
            env.start_bgp()
            if not wait_until(env.bgp_established, 20, 0.2):
                raise RuntimeError("BGP session ExaBGP - BIRD not established after 20 s:\n%s" % read(
                    os.path.join(os.path.dirname(env.paths["nvad.yaml"]), "exabgp.log"))[-3000:])
            log("BGP session ExaBGP 10.99.0.1 (AS 65001) - BIRD 10.99.0.2 (AS 65002) established")
        nveds = env.names + ("T" if args.router else "")
        for n in nveds:
            env.start_nved(n)

        def ready(n):
            p = env.nveds[n]
            if p.poll() is not None:
                raise RuntimeError("nved %s exited early (status %s):\n%s" % (n, p.returncode,
                                                                            read(env.paths[n + ".log"])))
            t = read(env.paths[n + ".log"])
            return ("worker 0 on lcore" in t and ("fabric gateway %s is at" % (NVE_A if n == "T" else GW_IP)) in t
                    and "mobility agent:" in t and env.nvectl(n, "show", "version")[0] == 0)
        t_start = time.monotonic()
        if not wait_until(lambda: all(ready(n) for n in nveds), 25, interval=0.2):
            raise RuntimeError("nveds not ready after 25 s:\nA:\n%s\nB:\n%s" % (
                read(env.paths["A.log"])[-3000:], read(env.paths["B.log"])[-3000:]))
        for n in nveds:
            line = [x for x in read(env.paths[n + ".log"]).splitlines() if "mobility agent:" in x]
            log("nved %s ready: %s" % (n, line[0].split("] ")[-1] if line else "?"))
        for ip in [env.nve_ip[n] for n in nveds]:
            r = env.helper(env.ns_fab, "ping", ip, "5")
            if r.returncode != 0:
                raise RuntimeError("no echo reply from %s:\n%s%s" % (ip, r.stdout, r.stderr))
        log("both nveds answer ARP and echo from the fabric (%.1fs after start)" % (time.monotonic() - t_start))

        # The capture is live once it has seen an echo exchange with B.
        if not wait_until(lambda: "Capturing on" in read(cap_err) or cap.poll() is not None, 20):
            raise RuntimeError("tshark did not start:\n%s" % read(cap_err))

        def capture_live():
            if env.helper(env.ns_fab, "ping", NVE_B, "1").returncode != 0:
                return False
            return wait_until(lambda: any(row["ip.src"] == NVE_B and row["ip.proto"] == "1"
                                          for row in base.capture_rows(cap_out)), 1)
        if not wait_until(capture_live, 15, interval=0.1):
            raise RuntimeError("the capture on B's fabric link never saw B's echo reply:\n%s" % read(cap_err))
        log("capture on %s live" % env.if_gb)

        # ---- 2. the VM on A ------------------------------------------------------------
        assoc = ["vm", "associate", VM_ID, "port", "vms", "mac", VM_MAC, "addr",
                 VM_IP + ("," + VM_IP6 if args.ipv6 else "")]
        for words in (assoc, ["vm", "activate", VM_ID]):
            rc, out = env.nvectl("A", *words)
            log("A: nvectl %s -> %d %s" % (" ".join(words), rc, out))
            # nvectl waits for nvad's answer to the activation's registration
            # and says what it was: refused (exit 1) in --refused, else accepted.
            if words[1] == "activate":
                want = (1, "nvad refused the registration: Not authorized") if args.refused else (
                    0, "vm %s: registered with nvad, lifetime" % VM_ID)
                if rc != want[0] or want[1] not in out:
                    raise RuntimeError("vm activate on A: exit %d %r, expected exit %d and %r" % (
                        rc, out, want[0], want[1]))
            elif rc != 0:
                raise RuntimeError("A refused %s" % " ".join(words))
        # ---- 2a. a refused registration that recovers once its cause is fixed ---------------
        if args.refused:
            t_act = time.monotonic()
            refused = wait_until(lambda: (lambda v: v if v and v.get("refused_with") else None)(
                env.vm("A", VM_ID)), 5, interval=0.05)
            time.sleep(max(0.0, REFUSED_FOR_S - (time.monotonic() - t_act)))
            _, agent_refused = env.nvectl("A", "show", "agent", json_out=True)
            requests_refused = (agent_refused or {}).get("requests_sent", -1)
            log("A refused by nvad: %s; %d requests in %.1f s" % (refused, requests_refused,
                                                                  time.monotonic() - t_act))
            # The operator fixes nvad's configuration (A's endpoint) and restarts it.
            with open(env.paths["nvad.yaml"], "w") as fh:
                fh.write(env.nvad_yaml_good)
            rc_nvad = stop_proc(env.nvad)
            os.rename(env.paths["nvad.log"], env.paths["nvad.log"] + ".refused")
            env.start_nvad()
            wait_until(lambda: ("listening on %s port %d" % (NVAD_CTL, NVAD_PORT)) in read(env.paths["nvad.log"]), 10)
            t_fixed = time.monotonic()
            recovered = wait_until(lambda: (lambda v: v if v and v.get("registered") else None)(
                env.vm("A", VM_ID)), 15, interval=0.05)
            log("A after the fix: %s (%.1f s after nvad came back)" % (recovered, time.monotonic() - t_fixed))
            res.record("refused", bool(refused) and refused.get("refused_with") == "Not authorized"
                       and 1 <= requests_refused <= REFUSED_MAX_REQUESTS and rc_nvad == 0 and bool(recovered)
                       and recovered.get("refused_with") is None,
                       "nvad refused A's registration (%s: A's endpoint not listed); A asked %d times in %.0f s "
                       "(bound %d: policy refusals are retried after the retransmission cap, doubling); once "
                       "nvad's configuration was fixed it registered within %.1f s, refusal cleared" % (
                           (refused or {}).get("refused_with"), requests_refused, REFUSED_FOR_S,
                           REFUSED_MAX_REQUESTS, time.monotonic() - t_fixed))
        t_reg = time.monotonic()
        va = wait_until(lambda: (lambda v: v if v and v.get("registered") else None)(env.vm("A", VM_ID)), 5)
        log("A: show vms: %s (%.0f ms after activate)" % (env.vm("A", VM_ID), (time.monotonic() - t_reg) * 1000))
        dbb = wait_until(lambda: (lambda b: b if b and b.get("serving_address") == AGENT_A else None)(
            env.db_binding(VM_ID)), 3)
        dbb = dbb or env.db_binding(VM_ID)
        log("nvad store: %s" % dbb)
        route_a0 = env.route("A", VM_IP)
        checks = {
            "A: vm1 activated and registered": bool(va) and va.get("state") == "activated",
            "nvad store: vm1 served by %s, endpoints [%s]" % (AGENT_A, NVE_A):
                bool(dbb) and dbb.get("serving_address") == AGENT_A
                and json.loads(dbb.get("serving_endpoints") or "[]") == [NVE_A],
            "nvad log: registered at NVE %s" % AGENT_A:
                ("VM %s registered at NVE %s" % (NVAD_VM, AGENT_A)) in read(env.paths["nvad.log"]),
            "A: route %s local" % VM_IP: bool(route_a0) and route_a0.get("kind") == "local"
                and route_a0.get("mac") == VM_MAC,
        }
        for name, ok in checks.items():
            log("  registration: %-60s %s" % (name, "ok" if ok else "NO"))
        res.record("registration", all(checks.values()), "%d/%d checks" % (sum(checks.values()), len(checks)))

        # ---- 2b. nvad restarted between the registration and the move ---------------------
        if args.restart_nvad:
            t_down = time.monotonic()
            rc_nvad = stop_proc(env.nvad)
            os.rename(env.paths["nvad.log"], env.paths["nvad.log"] + ".1")
            env.start_nvad()
            up = wait_until(lambda: ("listening on %s port %d" % (NVAD_CTL, NVAD_PORT)) in read(env.paths["nvad.log"])
                            or env.nvad.poll() is not None, 10)
            restored = "restored 1 binding(s)" in read(env.paths["nvad.log"])
            dbr = env.db_binding(VM_ID)
            log("nvad restarted (old exit %s) in %.0f ms: %s; store %s" % (
                rc_nvad, (time.monotonic() - t_down) * 1000,
                next((x for x in read(env.paths["nvad.log"]).splitlines() if "restored" in x), "no 'restored' line"),
                dbr))
            res.record("nvad restart", rc_nvad == 0 and bool(up) and env.nvad.poll() is None and restored
                       and bool(dbr) and dbr.get("serving_address") == AGENT_A,
                       "nvad stopped (SIGTERM, exit %s) and started again after the registration: it restored the "
                       "binding of vm1 at %s from its store, and the move below goes through the new process"
                       % (rc_nvad, AGENT_A))

        # ---- 3. listeners and the stream -----------------------------------------------
        listeners = [("A", env.ns_vma), ("B", env.ns_vmb)] + ([("C", env.ns_vmc)] if args.onward else []) + (
            [("7A", env.ns_vm7a)] if args.tenants else []) + (
            [("A6", env.ns_vma), ("B6", env.ns_vmb)] if args.ipv6 else [])
        for n, ns in listeners:
            ready_path = os.path.join(tmp, "vm%s.ready" % n)
            six = n.endswith("6")
            env.spawn("listener vm" + n, ns, [PYTHON, os.path.abspath(__file__), "--helper", "seqlisten",
                                              str(UDP_PORT6 if six else UDP_PORT), ready_path, stop_listeners, "60",
                                              "6" if six else "4"],
                      listen_out[n], os.path.join(tmp, "vm%s.err" % n))
            if not wait_until(lambda: os.path.exists(ready_path), 10):
                raise RuntimeError("listener in vm%s not ready:\n%s" % (n, read(os.path.join(tmp, "vm%s.err" % n))))
        stream = env.spawn("stream", env.ns_fab, [PYTHON, os.path.abspath(__file__), "--helper", "stream", VM_IP,
                                                  str(UDP_PORT), str(INTERVAL_S), stop_path, "30"],
                           stream_out, os.path.join(tmp, "stream.err"))
        t_stream = time.monotonic()
        if args.tenants:  # tenant 7's correspondent behind B, to tenant 7's VM behind A (same address)
            stream7 = env.spawn("stream7", env.ns_c7b, [PYTHON, os.path.abspath(__file__), "--helper", "stream", VM_IP,
                                                        str(UDP_PORT), str(INTERVAL_S * 2), stop_path, "30", "T"],
                                stream7_out, os.path.join(tmp, "stream7.err"))
            if not wait_until(lambda: len(read_seq_lines(listen_out["7A"], tenant7=True)) > 0, 5):
                raise RuntimeError("no datagram of tenant 7 reached its VM behind A within 5 s:\n%s\nB: %s" % (
                    read(os.path.join(tmp, "stream7.err")), env.nvectl("B", "show", "counters")[1]))
        if args.ipv6:  # the VM's IPv6 address, from the fabric through A
            stream6 = env.spawn("stream6", env.ns_fab, [PYTHON, os.path.abspath(__file__), "--helper", "stream",
                                                        VM_IP6, str(UDP_PORT6), str(INTERVAL_S * 2), stop_path, "30"],
                                stream6_out, os.path.join(tmp, "stream6.err"))
            if not wait_until(lambda: len(read_seq_lines(listen_out["A6"])) > 0, 5):
                raise RuntimeError("no IPv6 datagram reached vmA within 5 s:\n%s\nA: %s" % (
                    read(os.path.join(tmp, "stream6.err")), env.nvectl("A", "show", "counters")[1]))
        if env.chain:  # the correspondent whose route to 10.0.0.0/24 goes through B
            streamb = env.spawn("streamB", env.ns_corb, [PYTHON, os.path.abspath(__file__), "--helper", "stream",
                                                         VM_IP, str(UDP_PORT), str(INTERVAL_S * 2), stop_path, "40",
                                                         "B"], streamb_out, os.path.join(tmp, "streamB.err"))
        if args.router:  # the correspondent whose default router is T
            streamt = env.spawn("streamT", env.ns_cort, [PYTHON, os.path.abspath(__file__), "--helper", "stream",
                                                         VM_IP, str(UDP_PORT), str(INTERVAL_S * 2), stop_path, "40",
                                                         "R"], streamt_out, os.path.join(tmp, "streamT.err"))
            if not wait_until(lambda: len(read_seq_lines(listen_out["A"], tag="r")) > 0, 5):
                raise RuntimeError("no datagram through T reached vmA within 5 s:\n%s\nT: %s" % (
                    read(os.path.join(tmp, "streamT.err")), env.nvectl("T", "show", "counters")[1]))
        if not wait_until(lambda: len(read_seq_lines(listen_out["A"])) > 0, 5):
            raise RuntimeError("no datagram reached vmA within 5 s of starting the stream:\n%s" %
                               read(os.path.join(tmp, "stream.err")))
        t_first_a = time.monotonic()
        log("stream started; first datagram at vmA after %.0f ms" % ((t_first_a - t_stream) * 1000))
        time.sleep(PRE_MOVE_S)

        # ---- 4. the move -----------------------------------------------------------------
        t_move0 = time.monotonic()
        log("move (%s): vmA has %d datagrams" % (args.order, len(read_seq_lines(listen_out["A"]))))
        move_ok = True

        def deactivate_a():
            rc, out = env.nvectl("A", "vm", "deactivate", VM_ID)
            log("A: nvectl vm deactivate %s -> %d %s" % (VM_ID, rc, out))
            return rc == 0, time.monotonic()
        if args.order == "deactivate-first":
            ok_d, t_a_deact = deactivate_a()
            move_ok = move_ok and ok_d
        b_words = [assoc] + ([["vm", "activate", VM_ID] + ([args.mode] if args.mode != "hot" else [])]
                             if args.activate_by == "cli" else [])
        for words in b_words:
            rc, out = env.nvectl("B", *words)
            log("B: nvectl %s -> %d %s" % (" ".join(words), rc, out))
            move_ok = move_ok and rc == 0
        if args.activate_by == "announcement":
            # No vm activate: the VM's gratuitous ARP on B's access port does it.
            sh("ip", "netns", "exec", env.ns_vmb, PYTHON, os.path.abspath(__file__), "--helper", "garp", env.if_vb,
               VM_MAC, VM_IP)
            active = wait_until(lambda: (lambda v: v if v and v.get("state") == "activated" else None)(
                env.vm("B", VM_ID)), 5, interval=0.02)
            _, agent_b = env.nvectl("B", "show", "agent", json_out=True)
            log("B: after the VM's gratuitous ARP: %s; agent %s" % (env.vm("B", VM_ID), agent_b))
            move_ok = move_ok and bool(active) and bool(agent_b) and agent_b.get("vm_announcements_activated") == 1
        t_b_active = time.monotonic()
        vb = wait_until(lambda: (lambda v: v if v and v.get("registered") else None)(env.vm("B", VM_ID)), 5)
        t_b_reg = time.monotonic()
        # --router: T gets its host route from nvad at the same time as A its
        # redirect: timed from here (checked in 5d).
        t_tor = None
        if args.router:
            tor_row = wait_until(lambda: next((r for r in env.tor_routes() if r.get("address") == VM_IP
                                               and r.get("state") == "installed"), None), 5, 0.002)
            t_tor = time.monotonic() if tor_row else None
        bul_a = wait_until(lambda: env.bul("A", VM_ID), 5, interval=0.02)
        t_a_bul = time.monotonic()
        route_a1 = env.route("A", VM_IP)
        log("B registered %s (%.0f ms after activate); A's BUL %s (%.0f ms after activate); A's route now %s" % (
            bool(vb), (t_b_reg - t_b_active) * 1000, bul_a, (t_a_bul - t_b_active) * 1000, route_a1))
        if args.order == "activate-first":
            ok_d, t_a_deact = deactivate_a()
            move_ok = move_ok and ok_d
        # The move is complete once A has deactivated the VM and tunnels to B.
        t_move = max(t_a_deact, t_a_bul)
        log("move complete %.0f ms after it began" % ((t_move - t_move0) * 1000))

        # ---- 5. state after the move ----------------------------------------------------
        route_a2 = env.route("A", VM_IP)
        route_b = env.route("B", VM_IP)
        bul_a2 = env.bul("A", VM_ID)
        va2 = env.vm("A", VM_ID)
        _, agent_a = env.nvectl("A", "show", "agent", json_out=True)
        _, metrics_a = env.nvectl("A", "show", "metrics")
        log("A after deactivate: route %s; BUL %s; vm %s" % (route_a2, bul_a2, va2))
        log("A agent counters: %s" % agent_a)
        log("B: route %s" % route_b)
        # No tunnel.peers anywhere: B decapsulates A's tunnels because nvad's
        # reply named A (docs/protocol.md 7, "Who may tunnel to an NVE").
        _, peers_b = env.nvectl("B", "show", "tunnel-peers", json_out=True)
        log("B: tunnel peers %s" % peers_b)
        dbm = wait_until(lambda: (lambda b: b if b and b.get("serving_address") == AGENT_B else None)(
            env.db_binding(VM_ID)), 3)
        dbm = dbm or env.db_binding(VM_ID)
        log("nvad store after the move: %s" % dbm)
        # The operator's view of the same binding: nvectl talking to nvad.
        r = sh(env.nvectl_bin, "-d", "nvad", "-s", env.nvad_sock, "-j", "show", "bindings", check=False)
        try:
            cli_bindings = json.loads(r.stdout) if r.returncode == 0 else []
        except ValueError:
            cli_bindings = []
        log("nvectl -d nvad show bindings: %s" % cli_bindings)
        # (--router: T, the default router of A, is told of the move too.)
        previous_expected = [(AGENT_A, "nve")] + ([(AGENT_T, "router")] if args.router else [])
        checks = {
            "A: show metrics has the agent's counters (nve_agent_notifications_accepted_total 1)":
                "nve_agent_notifications_accepted_total 1" in str(metrics_a).splitlines(),
            "nvectl -d nvad show bindings: vm1 served by %s, previous %s" % (AGENT_B, previous_expected):
                len(cli_bindings) == 1 and cli_bindings[0]["serving_nve"]["address"] == AGENT_B
                and [(p["address"], p["role"]) for p in cli_bindings[0]["previous_nves"]] == previous_expected,
            "B accepted associate + activate, A deactivate": move_ok,
            "B: vm1 registered": bool(vb),
            "B: show tunnel-peers lists %s, learnt from nvad" % NVE_A: bool(peers_b)
                and any(p.get("peer") == NVE_A and p.get("source") == "nvad" for p in peers_b),
            "nvad store: vm1 served by %s, endpoints [%s], move_count 1" % (AGENT_B, NVE_B):
                bool(dbm) and dbm.get("serving_address") == AGENT_B
                and json.loads(dbm.get("serving_endpoints") or "[]") == [NVE_B] and dbm.get("move_count") == 1,
            "nvad store: previous NVE %s" % AGENT_A: bool(dbm)
                and [p.get("address") for p in dbm.get("previous_nves", [])] == [a for a, _ in previous_expected],
            "nvad store: the move's mobility hint is %s" % args.mode: bool(dbm)
                and dbm.get("last_move_mode") == {"cold": 1, "warm": 2, "hot": 3}[args.mode],
            "nvad log: moved from NVE %s to NVE %s" % (AGENT_A, AGENT_B):
                ("VM %s moved from NVE %s to NVE %s" % (NVAD_VM, AGENT_A, AGENT_B)) in read(env.paths["nvad.log"]),
            "A: show bul lists vm1 toward %s" % NVE_B: bool(bul_a2) and bul_a2.get("new_nve_ipv4") == NVE_B
                and VM_IP in bul_a2.get("addresses", []),
            "A: notifications_accepted >= 1": bool(agent_a) and agent_a.get("notifications_accepted", 0) >= 1,
            "A: vm1 back to associated": bool(va2) and va2.get("state") == "associated",
            "B: route %s local to %s" % (VM_IP, VM_MAC): bool(route_b) and route_b.get("kind") == "local"
                and route_b.get("mac") == VM_MAC,
        }
        for name, ok in checks.items():
            log("  move: %-68s %s" % (name, "ok" if ok else "NO"))
        res.record("move", all(checks.values()), "%d/%d checks" % (sum(checks.values()), len(checks)))
        ok = bool(route_a2) and route_a2.get("kind") == "tunnel" and route_a2.get("nve") == NVE_B
        res.record("A's route", ok, "after `vm deactivate` on A: %s (before it, after the notification: %s); "
                   "expected a tunnel to %s" % (route_a2, route_a1, NVE_B))

        # ---- 5a. a tunnel from a fabric host that is no NVE (CVE-2020-10136) ----------------
        # The gateway (192.0.2.254) sends IP-in-IP to B with the VM as inner
        # destination: B knows A from nvad, not the gateway, so every frame
        # must land on drop_decap_unknown_peer (checked with B's counters at
        # exit) and none reach vmB (an unused port: the stream's listener is
        # not disturbed either way).
        spoof_sent = 0
        if args.spoof:
            b_mac = env.mac(env.ns_nve, env.if_fb)
            rs = env.helper_result("scapy-ipip-spoofed", env.ns_fab, "ipip", env.if_br, env.gw_mac, b_mac,
                                   str(SPOOF_COUNT), str(SPOOF_PORT), GW_IP, "S", NVE_B)
            spoof_sent = rs["sent"]
            log("spoofed IP-in-IP from %s to B: %s" % (GW_IP, rs))

        # ---- 5b. A restarted while it holds the redirect ------------------------------------
        restart_window = None
        if args.restart_a:
            t_down = time.monotonic()
            rc_a = stop_proc(env.nveds["A"])
            env.start_nved("A")
            up = wait_until(lambda: env.nvectl("A", "show", "version")[0] == 0, 15)
            t_up = time.monotonic()
            restart_window = (t_down, t_up + SETTLE_S)
            bul_after = wait_until(lambda: env.bul("A", VM_ID), 5)
            route_after = env.route("A", VM_IP)
            va_after = env.vm("A", VM_ID)
            log("A restarted (old exit %s) in %.0f ms: BUL %s, route %s, vm %s" % (
                rc_a, (t_up - t_down) * 1000, bul_after, route_after, va_after))
            res.record("restart", bool(up) and bool(bul_after) and bool(route_after)
                       and route_after.get("kind") == "tunnel" and route_after.get("nve") == NVE_B
                       and bool(va_after) and va_after.get("state") == "associated",
                       "after a restart A still tunnels %s to %s (redirect restored from its state file) and "
                       "knows the VM as associated" % (VM_IP, NVE_B))

        # ---- 5c. the host route reaches the fabric (--bgp) --------------------------------
        t_route = encap_at_route = None

        def a_encap():
            _, c = env.nvectl("A", "show", "counters", json_out=True)
            c = c or {}
            return c.get("encap_ipv4_in_ipv4", (c.get("counters") or {}).get("encap_ipv4_in_ipv4"))
        if args.bgp:
            if wait_until(lambda: ("via %s" % NVE_B) in env.fabric_route(), 5, 0.005):
                t_route = time.monotonic()
            time.sleep(0.3)  # what A had in flight is out
            encap_at_route = a_encap()
            log("fabric route %r at %s; A's encap_ipv4_in_ipv4 then: %s" % (
                env.fabric_route(), "+%.0f ms after B registered" % ((t_route - t_b_reg) * 1000) if t_route else "never",
                encap_at_route))

        # ---- 5d. the default router's host route (--router) --------------------------------
        forged = {}
        if args.router:
            tor_route = env.route("T", VM_IP)
            b_fab_mac = env.mac(env.ns_nve, env.if_fb)
            log("T: host route %s, %s after B registered; T's route %s; B's fabric MAC %s" % (
                tor_row, "%.0f ms" % ((t_tor - t_b_reg) * 1000) if t_tor else "never", tor_route, b_fab_mac))
            # A router registration nvad did not send: signed with a key T
            # does not have, from nvad's address. T must drop it unanswered.
            _, agent_t0 = env.nvectl("T", "show", "agent", json_out=True)
            forged_keys = os.path.join(tmp, "forged.keys")
            env.write_secret(forged_keys, "%s 1 %s\n" % (AGENT_T, secrets.token_hex(32)))
            r = sh("ip", "netns", "exec", env.ns_nve, args.register, "--nvad", AGENT_T, "--port", str(NVAD_PORT),
                   "--from", NVAD_CTL, "--keys", forged_keys, "--vm", "forged", "--vn", "0", "--mac",
                   "02:00:00:00:0f:0f", "--addr", FORGED_VM_IP, "--endpoint", NVE_B, "--flags", "NR",
                   check=False, timeout=20)
            _, agent_t1 = env.nvectl("T", "show", "agent", json_out=True)
            forged = {"exit": r.returncode,
                      "dropped": (agent_t1 or {}).get("dropped_datagrams", 0) - (agent_t0 or {}).get("dropped_datagrams", 0),
                      "listed": any(row.get("address") == FORGED_VM_IP for row in env.tor_routes()),
                      "route": env.route("T", FORGED_VM_IP)}
            log("forged router registration to T: %s (%s)" % (forged, (r.stdout + r.stderr).strip()))

        # ---- 6. traffic after the move ----------------------------------------------------
        time.sleep(14.0 if args.long_flow else POST_MOVE_S)
        encap_late = a_encap() if args.bgp else None
        if args.long_flow:
            _, agent_a_late = env.nvectl("A", "show", "agent", json_out=True)
            bul_late = env.bul("A", VM_ID)
            renewed = (agent_a_late or {}).get("bul_renewed", 0)
            res.record("long flow", renewed >= 2 and bool(bul_late),
                       "14 s of traffic after the move with a 4 s redirect lifetime: A renewed its redirect %d "
                       "times (need >= 2) and still tunnels (%s)" % (renewed, bul_late))
        # ---- 6b. the VM comes back to A (A -> B -> A) ----------------------------------------
        t_back0 = None
        if args.chain:
            t_back0 = time.monotonic()
            back_ok = True
            for n, words in (("A", ["vm", "activate", VM_ID]), ("B", ["vm", "deactivate", VM_ID])):
                rc, out = env.nvectl(n, *words)
                log("%s: nvectl %s -> %d %s" % (n, " ".join(words), rc, out))
                back_ok = back_ok and rc == 0
            bul_b = wait_until(lambda: (lambda b: b if b and b.get("new_nve_ipv4") == NVE_A else None)(
                env.bul("B", VM_ID)), 5, interval=0.02)
            t_back = time.monotonic()
            route_a_back, route_b_back = env.route("A", VM_IP), env.route("B", VM_IP)
            log("back at A in %.0f ms: B's BUL %s; A's route %s; B's route %s" % (
                (t_back - t_back0) * 1000, bul_b, route_a_back, route_b_back))
            time.sleep(POST_MOVE_S)
        # ---- 6c. the VM moves on to C (A -> B -> C) ----------------------------------------
        t_onward0 = None
        if args.onward:
            t_onward0 = time.monotonic()
            onward_ok = True
            for n, words in (("C", assoc), ("C", ["vm", "activate", VM_ID] + ([args.onward] if args.onward != "hot" else [])),
                             ("B", ["vm", "deactivate", VM_ID])):
                rc, out = env.nvectl(n, *words)
                log("%s: nvectl %s -> %d %s" % (n, " ".join(words), rc, out))
                onward_ok = onward_ok and rc == 0
            toward_c = lambda n: (lambda b: b if b and b.get("new_nve_ipv4") == NVE_C else None)(env.bul(n, VM_ID))  # noqa: E731
            bul_b_c = wait_until(lambda: toward_c("B"), 5, interval=0.02)
            if args.onward == "hot":
                a_state = wait_until(lambda: toward_c("A"), 5, interval=0.02)
            else:  # cold: A, an older previous NVE, drops its entry and its routes
                a_state = wait_until(lambda: env.bul("A", VM_ID) is None and env.route("A", VM_IP) is None, 5,
                                     interval=0.02)
            t_onward = time.monotonic()
            log("moved on to C (%s) in %.0f ms: B's BUL %s; A: %s; A's route %s" % (
                args.onward, (t_onward - t_onward0) * 1000, bul_b_c, env.bul("A", VM_ID), env.route("A", VM_IP)))
            time.sleep(POST_MOVE_S)
        open(stop_path, "w").close()
        summary = wait_until(lambda: next((json.loads(x) for x in read(stream_out).splitlines()
                                           if x.startswith("{")), None), 5)
        if not summary:
            raise RuntimeError("the stream sender gave no summary:\n%s" % read(os.path.join(tmp, "stream.err")))
        # Stragglers: wait until the listeners have been quiet for 200 ms (at most 2 s).
        quiet = {"n": -1, "t": time.monotonic()}

        def drained():
            n = len(read(listen_out["A"])) + len(read(listen_out["B"]))
            if n != quiet["n"]:
                quiet["n"], quiet["t"] = n, time.monotonic()
            return time.monotonic() - quiet["t"] >= 0.2
        wait_until(drained, 2, interval=0.05)
        open(stop_listeners, "w").close()
        # --router: the binding ends (the VM is removed at B): nvad withdraws T's route.
        t_withdrawn = None
        if args.router:
            t_end0 = time.monotonic()
            for words in (["vm", "deactivate", VM_ID], ["vm", "disassociate", VM_ID]):
                rc, out = env.nvectl("B", *words)
                log("B: nvectl %s -> %d %s" % (" ".join(words), rc, out))
            if wait_until(lambda: not env.tor_routes() and env.route("T", VM_IP) is None, 5, 0.02):
                t_withdrawn = time.monotonic()
            log("T's host route after the binding ended: %s (%s)" % (
                env.tor_routes(), "withdrawn %.0f ms after the disassociation" % ((t_withdrawn - t_end0) * 1000)
                if t_withdrawn else "still there"))
        sent = read_send_times(stream_out, with_result=True)
        got_a = read_seq_lines(listen_out["A"])
        got_b = read_seq_lines(listen_out["B"])
        both = set(got_a) & set(got_b)
        lost = sorted(set(sent) - set(got_a) - set(got_b))
        before = [q for q, (t, _) in sent.items() if t < t_move0]
        late = [q for q, (t, _) in sent.items() if t > t_move + SETTLE_S
                and not (restart_window and restart_window[0] <= t <= restart_window[1])
                and not (t_back0 and t >= t_back0)  # (--chain: until the VM comes back)
                and not (t_onward0 and t >= t_onward0)]  # (--onward: until it moves on)
        late_b = [q for q in late if q in got_b]
        before_a = [q for q in before if q in got_a]
        last_a = max(got_a.values()) if got_a else None
        first_b = min(got_b.values()) if got_b else None
        gap_ms = (first_b - last_a) * 1000 if got_a and got_b else None
        t_rel = lambda t: "%+.0f ms" % ((t - t_move0) * 1000)  # noqa: E731
        log("stream: sent %d (%d send errors) over %.2f s" % (summary["sent"], summary["errors"],
                                                             summary["last"] - summary["first"]))
        log("timeline (relative to the start of the move): B activated %s, B registered %s, A's BUL seen %s, "
            "A deactivated %s" % (t_rel(t_b_active), t_rel(t_b_reg), t_rel(t_a_bul), t_rel(t_a_deact)))
        during = [q for q, (t, _) in sent.items() if t_move0 <= t <= t_move + SETTLE_S]
        log("sent during the move (from its start to move done + %d ms): %d; at vmA %d, at vmB %d, lost %d" % (
            SETTLE_S * 1000, len(during), sum(q in got_a for q in during), sum(q in got_b for q in during),
            sum(q not in got_a and q not in got_b for q in during)))
        log("vmA received %d (last seq %s at %s); vmB received %d (first seq %s at %s); both: %d" % (
            len(got_a), max(got_a) if got_a else "-", t_rel(last_a) if last_a else "-",
            len(got_b), min(got_b) if got_b else "-", t_rel(first_b) if first_b else "-", len(both)))
        log("lost %d around the move%s; gap between the last datagram at vmA and the first at vmB: %s" % (
            len(lost), (" (seq %d..%d)" % (lost[0], lost[-1])) if lost else "",
            "%.1f ms" % gap_ms if gap_ms is not None else "n/a"))
        if lost:
            ranges = []
            for q in lost:
                if ranges and q == ranges[-1][1] + 1:
                    ranges[-1][1] = q
                else:
                    ranges.append([q, q])
            log("lost: %s" % ", ".join(
                ("seq %d" % a if a == b else "seq %d..%d" % (a, b)) + " (sent %s%s)" % (
                    t_rel(sent[a][0]), "" if a == b else " to %s" % t_rel(sent[b][0])) for a, b in ranges[:12]))
        ok = len(before) > 0 and len(before_a) >= MIN_SHARE * len(before) and not any(
            t < t_move0 for t in got_b.values())
        res.record("before move", ok, "vmA received %d of the %d datagrams sent before the move began; "
                   "vmB nothing before it" % (len(before_a), len(before)))
        if args.bgp:
            # From the end of the move (the VM at B, A tunnelling) to 0.5 s
            # after the host route: the switch from tunnel to route, not the
            # move itself (the in-flight sub-test judges that).
            around = [q for q, (t, _) in sent.items()
                      if t_route and max(t_route - 0.5, t_move + SETTLE_S) <= t <= t_route + 0.5]
            lost_around = [q for q in around if q not in got_a and q not in got_b]
            res.record("bgp", bool(t_route) and encap_at_route is not None and encap_late == encap_at_route
                       and len(around) > 0 and not lost_around,
                       "10.0.0.5/32 via %s in the fabric's kernel %s after B registered; A's tunnel counter %s "
                       "0.3 s after the route and %s at the end (must not grow); %d datagrams sent from the end of the "
                       "move to 0.5 s after the switch, %d lost" % (
                           NVE_B, "%.0f ms" % ((t_route - t_b_reg) * 1000) if t_route else "never",
                           encap_at_route, encap_late, len(around), len(lost_around)))
        share = len(late_b) / len(late) if late else 0.0
        res.record("in flight", len(late) > 0 and share >= MIN_SHARE,
                   "vmB received %d of the %d datagrams sent later than move + %d ms (%.1f %%, need %.0f %%)" % (
                       len(late_b), len(late), SETTLE_S * 1000, share * 100, MIN_SHARE * 100))

        # ---- IPv6: native before the move, IPv6-in-IPv4 after it --------------------------------
        if args.ipv6:
            sent6 = read_send_times(stream6_out)
            got_a6, got_b6 = read_seq_lines(listen_out["A6"]), read_seq_lines(listen_out["B6"])
            before6 = [q for q, t in sent6.items() if t < t_move0]
            late6 = [q for q, t in sent6.items() if t > t_move + SETTLE_S and not (t_back0 and t >= t_back0)]
            share_before6 = sum(q in got_a6 for q in before6) / len(before6) if before6 else 0
            share_late6 = sum(q in got_b6 for q in late6) / len(late6) if late6 else 0
            log("IPv6: sent %d; before the move %d of %d at vmA; after it %d of %d at vmB" % (
                len(sent6), sum(q in got_a6 for q in before6), len(before6), sum(q in got_b6 for q in late6),
                len(late6)))
            ipv6_ok = share_before6 >= MIN_SHARE and share_late6 >= MIN_SHARE

        # ---- chain: back at A, both correspondents reach it -----------------------------------
        if args.chain:
            summary_b = wait_until(lambda: next((json.loads(x) for x in read(streamb_out).splitlines()
                                                 if x.startswith("{")), None), 5) or {}
            sent_b = read_send_times(streamb_out)
            via_b_at = {n: read_seq_lines(listen_out[n], tag="b") for n in "AB"}
            after_back = t_back + SETTLE_S
            direct_back = [q for q, (t, _) in sent.items() if t > after_back]
            via_b_back = [q for q, t in sent_b.items() if t > after_back]
            via_b_at_b = [q for q, t in sent_b.items() if t_move + SETTLE_S < t < t_back0]
            share_direct = sum(q in got_a for q in direct_back) / len(direct_back) if direct_back else 0
            share_redirect = sum(q in via_b_at["A"] for q in via_b_back) / len(via_b_back) if via_b_back else 0
            share_at_b = sum(q in via_b_at["B"] for q in via_b_at_b) / len(via_b_at_b) if via_b_at_b else 0
            log("chain: through B, %d sent (%s); while the VM was at B %d of %d reached vmB; after it came back "
                "%d of %d reached vmA through B's redirect; directly through A %d of %d" % (
                    len(sent_b), summary_b, sum(q in via_b_at["B"] for q in via_b_at_b), len(via_b_at_b),
                    sum(q in via_b_at["A"] for q in via_b_back), len(via_b_back),
                    sum(q in got_a for q in direct_back), len(direct_back)))
            res.record("chain", back_ok and bool(bul_b) and bool(route_a_back) and route_a_back.get("kind") == "local"
                       and share_direct >= MIN_SHARE and share_redirect >= MIN_SHARE and share_at_b >= MIN_SHARE,
                       "A -> B -> A: back at A, B (now a previous NVE) redirects to %s: %.1f %% of what was sent "
                       "through B reached the VM at A, %.1f %% of what was sent to A directly (need %.0f %% each; "
                       "while the VM was at B, %.1f %% of what was sent through B reached it there)" % (
                           NVE_A, share_redirect * 100, share_direct * 100, MIN_SHARE * 100, share_at_b * 100))

        # ---- onward: C receives what still reaches A and B ------------------------------------------
        if args.onward:
            sent_b = read_send_times(streamb_out)
            got_c, via_b_c = read_seq_lines(listen_out["C"]), read_seq_lines(listen_out["C"], tag="b")
            after = t_onward + SETTLE_S
            through_a = [q for q, (t, _) in sent.items() if t > after]
            through_b = [q for q, t in sent_b.items() if t > after]
            share_a = sum(q in got_c for q in through_a) / len(through_a) if through_a else 0
            share_b = sum(q in via_b_c for q in through_b) / len(through_b) if through_b else 0
            log("onward (%s): after the move to C, %d of %d sent through A and %d of %d sent through B reached vmC" % (
                args.onward, sum(q in got_c for q in through_a), len(through_a), sum(q in via_b_c for q in through_b),
                len(through_b)))
            if args.onward == "hot":
                ok = onward_ok and bool(bul_b_c) and bool(a_state) and share_a >= MIN_SHARE and share_b >= MIN_SHARE
                why = ("A -> B -> C (hot): both previous NVEs redirect to %s: %.1f %% of what still reached A and "
                       "%.1f %% of what still reached B arrived at the VM on C (need %.0f %%)" % (
                           NVE_C, share_a * 100, share_b * 100, MIN_SHARE * 100))
            else:
                ok = onward_ok and bool(bul_b_c) and bool(a_state) and share_b >= MIN_SHARE and share_a == 0
                why = ("A -> B -> C (cold): B, the last source, redirects to %s (%.1f %% of what reached B arrived at "
                       "C, need %.0f %%); A, an older previous NVE, dropped its entry and routes (%.1f %% of what "
                       "reached A arrived, need 0)" % (NVE_C, share_b * 100, MIN_SHARE * 100, share_a * 100))
            res.record("onward", ok, why)

        # ---- tenants: neither receives the other's datagrams --------------------------------------
        if args.tenants:
            summary7 = wait_until(lambda: next((json.loads(x) for x in read(stream7_out).splitlines()
                                                if x.startswith("{")), None), 5) or {}
            got7 = read_seq_lines(listen_out["7A"], tenant7=True)
            t0_at_7 = read_seq_lines(listen_out["7A"])            # tenant 0's datagrams at tenant 7's VM
            t7_at_0 = {n: read_seq_lines(listen_out[n], tenant7=True) for n in "AB"}  # and the reverse
            sent7 = summary7.get("sent", 0)
            log("tenants: tenant 7 sent %d, its VM received %d; tenant 0's datagrams at tenant 7's VM: %d; "
                "tenant 7's at tenant 0's VM: %d before the move (A), %d after (B)" % (
                    sent7, len(got7), len(t0_at_7), len(t7_at_0["A"]), len(t7_at_0["B"])))
            res.record("tenants", sent7 > 0 and len(got7) >= MIN_SHARE * sent7 and not t0_at_7
                       and not t7_at_0["A"] and not t7_at_0["B"],
                       "tenant 7 (VN 7, its VM at %s behind A, which stays): %d of %d delivered through B's "
                       "tunnel to A's VN 7 endpoint %s; misdelivered: %d of tenant 0 to tenant 7, %d of tenant 7 "
                       "to tenant 0 (need 0 and 0, and >= %.0f %% delivered)" % (
                           VM_IP, len(got7), sent7, A_VN7, len(t0_at_7), len(t7_at_0["A"]) + len(t7_at_0["B"]),
                           MIN_SHARE * 100))

        # ---- wire: the tunnel on B's fabric link ---------------------------------------------
        cap.send_signal(signal.SIGINT)
        try:
            cap.wait(5)
        except subprocess.TimeoutExpired:
            log("tshark still closing its capture; left to cleanup")
        rows = base.capture_rows(cap_out)
        tun = [row for row in rows if row["ip.proto"].startswith("4,")]
        if args.ipv6:  # the VM's IPv6 packets in IPv4 (protocol 41), A -> B
            six_in_four = [row for row in rows if row["ip.proto"] == "41"]
            good6 = [row for row in six_in_four if row["ip.src"] == NVE_A and row["ip.dst"] == NVE_B
                     and row["ip.checksum.status"] == "1"]
            res.record("ipv6", ipv6_ok and bool(good6) and len(good6) == len(six_in_four),
                       "the VM's IPv6 address %s: %.1f %% delivered natively before the move, %.1f %% at vmB "
                       "after it (need %.0f %%); %d IPv6-in-IPv4 frames %s -> %s on B's link, %d with a verified "
                       "outer checksum" % (VM_IP6, share_before6 * 100, share_late6 * 100, MIN_SHARE * 100,
                                           len(six_in_four), NVE_A, NVE_B, len(good6)))
        if args.onward:  # B's redirect on to C, on the same link: not A's tunnel
            tun = [row for row in tun if not row["ip.dst"].startswith(NVE_C + ",")]
        if args.chain:  # B's redirect back to A, on the same link: checked here
            back = [row for row in tun if row["ip.src"] == "%s,%s" % (NVE_B, COR_B_IP)
                    and row["ip.dst"] == "%s,%s" % (NVE_A, VM_IP) and row["ip.proto"] == "4,17"
                    and row["ip.checksum.status"].split(",")[0] == "1"]
            # A packet still in A's tunnel when the VM came back reaches B after B has become a previous NVE:
            # B re-encapsulates it to A (counter reencap). Legitimate, and timing-dependent: counted, not failed.
            reencap = [row for row in tun if row["ip.src"] == "%s,%s" % (NVE_B, GW_IP)
                       and row["ip.dst"] == "%s,%s" % (NVE_A, VM_IP) and row["ip.proto"] == "4,17"
                       and row["ip.checksum.status"].split(",")[0] == "1"]
            log("  wire: %d redirect frames %s -> %s with a verified outer checksum; %d packets in flight from A "
                "re-encapsulated back to A" % (len(back), NVE_B, NVE_A, len(reencap)))
            tun = [row for row in tun if row not in back and row not in reencap]
        if args.router:  # the stream through T, tunnelled by A until T's host route took over
            via_t_tunnel = [row for row in tun if row["ip.src"] == "%s,%s" % (NVE_A, COR_T_IP)]
            tun = [row for row in tun if row not in via_t_tunnel]
            native_t = [row for row in rows if row["ip.proto"] == "17" and row["ip.src"] == COR_T_IP]
            sent_t = read_send_times(streamt_out)
            via_t = {n: read_seq_lines(listen_out[n], tag="r") for n in "AB"}
            after_route = [q for q, t in sent_t.items() if t_tor and t > t_tor + SETTLE_S]
            share_t = sum(q in via_t["B"] for q in after_route) / len(after_route) if after_route else 0
            around_t = [q for q, t in sent_t.items() if t_tor and t_b_active <= t <= t_tor + 0.5]
            lost_t = [q for q in around_t if q not in via_t["A"] and q not in via_t["B"]]
            log("router: through T %d sent; %d tunnelled by A before T's route, %d native on B's link (TTL %s); "
                "after the route %d of %d at vmB; around the switch %d sent, %d lost" % (
                    len(sent_t), len(via_t_tunnel), len(native_t), sorted({row["ip.ttl"] for row in native_t}),
                    sum(q in via_t["B"] for q in after_route), len(after_route), len(around_t), len(lost_t)))
            tor_checks = {
                "T installed 10.0.0.5 toward B's fabric MAC": bool(t_tor) and bool(tor_route)
                    and tor_route.get("kind") == "local" and tor_route.get("mac") == b_fab_mac,
                "the correspondent's datagrams reach vmB through T (>= 90 %)": share_t >= MIN_SHARE,
                "native frames from T on B's link, TTL 63": len(native_t) > 0
                    and all(row["ip.ttl"] == "63" for row in native_t),
                "none lost across the switch": len(around_t) > 0 and not lost_t,
                "the forged registration dropped unanswered": forged.get("exit") == 3 and forged.get("dropped", 0) >= 1
                    and not forged.get("listed") and forged.get("route") is None,
                "withdrawn when the binding ended": bool(t_withdrawn),
            }
            for name, ok in tor_checks.items():
                log("  router: %-62s %s" % (name, "ok" if ok else "NO"))
            res.record("router", all(tor_checks.values()),
                       "%d/%d checks; T's host route %s after B registered; %.1f %% of what was sent through T "
                       "afterwards reached vmB natively; %d lost around the switch" % (
                           sum(tor_checks.values()), len(tor_checks),
                           "%.0f ms" % ((t_tor - t_b_reg) * 1000) if t_tor else "never", share_t * 100, len(lost_t)))
        if args.spoof:  # the gateway's spoofed tunnel to B: its drop is checked with B's counters
            spoofed = [row for row in tun if row["ip.src"].startswith(GW_IP + ",")]
            log("  wire: %d spoofed frames %s -> %s (sent %d)" % (len(spoofed), GW_IP, NVE_B, spoof_sent))
            tun = [row for row in tun if row not in spoofed]
        if args.tenants:  # tenant 7's tunnel from B to A's VN 7 endpoint, on the same link: checked here
            t7 = [row for row in tun if row["ip.src"] == "%s,%s" % (NVE_B, T7_SRC)
                  and row["ip.dst"] == "%s,%s" % (A_VN7, VM_IP) and row["ip.proto"] == "4,17"
                  and row["ip.checksum.status"].split(",")[0] == "1"]
            log("  wire: %d tenant 7 tunnel frames %s -> %s with a verified outer checksum" % (len(t7), NVE_B, A_VN7))
            tun = [row for row in tun if row not in t7]
        good = [row for row in tun if row["ip.src"] == "%s,%s" % (NVE_A, GW_IP)
                and row["ip.dst"] == "%s,%s" % (NVE_B, VM_IP) and row["ip.proto"] == "4,17"
                and row["ip.checksum.status"].split(",")[0] == "1"]
        problems = [(row["frame.len"], base.row_problems(row)) for row in rows if base.row_problems(row)]
        if tun:
            log("  wire: first tunnelled frame: src %(ip.src)s dst %(ip.dst)s proto %(ip.proto)s ttl %(ip.ttl)s "
                "ipcsum %(ip.checksum.status)s udpcsum %(udp.checksum.status)s" % tun[0])
        if problems:
            log("  wire: tshark found: %s" % problems[:5])
        res.record("wire", bool(good) and len(good) == len(tun) and not problems,
                   "%d IPv4-in-IPv4 frames on %s, %d of them %s -> %s carrying %s -> %s UDP with a verified "
                   "outer checksum; %d frames with problems (vmB received %d)" % (
                       len(tun), env.if_gb, len(good), NVE_A, NVE_B, GW_IP, VM_IP, len(problems), len(got_b)))

        # ---- 7. stop, counters -------------------------------------------------------------------
        rc_stream = stop_proc(stream, timeout=5)
        if args.tenants:
            stop_proc(stream7, timeout=5)
        if env.chain:
            stop_proc(streamb, timeout=5)
        if args.ipv6:
            stop_proc(stream6, timeout=5)
        if args.router:
            stop_proc(streamt, timeout=5)
        # How many tunnels B took from A, as A's learnt-peer route counted them
        # (every decapsulation from a learnt peer is a hit of its route).
        peer_hits_a = None
        if args.spoof:
            _, peers_b_end = env.nvectl("B", "show", "tunnel-peers", json_out=True)
            peer_hits_a = next((p.get("hits") for p in peers_b_end or [] if p.get("peer") == NVE_A), None)
        rcs = {}
        for n in nveds:
            rcs[n] = stop_proc(env.nveds[n], timeout=20)
        rcs["nvad"] = stop_proc(env.nvad, timeout=10)
        tot = {}
        for n in nveds:
            try:
                with open(env.paths[n + ".counters.json"]) as fh:
                    tot[n] = json.load(fh).get("counters", {})
            except (OSError, ValueError) as e:
                log("counters of %s unreadable: %s" % (n, e))
                tot[n] = {}
            log("nved %s exit status %s; non-zero counters: %s" % (
                n, rcs[n], json.dumps({k: v for k, v in tot[n].items() if v}, sort_keys=True)))
        log("nvad exit status %s; stream sender %s" % (rcs["nvad"], rc_stream))
        race_drops = tot["B"].get("drop_decap_unknown_peer", 0) - spoof_sent
        if args.spoof:
            log("B: %d tunnel frames from A dropped before B knew A (the reply race)" % race_drops)
        checks = {
            "nved A exited 0": rcs["A"] == 0,
            "nved B exited 0": rcs["B"] == 0,
            "nvad exited 0": rcs["nvad"] == 0,
            "counters JSON of A and B written": bool(tot["A"]) and bool(tot["B"]),
            "A encap_ipv4_in_ipv4 > 0": tot["A"].get("encap_ipv4_in_ipv4", 0) > 0,
            # After a restart A's counters start again: the datagrams it delivered before are not in them.
            "A delivered_local >= vmA's datagrams": args.restart_a or tot["A"].get("delivered_local", -1) >= len(got_a),
            "B decap_ipv4_outer > 0": tot["B"].get("decap_ipv4_outer", 0) > 0,
            "A encap_ipv6_in_ipv4 > 0 (--ipv6)": not args.ipv6 or tot["A"].get("encap_ipv6_in_ipv4", 0) > 0,
            "B delivered_local > 0": tot["B"].get("delivered_local", 0) > 0,
            # Every spoofed frame dropped: all B decapsulated came from A (its
            # learnt-peer route counted each), and A's first frames that
            # overtook nvad's reply naming A (docs/protocol.md 7, "Who may
            # tunnel to an NVE": under a millisecond) are at most SPOOF_RACE_MAX.
            "B dropped the %d spoofed frames, decapsulated only A's (--spoof)" % SPOOF_COUNT:
                not args.spoof or (spoof_sent == SPOOF_COUNT and 0 <= race_drops <= SPOOF_RACE_MAX
                                   and peer_hits_a is not None
                                   and tot["B"].get("decap_ipv4_outer", -1) == peer_hits_a),
            "B delivered natively received datagrams (--bgp)": not args.bgp
                or tot["B"].get("delivered_local", 0) > tot["B"].get("decap_ipv4_outer", 0),
            "T exited 0, routed (delivered_local) and forwarded by default (--router)": not args.router
                or (rcs["T"] == 0 and tot["T"].get("delivered_local", 0) > 0 and tot["T"].get("forwarded_default", 0) > 0),
            "C exited 0 and delivered_local > 0 (--onward)": not args.onward
                or (rcs["C"] == 0 and tot["C"].get("delivered_local", 0) > 0),
        }
        for name, ok in checks.items():
            log("  counters: %-40s %s" % (name, "ok" if ok else "NO"))
        res.record("counters", all(checks.values()), "%d/%d checks; A: encap %s, delivered %s, drop_no_route %s; "
                   "B: decap %s, delivered %s" % (
                       sum(checks.values()), len(checks), tot["A"].get("encap_ipv4_in_ipv4"),
                       tot["A"].get("delivered_local"), tot["A"].get("drop_no_route"),
                       tot["B"].get("decap_ipv4_outer"), tot["B"].get("delivered_local")))
    except base.Interrupted as e:
        log("interrupted (%s): cleaning up" % e)
    except Exception as e:  # a setup failure: the remaining sub-tests count as failed
        log("ERROR: %s: %s" % (type(e).__name__, e))
    finally:
        base.ignore_signals()
        for path in (stop_path, stop_listeners):
            try:
                open(path, "w").close()
            except OSError:
                pass
        try:
            if res.incomplete():
                for name in ("nvad.log", "A.log", "B.log"):
                    log("%s (last 25 lines):\n%s" % (name, "\n".join(read(env.paths[name]).splitlines()[-25:])))
            env.cleanup()
        finally:
            res.keep_or_remove(tmp, args.keep_logs)
    return res.close()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--helper":
        sys.exit(run_helper(sys.argv[2:]))
    sys.exit(main())
