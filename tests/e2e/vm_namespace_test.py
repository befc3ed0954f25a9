#!/usr/bin/python3
"""End-to-end test of nved with real kernel sockets in network namespaces.

Run as root with the system Python (it has scapy):

    sudo /usr/bin/python3 tests/e2e/vm_namespace_test.py [--nved PATH] [--keep-logs]

Topology (all names carry this process's PID, so parallel runs do not clash):

    ns nvt<pid>fab                  ns nvt<pid>nve                 ns nvt<pid>vm
    "fabric gateway +               nved (DPDK, net_af_packet)     "VM" 10.0.0.5/24
     correspondent"                                                  default via 10.0.0.1
    192.0.2.254/24                  port 0 fabric   port 1 access
    10.0.0.0/24 via 192.0.2.1
      nvt<pid>fg  <--- veth --->  nvt<pid>fn          nvt<pid>vn  <--- veth --->  nvt<pid>vm

nved runs in a namespace of its own (not the root namespace): the kernel there
has no address, no route and no forwarding, so it neither answers nor forwards
anything that reaches the veth ends DPDK reads from, and no test packet can
leave the machine.

Before the sub-tests: nved's log shows its worker running and the fabric
gateway's MAC learnt by ARP, and an ICMP echo from the fabric namespace to
192.0.2.1 is answered (nved answers ARP and echo for its own address).

Sub-tests (each counts once in the closing "N passed, M failed" line):
  A  native delivery: 50 UDP datagrams from the fabric namespace to 10.0.0.5,
     all received by a kernel socket in the VM namespace, with TTL 63.
  B  decapsulation: 20 IPv4-in-IPv4 frames (scapy) 192.0.2.254 -> 192.0.2.1
     carrying 203.0.113.7 -> 10.0.0.5 UDP; the VM's kernel socket receives
     every inner datagram (TTL 63).
  S  the same frames from 192.0.2.253, a fabric host outside tunnel.peers:
     all dropped (drop_decap_unknown_peer), none reaches the VM.
  C  tunnel MTU, from the VM to the moved VM 10.0.0.9 (tunnel MTU 1400, so
     inner packets up to 1380), with tshark capturing on the fabric side:
     - a 1450-byte DF datagram draws ICMP Fragmentation Needed with MTU 1380,
       which the VM kernel accepts: the socket's IP_MTU and `ip route get`
       show 1380, and the next big DF send fails with EMSGSIZE;
     - 500-byte datagrams go out as 192.0.2.1 -> 198.51.100.2 protocol 4,
       outer TTL 64 and DF copied, inner 10.0.0.5 -> 10.0.0.9 TTL 63;
     - an inner packet of exactly 1380 bytes is tunnelled whole (outer 1400),
       one of 1381 with DF (IP_PMTUDISC_PROBE ignores the learnt MTU) is not;
     - a 1450-byte datagram without DF is fragmented by nved into two inner
       fragments, each with its own outer header (no DF, distinct IDs), which
       tshark reassembles into the whole UDP datagram;
     - tshark (checksum verification on) reports no malformed frame and no
       bad IPv4/UDP checksum.
  counters: nved stops on SIGTERM with status 0 and writes the counters JSON,
     which agrees with the above (delivered_local, decap_ipv4_outer,
     icmp_frag_needed_sent, encap_ipv4_in_ipv4, fragmentation counters...).

The script also serves as its own helper inside the namespaces
(`--helper NAME ...`), so only one file is needed.
"""

import argparse
import errno
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ctl_client  # noqa: E402  (tests/support/ctl_client.py)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_NVED = os.path.join(REPO, "build", "control", "nved", "nved")
# The helpers run with the system Python, which has scapy.
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

NVE_IP = "192.0.2.1"
GW_IP = "192.0.2.254"
VM_IP = "10.0.0.5"
VM_GW = "10.0.0.1"
MOVED_IP = "10.0.0.9"
MOVED_NVE = "198.51.100.2"
CORRESPONDENT = "203.0.113.7"  # inner source of the tunnelled packets
SPOOFED_NVE = "192.0.2.253"    # a fabric host that is not in tunnel.peers
TUNNEL_MTU = 1400
INNER_MTU = TUNNEL_MTU - 20
UDP_PORT = 40000
MOVED_PORT = 40001
N_A = 50
N_B = 20
N_J = 20            # --jumbo: 9000-byte datagrams
JUMBO_MTU = 9000
N_C_SMALL = 3
SMALL_PAYLOAD = 500
BIG_PAYLOAD = 1450
FIT_PAYLOAD = INNER_MTU - 28  # inner IP packet of exactly INNER_MTU bytes
N_TUNNELLED = N_C_SMALL + 1 + 2  # small ones, the exact fit, two fragments

# Linux socket option numbers (not all are exported by the socket module).
IP_MTU_DISCOVER = getattr(socket, "IP_MTU_DISCOVER", 10)
IP_PMTUDISC_DO = getattr(socket, "IP_PMTUDISC_DO", 2)
IP_PMTUDISC_PROBE = getattr(socket, "IP_PMTUDISC_PROBE", 3)
IP_PMTUDISC_INTERFACE = getattr(socket, "IP_PMTUDISC_INTERFACE", 4)
IP_MTU = getattr(socket, "IP_MTU", 14)
IP_RECVTTL = getattr(socket, "IP_RECVTTL", 12)
IP_TTL = getattr(socket, "IP_TTL", 2)


# --------------------------------------------------------------------------
# Helpers that run inside a namespace (ip netns exec ... this-file --helper).
# --------------------------------------------------------------------------

def helper_listen(port, ready_path, lifetime_s, family="4"):
    """Counts UDP datagrams: one JSON line per datagram on stdout ("ttl": the
    TTL or, family 6, the hop limit it arrived with)."""
    if family == "6":
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
        bind_to = "::"
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_IP, IP_RECVTTL, 1)
        bind_to = "0.0.0.0"
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((bind_to, port))
    s.settimeout(0.2)
    with open(ready_path, "w") as f:
        f.write("ready\n")
    end = time.monotonic() + lifetime_s
    while time.monotonic() < end:
        try:
            data, anc, _flags, addr = s.recvmsg(65535, socket.CMSG_SPACE(4))
        except socket.timeout:
            continue
        ttl = None
        for level, typ, val in anc:
            if ((level == socket.SOL_IP and typ == IP_TTL) or
                    (level == socket.IPPROTO_IPV6 and typ == socket.IPV6_HOPLIMIT)) and len(val) >= 4:
                ttl = struct.unpack("i", val[:4])[0]
        tag = data.split(b" ", 1)[0].decode("ascii", "replace")
        print(json.dumps({"src": addr[0], "len": len(data), "tag": tag, "ttl": ttl}), flush=True)
    return 0


def bind_fixed_source(s, dst, port):
    """A source port of our choosing (port + 100), not an ephemeral one:
    tshark decodes a UDP payload by the lower port that has a dissector,
    and a random ephemeral port (34962, 37008, 41170...) sometimes has one,
    whose dissector then calls our datagrams malformed."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::" if ":" in dst else "0.0.0.0", port + 100))


def helper_udpsend(dst, port, count, prefix, size=64):
    s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
    bind_fixed_source(s, dst, port)
    sent = 0
    for i in range(count):
        head = ("%s-%d " % (prefix, i)).encode()
        payload = head + b"x" * (max(int(size), len(head)) - len(head))
        s.sendto(payload, (dst, port))
        sent += 1
        time.sleep(0.002)  # gentle: af_packet rings and the kernel's ARP queue
    print(json.dumps({"sent": sent}), flush=True)
    return 0


def helper_ping(dst, timeout_s):
    """One ICMP echo over a raw socket; exit 0 on a reply from dst."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = os.getpid() & 0xFFFF
    end = time.monotonic() + timeout_s
    seq = 0
    while time.monotonic() < end:
        seq += 1
        body = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"nved-e2e"
        ck = _inet_cksum(body)
        body = body[:2] + struct.pack("!H", ck) + body[4:]
        s.sendto(body, (dst, 0))
        s.settimeout(0.3)
        try:
            while True:
                pkt, addr = s.recvfrom(2048)
                ihl = (pkt[0] & 0xF) * 4
                t, _c, _ck, rid, rseq = struct.unpack("!BBHHH", pkt[ihl:ihl + 8])
                if addr[0] == dst and t == 0 and rid == ident:
                    print(json.dumps({"reply_from": addr[0], "seq": rseq}), flush=True)
                    return 0
        except socket.timeout:
            pass
    return 1


def _inet_cksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def helper_ipip(iface, src_mac, dst_mac, count, port, outer_src=None, tag="B", outer_dst=None):
    """Sends IPv4-in-IPv4 frames toward nved's fabric port with scapy."""
    t0 = time.monotonic()
    # Only the layers needed: scapy.all takes noticeably longer to import.
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw
    from scapy.sendrecv import sendp
    t_import = time.monotonic() - t0
    frames = []
    for i in range(count):
        inner = IP(src=CORRESPONDENT, dst=VM_IP, ttl=64) / UDP(sport=5555, dport=port) / Raw(
            ("%s-%d " % (tag, i)).encode() + b"y" * 64)
        outer = IP(src=outer_src or GW_IP, dst=outer_dst or NVE_IP, proto=4, ttl=64) / inner
        frames.append(Ether(src=src_mac, dst=dst_mac) / outer)
    t1 = time.monotonic()
    wire = [bytes(f) for f in frames]
    t2 = time.monotonic()
    # Back to back: 20 small frames fit nved's af_packet ring many times over.
    sendp(frames, iface=iface, verbose=False)
    print(json.dumps({"sent": count, "bytes": sum(len(w) for w in wire), "import_s": round(t_import, 2),
                      "build_s": round(t2 - t1, 2), "send_s": round(time.monotonic() - t2, 2)}), flush=True)
    return 0


def helper_tunnel6(iface, src_mac, dst_mac, count, port, outer_src, outer_dst, inner_src, inner_dst, tag):
    """Sends IPv6-in-IPv6 frames (RFC 2473) toward an NVE's fabric port with scapy."""
    from scapy.layers.inet import UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw
    from scapy.sendrecv import sendp
    frames = [Ether(src=src_mac, dst=dst_mac) / IPv6(src=outer_src, dst=outer_dst, nh=41, hlim=64) /
              IPv6(src=inner_src, dst=inner_dst, hlim=64) / UDP(sport=5555, dport=port) /
              Raw(("%s-%d " % (tag, i)).encode() + b"y" * 64) for i in range(count)]
    sendp(frames, iface=iface, verbose=False)
    print(json.dumps({"sent": count}), flush=True)
    return 0


def _send(sock, payload):
    try:
        sock.send(payload)
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def helper_pmtu(dst, port, wait_s):
    """The VM side of sub-test C, in order:
    1. a too-big DF datagram; wait for the path MTU to drop (nved's ICMP);
    2. the same again: the kernel now refuses it (EMSGSIZE);
    3. small datagrams, then one that exactly fills the tunnel (inner 1380);
    4. one byte more with DF regardless of the path MTU (IP_PMTUDISC_PROBE):
       nved must refuse it (a second ICMP), not tunnel it;
    5. a too-big datagram without DF (IP_PMTUDISC_INTERFACE): nved must
       fragment it and tunnel the fragments."""
    out = {}
    # Fixed source ports: tshark then decodes no payload as some protocol that
    # happens to own an ephemeral port (and calls it malformed).
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
    s.bind(("0.0.0.0", port + 10))
    s.connect((dst, port))
    out["mtu_before"] = s.getsockopt(socket.SOL_IP, IP_MTU)
    out["big_send"] = _send(s, b"BIG " + b"z" * (BIG_PAYLOAD - 4))
    mtu = out["mtu_before"]
    end = time.monotonic() + wait_s
    while time.monotonic() < end:
        mtu = s.getsockopt(socket.SOL_IP, IP_MTU)
        if mtu != out["mtu_before"]:
            break
        time.sleep(0.05)
    out["mtu_after"] = mtu
    # The ICMP error also sets a pending socket error (EMSGSIZE) on a
    # connected socket: read it so it does not fail the next send.
    out["so_error"] = errno.errorcode.get(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), "0")
    out["big_send_again"] = _send(s, b"BIG2 " + b"z" * (BIG_PAYLOAD - 5))
    small_ok = 0
    for i in range(N_C_SMALL):
        r = _send(s, ("SMALL-%d " % i).encode() + b"s" * (SMALL_PAYLOAD - 8))
        if r == "ok":
            small_ok += 1
        else:
            out.setdefault("small_errors", []).append(r)
        time.sleep(0.01)
    out["small_sent"] = small_ok
    out["fit_send"] = _send(s, b"FIT " + b"f" * (FIT_PAYLOAD - 4))
    time.sleep(0.01)

    p = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    p.setsockopt(socket.SOL_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)
    p.bind(("0.0.0.0", port + 11))
    p.connect((dst, port))
    out["probe_send"] = _send(p, b"OVER " + b"o" * (FIT_PAYLOAD + 1 - 5))
    time.sleep(0.05)

    f = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    f.setsockopt(socket.SOL_IP, IP_MTU_DISCOVER, IP_PMTUDISC_INTERFACE)
    f.bind(("0.0.0.0", port + 12))
    f.connect((dst, port))
    out["nodf_send"] = _send(f, b"NODF " + b"n" * (BIG_PAYLOAD - 5))
    print(json.dumps(out), flush=True)
    return 0


def run_helper(argv):
    name, args = argv[0], argv[1:]
    if name == "listen":
        return helper_listen(int(args[0]), args[1], float(args[2]), *args[3:4])
    if name == "udpsend":
        return helper_udpsend(args[0], int(args[1]), int(args[2]), args[3], *args[4:5])
    if name == "ping":
        return helper_ping(args[0], float(args[1]))
    if name == "ipip":
        return helper_ipip(args[0], args[1], args[2], int(args[3]), int(args[4]), *args[5:8])
    if name == "tunnel6":
        return helper_tunnel6(args[0], args[1], args[2], int(args[3]), int(args[4]), *args[5:10])
    if name == "pmtu":
        return helper_pmtu(args[0], int(args[1]), float(args[2]))
    print("unknown helper %r" % name, file=sys.stderr)
    return 2


# --------------------------------------------------------------------------
# The test driver (root namespace).
# --------------------------------------------------------------------------

class Interrupted(Exception):
    pass


def log(msg):
    print("[%6.2fs] %s" % (time.monotonic() - T0, msg), flush=True)


T0 = time.monotonic()


def sh(*cmd, check=True, timeout=10, capture=True):
    r = subprocess.run(list(cmd), stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.PIPE if capture else None, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("command failed (%d): %s\n%s%s" % (
            r.returncode, " ".join(cmd), r.stdout or "", r.stderr or ""))
    return r


def wait_until(pred, timeout, interval=0.05):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            return v
        time.sleep(interval)


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


class Env:
    def __init__(self, nved, tmp, pmd="af_packet", jumbo=False, rx_scatter=False):
        pid = os.getpid()
        self.nved_bin = nved
        self.jumbo = jumbo  # veths and ports at MTU 9000 (issue 17)
        self.rx_scatter = rx_scatter  # 2 KiB mbufs: jumbo frames arrive as chains
        self.pmd = pmd  # af_packet, or af_xdp (issue 17: a NIC the kernel keeps, no VFIO)
        self.tmp = tmp
        self.ns_fab = "nvt%dfab" % pid
        self.ns_vm = "nvt%dvm" % pid
        self.ns_nve = "nvt%dnve" % pid
        self.if_fab_nve = "nvt%dfn" % pid   # nved's fabric port (ns nve)
        self.if_fab_gw = "nvt%dfg" % pid    # fabric gateway side (ns fab)
        self.if_vm_nve = "nvt%dvn" % pid    # nved's access port (ns nve)
        self.if_vm = "nvt%dvm" % pid        # the VM's interface (ns vm)
        self.file_prefix = "nve2e%d" % pid
        self.namespaces = []
        self.procs = []       # (name, Popen) we started
        self.nved = None
        self.nved_log = os.path.join(tmp, "nved.log")
        self.counters = os.path.join(tmp, "counters.json")
        self.config = os.path.join(tmp, "nved.yaml")

    # --- processes -------------------------------------------------------
    def spawn(self, name, ns, argv, stdout_path, stderr_path=None):
        out = open(stdout_path, "w")
        err = open(stderr_path, "w") if stderr_path else subprocess.STDOUT
        # `ip netns exec` execs the command in place: the PID is the command's.
        p = subprocess.Popen(["ip", "netns", "exec", ns] + argv, stdout=out, stderr=err,
                             stdin=subprocess.DEVNULL)
        out.close()
        if stderr_path:
            err.close()
        self.procs.append((name, p))
        return p

    def helper(self, ns, *args, timeout=20):
        r = sh("ip", "netns", "exec", ns, PYTHON, os.path.abspath(__file__), "--helper", *args,
               check=False, timeout=timeout)
        return r

    def helper_result(self, name, ns, *args, timeout=30):
        """Runs a helper and returns its JSON result line as soon as it is
        printed, without waiting for the process to exit: closing an
        AF_PACKET socket waits for an RCU grace period, which can take
        seconds on a loaded machine. The process is reaped in cleanup."""
        out = os.path.join(self.tmp, "%s.out" % name)
        err = os.path.join(self.tmp, "%s.err" % name)
        p = self.spawn(name, ns, [PYTHON, os.path.abspath(__file__), "--helper"] + list(args), out, err)

        def result():
            for line in read(out).splitlines():
                try:
                    return json.loads(line)
                except ValueError:
                    pass
            return None
        wait_until(lambda: result() or p.poll() is not None, timeout)
        r = result()
        if r is None:
            raise RuntimeError("helper %s gave no result (%s):\n%s" % (
                name, "exited %s" % p.returncode if p.poll() is not None else "still running after %ss" % timeout,
                read(err)[-2000:]))
        return r

    @staticmethod
    def stop(p, term_timeout=5.0):
        """SIGTERM, then SIGKILL after term_timeout; never raises."""
        try:
            if p.poll() is not None:
                return p.returncode
            p.send_signal(signal.SIGTERM)
            try:
                return p.wait(term_timeout)
            except subprocess.TimeoutExpired:
                pass
            p.kill()
            try:
                return p.wait(10)
            except subprocess.TimeoutExpired:
                return "not reaped after SIGKILL"
        except Exception as e:  # noqa: cleanup goes on whatever happens
            return "error: %s" % e

    # --- topology ------------------------------------------------------------
    def netns_sysctl(self, ns, *settings):
        for kv in settings:
            sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w", kv)

    def setup(self):
        for ns in (self.ns_fab, self.ns_vm, self.ns_nve):
            sh("ip", "netns", "add", ns)
            self.namespaces.append(ns)
            self.netns_sysctl(ns, "net.ipv6.conf.all.disable_ipv6=1",
                              "net.ipv6.conf.default.disable_ipv6=1",
                              "net.ipv4.ip_forward=0",
                              "net.ipv4.conf.all.rp_filter=0",
                              "net.ipv4.conf.default.rp_filter=0")
        # Created straight inside the namespaces: never a veth in the root one.
        sh("ip", "link", "add", self.if_fab_nve, "netns", self.ns_nve, "type", "veth",
           "peer", "name", self.if_fab_gw, "netns", self.ns_fab)
        sh("ip", "link", "add", self.if_vm_nve, "netns", self.ns_nve, "type", "veth",
           "peer", "name", self.if_vm, "netns", self.ns_vm)
        for ns, ifn in ((self.ns_nve, self.if_fab_nve), (self.ns_nve, self.if_vm_nve),
                        (self.ns_fab, self.if_fab_gw), (self.ns_vm, self.if_vm)):
            # af_packet would otherwise see CHECKSUM_PARTIAL frames with
            # checksums still to be filled in.
            sh("ip", "netns", "exec", ns, "ethtool", "-K", ifn, "tx", "off", "rx", "off")
            if self.jumbo:
                sh("ip", "-n", ns, "link", "set", ifn, "mtu", str(JUMBO_MTU))
            self.netns_sysctl(ns, "net.ipv6.conf.%s.disable_ipv6=1" % ifn,
                              "net.ipv4.conf.%s.rp_filter=0" % ifn)
            sh("ip", "-n", ns, "link", "set", ifn, "up")
        for ns in (self.ns_fab, self.ns_vm):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        # Fabric gateway + correspondent.
        sh("ip", "-n", self.ns_fab, "addr", "add", GW_IP + "/24", "dev", self.if_fab_gw)
        sh("ip", "-n", self.ns_fab, "route", "add", "10.0.0.0/24", "via", NVE_IP)
        # The VM: nved is its gateway (proxy ARP on the access port).
        sh("ip", "-n", self.ns_vm, "addr", "add", VM_IP + "/24", "dev", self.if_vm)
        sh("ip", "-n", self.ns_vm, "route", "add", "default", "via", VM_GW, "dev", self.if_vm, "onlink")
        self.vm_mac = self.mac(self.ns_vm, self.if_vm)
        self.gw_mac = self.mac(self.ns_fab, self.if_fab_gw)
        self.nve_fab_mac = self.mac(self.ns_nve, self.if_fab_nve)
        self.nve_vm_mac = self.mac(self.ns_nve, self.if_vm_nve)

    @staticmethod
    def mac(ns, ifn):
        j = json.loads(sh("ip", "-n", ns, "-j", "link", "show", "dev", ifn).stdout)
        return j[0]["address"]

    def write_config(self):
        text = """\
ports:
  - {name: fabric, role: fabric, port_id: 0%(port_mtu)s}
  - {name: vms, role: access, port_id: 1%(port_mtu)s}
nve: {ipv4: %(nve)s}
fabric_gateway: {ipv4: %(gw)s}
tunnel: {mtu: %(mtu)d, peers: [%(gw)s/32]}
route_table: {capacity: 4096}
workers: {mbufs: 4095, idle_sleep_us: 100%(scatter)s}
local_vms:
  - {port: vms, mac: "%(vm_mac)s", addresses: [%(vm)s]}
moved_vms:
  - {addresses: [%(moved)s], nve: %(moved_nve)s}
""" % dict(port_mtu=", mtu: %d" % JUMBO_MTU if self.jumbo else "", scatter=", rx_scatter: true" if self.rx_scatter else "", nve=NVE_IP, gw=GW_IP, mtu=TUNNEL_MTU, vm_mac=self.vm_mac, vm=VM_IP, moved=MOVED_IP,
           moved_nve=MOVED_NVE)
        with open(self.config, "w") as f:
            f.write(text)
        r = sh(self.nved_bin, "--", "-c", self.config, "--check-config", check=False)
        if r.returncode != 0:
            raise RuntimeError("nved --check-config rejected the configuration:\n%s%s" % (r.stdout, r.stderr))
        log("config OK: %s" % r.stdout.strip())

    def vdev(self, n, iface):
        if self.pmd == "af_xdp":  # copy mode on veth, one queue (docs/operations.md)
            return "net_af_xdp%d,iface=%s,start_queue=0,queue_count=1" % (n, iface)
        if self.pmd == "pcap":  # libpcap on the interface: any frame size (jumbo frames)
            return "net_pcap%d,iface=%s,phy_mac=1" % (n, iface)
        return "net_af_packet%d,iface=%s" % (n, iface)

    def start_nved(self):
        argv = [self.nved_bin, "-l", "0,1", "--no-huge", "-m", "256", "--no-pci",
                "--file-prefix", self.file_prefix,
                "--vdev", self.vdev(0, self.if_fab_nve), "--vdev", self.vdev(1, self.if_vm_nve),
                "--", "-c", self.config, "--log-level", "info", "--counters-json", self.counters]
        self.nved = self.spawn("nved", self.ns_nve, argv, self.nved_log)
        log("nved started, pid %d" % self.nved.pid)

    def cleanup(self):
        """Stops everything this test started and removes its namespaces.

        Every step is attempted even if an earlier one fails. All processes
        get SIGTERM at once and share one deadline, then SIGKILL."""
        running = [(n, p) for n, p in reversed(self.procs) if p.poll() is None]
        for name, p in running:
            try:
                p.send_signal(signal.SIGTERM)
            except Exception:  # noqa
                pass
        deadline = time.monotonic() + 5
        for name, p in running:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log("cleanup: %s (pid %d) ignored SIGTERM: SIGKILL" % (name, p.pid))
                try:
                    p.kill()
                except Exception:  # noqa
                    pass
        deadline = time.monotonic() + 15
        for name, p in running:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
                log("cleanup: stopped %s (pid %d), status %s" % (name, p.pid, p.returncode))
            except subprocess.TimeoutExpired:
                log("cleanup: %s (pid %d) not reaped yet (stuck in the kernel?)" % (name, p.pid))
        for ns in self.namespaces:
            # Anything still inside our namespaces was started by this test.
            try:
                r = sh("ip", "netns", "pids", ns, check=False)
                for pid in (r.stdout or "").split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                        log("cleanup: killed leftover pid %s in %s" % (pid, ns))
                    except (ProcessLookupError, ValueError):
                        pass
            except Exception as e:  # noqa
                log("cleanup: ip netns pids %s: %s" % (ns, e))
        for ns in self.namespaces:
            # Deleting a namespace destroys the veth ends in it and so their peers.
            try:
                r = sh("ip", "netns", "del", ns, check=False)
                if r.returncode != 0:
                    log("cleanup: ip netns del %s: %s" % (ns, r.stderr.strip()))
            except Exception as e:  # noqa
                log("cleanup: ip netns del %s: %s" % (ns, e))
        self.namespaces = []
        runtime = "/var/run/dpdk/" + self.file_prefix
        if os.path.isdir(runtime):
            shutil.rmtree(runtime, ignore_errors=True)


class Results:
    def __init__(self, expected):
        self.expected = expected  # sub-tests that must report
        self.passed = 0
        self.failed = 0

    def record(self, name, ok, detail):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        log("%s %s: %s" % ("PASS" if ok else "FAIL", name, detail))

    def incomplete(self):
        """Something failed or some sub-test never reported."""
        return self.failed > 0 or self.passed + self.failed < self.expected

    def keep_or_remove(self, tmp, keep):
        if keep or self.incomplete():
            log("logs kept in %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    def close(self):
        """Counts sub-tests that never reported as failed, prints the closing
        line and returns the exit status."""
        self.failed += max(0, self.expected - self.passed - self.failed)
        log("total time %.1fs" % (time.monotonic() - T0))
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


def listener_lines(path):
    out = []
    for line in read(path).splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def count_tag(lines, prefix):
    return [l for l in lines if l["tag"].startswith(prefix + "-")]


# Fields tshark prints for every captured frame (live, one line each). With
# IPv4-in-IPv4 a field has two values, outer then inner, joined by ",".
CAPTURE_FIELDS = ["frame.len", "ip.src", "ip.dst", "ip.proto", "ip.ttl", "ip.flags.df", "ip.len",
                  "ip.id", "ip.flags.mf", "ip.frag_offset",
                  "ip.checksum.status", "udp.checksum.status", "udp.length", "_ws.malformed",
                  "_ws.expert.severity", "_ws.expert.message"]
EXPERT_ERROR = 0x00800000  # PI_ERROR: malformed packets, bad checksums


def capture_rows(path):
    rows = []
    for line in read(path).splitlines():
        parts = line.split("|")
        if len(parts) == len(CAPTURE_FIELDS):
            rows.append(dict(zip(CAPTURE_FIELDS, parts)))
    return rows


def nodf_fragments(tun, addr_ok):
    """helper_pmtu's datagram without DF among the tunnelled rows `tun`
    (tshark, CAPTURE_FIELDS; addr_ok(row): the tunnel's and the datagram's
    addresses): two inner fragments (1380 + 118 bytes), each in its own outer
    header without DF and with its own outer ID. Returns (their shape is
    right, the rows where tshark reassembled the whole UDP datagram)."""
    frags = [row for row in tun if addr_ok(row) and row["ip.flags.df"] == "0,0"]
    frag_shape = sorted(((row["ip.len"], row["ip.flags.mf"], row["ip.frag_offset"].split(",")[-1])
                         for row in frags), key=lambda t: -int(t[0].split(",")[0]))
    second_off = (INNER_MTU - 20) // 8
    ok = (len(frags) == 2
          and frag_shape[0][0] == "%d,%d" % (TUNNEL_MTU, INNER_MTU) and frag_shape[0][1] == "0,1"
          and frag_shape[0][2] == "0"
          and frag_shape[1][0] == "%d,%d" % (BIG_PAYLOAD + 28 - (INNER_MTU - 20) + 20,
                                             BIG_PAYLOAD + 28 - (INNER_MTU - 20))
          and frag_shape[1][1] == "0,0" and frag_shape[1][2] in (str(second_off), str(second_off * 8))
          and len({row["ip.id"].split(",")[0] for row in frags}) == 2
          and "0x0000" not in {row["ip.id"].split(",")[0] for row in frags}
          and len({row["ip.id"].split(",")[1] for row in frags}) == 1)
    # tshark reassembles the inner fragments: the UDP datagram must be whole.
    reassembled = [row for row in frags if row["udp.length"] == str(BIG_PAYLOAD + 8)
                   and row["udp.checksum.status"] == "1"]
    return ok, reassembled


def row_problems(row):
    """What tshark found wrong with a frame (checksums verified, expert errors)."""
    probs = []
    if "0" in row["ip.checksum.status"].split(","):
        probs.append("bad IPv4 header checksum")
    if "0" in row["udp.checksum.status"].split(","):
        probs.append("bad UDP checksum")
    if row["_ws.malformed"]:
        probs.append("malformed")
    sev = [int(v) for v in row["_ws.expert.severity"].split(",") if v.strip().isdigit()]
    if any(v >= EXPERT_ERROR for v in sev):
        probs.append("expert error: %s" % row["_ws.expert.message"])
    return probs


def raise_on_signals():
    """SIGINT, SIGTERM and SIGHUP raise Interrupted, so that a test's
    `finally` stops what it started and removes its namespaces."""
    def on_signal(signum, _frame):
        raise Interrupted("signal %d" % signum)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)


def ignore_signals():
    """While cleaning up: a second signal must not interrupt the cleanup."""
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)


def run_scenario(env, res, tmp, keep_logs, body, logs=(), cleanup=None):
    """Runs body() as every namespace test does: after raise_on_signals(), an
    interrupt or a failing step ends it (the sub-tests that never reported
    count as failed); then, whatever happened, the logs named in `logs`
    (paths) are printed if anything failed, every process the Env started is
    stopped by PID and the namespaces removed, `cleanup` runs, and the
    scratch directory goes unless kept. Returns the exit status."""
    raise_on_signals()
    try:
        body()
    except Interrupted as e:
        log("interrupted (%s): cleaning up" % e)
    except Exception as e:  # a setup failure: the remaining sub-tests count as failed
        log("ERROR: %s: %s" % (type(e).__name__, e))
    finally:
        ignore_signals()
        if res.incomplete():
            for path in logs:
                log("%s:\n%s" % (os.path.basename(path), read(path)[-3000:]))
        env.cleanup()
        if cleanup:
            cleanup()
        res.keep_or_remove(tmp, keep_logs)
    return res.close()


def preflight(binaries):
    """Root, the tools, scapy and the built binaries ((name, path) pairs).
    Prints the reason and the closing line and returns False if any is
    missing; shared with vm_move_test.py."""
    def fail(why):
        print(why, file=sys.stderr)
        print("0 passed, 1 failed")
        return False
    if os.geteuid() != 0:
        return fail("must run as root (network namespaces, DPDK)")
    for tool in ("ip", "ethtool", "tshark"):
        if not shutil.which(tool):
            return fail("missing tool: %s (scripts/setup.sh installs it)" % tool)
    if subprocess.run([PYTHON, "-c", "import scapy"], capture_output=True).returncode != 0:
        return fail("%s cannot import scapy (apt-get install python3-scapy)" % PYTHON)
    for what, path in binaries:
        if not os.access(path, os.X_OK):
            return fail("%s not found at %s (build first)" % (what, path))
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nved", default=DEFAULT_NVED)
    ap.add_argument("--keep-logs", action="store_true", help="keep the temporary directory")
    ap.add_argument("--pmd", choices=("af_packet", "af_xdp", "pcap"), default="af_packet",
                    help="the DPDK driver of nved's two veth ports")
    ap.add_argument("--jumbo", action="store_true",
                    help="veths and nved's ports at MTU 9000: a sub-test of 9000-byte datagrams (issue 17); "
                         "needs --pmd pcap (DPDK 22.11's net_af_packet and net_af_xdp take no jumbo frames)")
    ap.add_argument("--rx-scatter", action="store_true",
                    help="with --jumbo: workers.rx_scatter, 2 KiB mbufs, so each jumbo frame arrives as a chain "
                         "(net_pcap chains it) and leaves as a copy in one mbuf (net_pcap sends no chains)")
    args = ap.parse_args()
    if args.rx_scatter and not args.jumbo:
        ap.error("--rx-scatter needs --jumbo")
    if not preflight([("nved", args.nved)]):
        return 1

    raise_on_signals()

    tmp = tempfile.mkdtemp(prefix="nved-e2e-")
    env = Env(args.nved, tmp, args.pmd, args.jumbo, args.rx_scatter)
    res = Results(expected=6 + (1 if args.jumbo else 0))
    try:
        env.setup()
        log("namespaces %s, %s, %s; VM MAC %s, gateway MAC %s, nved fabric MAC %s, access MAC %s" % (
            env.ns_fab, env.ns_nve, env.ns_vm, env.vm_mac, env.gw_mac, env.nve_fab_mac, env.nve_vm_mac))
        env.write_config()
        env.start_nved()

        # Readiness: worker running and the gateway's MAC learnt by ARP.
        def ready():
            if env.nved.poll() is not None:
                raise RuntimeError("nved exited early (status %s):\n%s" % (env.nved.returncode, read(env.nved_log)))
            t = read(env.nved_log)
            return "worker 0 on lcore" in t and ("fabric gateway %s is at" % GW_IP) in t
        if not wait_until(ready, 15):
            raise RuntimeError("nved not ready after 15 s:\n%s" % read(env.nved_log))
        log("nved ready (worker up, fabric gateway resolved)")

        # The fabric namespace reaches nved's own address (ARP + echo).
        r = env.helper(env.ns_fab, "ping", NVE_IP, "5")
        if r.returncode != 0:
            raise RuntimeError("no echo reply from %s:\n%s%s" % (NVE_IP, r.stdout, r.stderr))
        log("echo %s from the fabric namespace: %s" % (NVE_IP, r.stdout.strip()))

        # The VM's listener.
        listen_out = os.path.join(tmp, "listener.jsonl")
        listen_ready = os.path.join(tmp, "listener.ready")
        env.spawn("listener", env.ns_vm,
                  [PYTHON, os.path.abspath(__file__), "--helper", "listen", str(UDP_PORT), listen_ready, "120"],
                  listen_out, os.path.join(tmp, "listener.err"))
        if not wait_until(lambda: os.path.exists(listen_ready), 10):
            raise RuntimeError("listener not ready:\n%s" % read(os.path.join(tmp, "listener.err")))

        # ---- A: native delivery -------------------------------------------
        tA = time.monotonic()
        r = env.helper(env.ns_fab, "udpsend", VM_IP, str(UDP_PORT), str(N_A), "A")
        sent_a = json.loads(r.stdout)["sent"] if r.returncode == 0 else 0
        if r.returncode != 0:
            log("UDP sender failed: %s%s" % (r.stdout, r.stderr))
        wait_until(lambda: len(count_tag(listener_lines(listen_out), "A")) >= sent_a, 5)
        got_a = count_tag(listener_lines(listen_out), "A")
        ttls_a = sorted({l["ttl"] for l in got_a})
        srcs_a = sorted({l["src"] for l in got_a})
        ok = sent_a == N_A and len(got_a) == N_A and ttls_a == [63] and srcs_a == [GW_IP]
        res.record("A native delivery", ok,
                   "sent %d, VM socket received %d (sources %s, TTLs %s; expected all %d, TTL 63) in %.2fs" % (
                       sent_a, len(got_a), srcs_a, ttls_a, N_A, time.monotonic() - tA))

        # ---- J: jumbo frames (--jumbo) ---------------------------------------
        # 9000-byte IP datagrams from the fabric to the VM: one frame each,
        # delivered whole by nved (no fragmentation anywhere on the way).
        if args.jumbo:
            tJ = time.monotonic()
            r = env.helper(env.ns_fab, "udpsend", VM_IP, str(UDP_PORT), str(N_J), "J", str(JUMBO_MTU - 28))
            sent_j = json.loads(r.stdout)["sent"] if r.returncode == 0 else 0
            wait_until(lambda: len(count_tag(listener_lines(listen_out), "J")) >= sent_j, 5)
            got_j = count_tag(listener_lines(listen_out), "J")
            lens_j = sorted({l["len"] for l in got_j})
            res.record("J jumbo frames", sent_j == N_J and len(got_j) == N_J and lens_j == [JUMBO_MTU - 28],
                       "sent %d UDP datagrams of %d bytes (9000-byte IP packets) at MTU %d, VM received %d, sizes "
                       "%s in %.2fs" % (sent_j, JUMBO_MTU - 28, JUMBO_MTU, len(got_j), lens_j, time.monotonic() - tJ))

        # ---- B: decapsulation ---------------------------------------------
        tB = time.monotonic()
        rb = env.helper_result("scapy-ipip", env.ns_fab, "ipip", env.if_fab_gw, env.gw_mac, env.nve_fab_mac,
                               str(N_B), str(UDP_PORT))
        sent_b = rb["sent"]
        log("scapy sender: %s" % rb)
        wait_until(lambda: len(count_tag(listener_lines(listen_out), "B")) >= sent_b, 5)
        got_b = count_tag(listener_lines(listen_out), "B")
        ttls_b = sorted({l["ttl"] for l in got_b})
        srcs_b = sorted({l["src"] for l in got_b})
        ok = sent_b == N_B and len(got_b) == N_B and srcs_b == [CORRESPONDENT] and ttls_b == [63]
        res.record("B decapsulation", ok,
                   "sent %d IPv4-in-IPv4, VM socket received %d inner datagrams (sources %s, TTLs %s; "
                   "expected all %d from %s, TTL 63) in %.2fs" % (
                       sent_b, len(got_b), srcs_b, ttls_b, N_B, CORRESPONDENT, time.monotonic() - tB))

        # ---- S: a tunnel from a fabric host that is no NVE (CVE-2020-10136) ----
        # The same frames from 192.0.2.253, outside tunnel.peers: nved must
        # drop them (drop_decap_unknown_peer), never deliver their inner packet.
        tS = time.monotonic()
        rs = env.helper_result("scapy-ipip-spoofed", env.ns_fab, "ipip", env.if_fab_gw, env.gw_mac,
                               env.nve_fab_mac, str(N_B), str(UDP_PORT), SPOOFED_NVE, "S")
        sent_s = rs["sent"]
        time.sleep(0.5)  # what would arrive has arrived: the B frames took far less
        got_s = count_tag(listener_lines(listen_out), "S")
        res.record("S spoofed tunnel dropped", sent_s == N_B and not got_s,
                   "sent %d IPv4-in-IPv4 from %s (not in tunnel.peers), VM received %d (expected 0) in %.2fs" % (
                       sent_s, SPOOFED_NVE, len(got_s), time.monotonic() - tS))

        # ---- L: link state of an af_packet port follows its interface ----------
        # (issue 13: net_af_packet says "up" from start to stop; nved reads the
        # kernel's operstate). The VM's end of the access veth goes down, then up.
        def access_port():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            try:
                s.connect("/var/run/dpdk/%s/nved.sock" % env.file_prefix)
                s.sendall(b'{"command": "show ports", "format": "json"}\n')
                data = ctl_client.read_answer(s)
            finally:
                s.close()
            return [p for p in json.loads(data)["data"] if p["port"] == 1][0]

        def access_link():
            return access_port()["link_up"]
        up_before = access_link()
        sh("ip", "-n", env.ns_vm, "link", "set", env.if_vm, "down")
        down_seen = wait_until(lambda: access_link() is False, 3)
        time.sleep(0.3)  # longer than the link watch's 100 ms poll
        sh("ip", "-n", env.ns_vm, "link", "set", env.if_vm, "up")
        up_again = wait_until(lambda: access_link() is True, 5)
        wait_until(lambda: access_port().get("link_changes") == 2, 2)
        changes = access_port().get("link_changes")
        res.record("L link state", up_before is True and bool(down_seen) and bool(up_again) and changes == 2,
                   "access port (net_%s) link in show ports: %s, then %s with the VM's interface down, "
                   "%s once it is up again (expected up, down, up); link_changes %s (expected 2)" % (
                       env.pmd, "up" if up_before else "down", "down" if down_seen else "still up",
                       "up" if up_again else "still down", changes))

        # ---- C: path MTU + encapsulation on the wire -----------------------
        tC = time.monotonic()
        pcap = os.path.join(tmp, "fabric.pcap")
        cap_out = os.path.join(tmp, "capture.txt")
        cap_err = os.path.join(tmp, "tshark.err")
        # tshark prints each frame's fields as it captures them (-l -P), with
        # checksum verification on, and also keeps a pcap for a post mortem.
        # It stops by itself after 45 s should everything else fail.
        tshark_cmd = ["tshark", "-n", "-l", "-i", env.if_fab_gw, "-f", "ip proto 4 or icmp",
                      "-w", pcap, "-P", "-a", "duration:45", "-d", "udp.port==%d,data" % MOVED_PORT,
                      "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                      "-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]
        for f in CAPTURE_FIELDS:
            tshark_cmd += ["-e", f]
        cap = env.spawn("tshark", env.ns_fab, tshark_cmd, cap_out, cap_err)
        if not wait_until(lambda: "Capturing on" in read(cap_err) or cap.poll() is not None, 15):
            raise RuntimeError("tshark did not start:\n%s" % read(cap_err))
        if cap.poll() is not None:
            raise RuntimeError("tshark exited:\n%s" % read(cap_err))

        # The capture is live once it shows an echo exchange with nved.
        def capture_live():
            r = env.helper(env.ns_fab, "ping", NVE_IP, "1")
            if r.returncode != 0:
                return False
            return wait_until(lambda: any(row["ip.src"] == NVE_IP and row["ip.proto"] == "1"
                                          for row in capture_rows(cap_out)), 1)
        if not wait_until(capture_live, 15, interval=0.1):
            raise RuntimeError("the fabric capture never saw nved's echo reply:\n%s%s" % (
                read(cap_err), read(cap_out)))
        log("fabric capture live (saw an echo reply from %s)" % NVE_IP)

        r = env.helper(env.ns_vm, "pmtu", MOVED_IP, str(MOVED_PORT), "5")
        try:
            pm = json.loads(r.stdout)
        except ValueError:
            pm = {"error": (r.stdout + r.stderr).strip()}
        log("VM socket to %s: %s" % (MOVED_IP, pm))
        route = sh("ip", "-n", env.ns_vm, "route", "get", MOVED_IP).stdout.strip()
        log("VM: ip route get %s -> %s" % (MOVED_IP, " ".join(route.split())))
        route_mtu = re.search(r"\bmtu (\d+)", route)

        def tunnelled():
            return [row for row in capture_rows(cap_out) if row["ip.proto"].startswith("4,")]
        wait_until(lambda: len(tunnelled()) >= N_TUNNELLED, 20)
        time.sleep(0.3)  # anything late or unexpected (e.g. the big datagram) shows up too
        # The verdict uses the live output; SIGINT makes tshark finish the pcap
        # (kept for a post mortem). It is reaped now or in cleanup.
        cap.send_signal(signal.SIGINT)
        try:
            cap.wait(5)
        except subprocess.TimeoutExpired:
            log("tshark still closing its capture; left to cleanup")
        rows = capture_rows(cap_out)
        tun = [row for row in rows if row["ip.proto"].startswith("4,")]
        for row in tun:
            log("  fabric: len %(frame.len)s src %(ip.src)s dst %(ip.dst)s proto %(ip.proto)s "
                "ttl %(ip.ttl)s df %(ip.flags.df)s mf %(ip.flags.mf)s off %(ip.frag_offset)s id %(ip.id)s "
                "ip.len %(ip.len)s udp.len %(udp.length)s "
                "ipcsum %(ip.checksum.status)s udpcsum %(udp.checksum.status)s" % row)
        addr_ok = lambda row: (row["ip.src"] == "%s,%s" % (NVE_IP, VM_IP)  # noqa: E731
                               and row["ip.dst"] == "%s,%s" % (MOVED_NVE, MOVED_IP)
                               and row["ip.proto"] == "4,17" and row["ip.ttl"] == "64,63")
        # DF datagrams: the outer header copies DF and needs no ID (RFC 6864).
        small_ok = [row for row in tun if addr_ok(row) and row["ip.flags.df"] == "1,1"
                    and row["ip.len"] == "%d,%d" % (SMALL_PAYLOAD + 48, SMALL_PAYLOAD + 28)
                    and row["udp.length"] == str(SMALL_PAYLOAD + 8)]
        fit_ok = [row for row in tun if addr_ok(row) and row["ip.flags.df"] == "1,1"
                  and row["ip.len"] == "%d,%d" % (TUNNEL_MTU, INNER_MTU)
                  and row["udp.length"] == str(FIT_PAYLOAD + 8)]
        frag_ok, reassembled = nodf_fragments(tun, addr_ok)
        over_by_one = [row for row in tun if row["ip.len"].endswith(",%d" % (INNER_MTU + 1))]
        oversize = [row for row in tun if int(row["ip.len"].split(",")[0]) > TUNNEL_MTU]
        problems = [(row["frame.len"], row_problems(row)) for row in rows if row_problems(row)]
        checks = {
            "big DF send accepted by the VM kernel first": pm.get("big_send") == "ok",
            "IP_MTU on the VM socket became %d" % INNER_MTU: pm.get("mtu_after") == INNER_MTU,
            "ip route get shows mtu %d" % INNER_MTU: bool(route_mtu) and int(route_mtu.group(1)) == INNER_MTU,
            "the next big DF send fails with EMSGSIZE": pm.get("so_error") == "EMSGSIZE"
            or pm.get("big_send_again") == "EMSGSIZE",
            "all other sends accepted by the VM kernel": pm.get("small_sent") == N_C_SMALL
            and pm.get("fit_send") == pm.get("probe_send") == pm.get("nodf_send") == "ok",
            "%d x %dB: outer %s->%s proto 4 TTL 64 DF, inner %s->%s UDP TTL 63" % (
                N_C_SMALL, SMALL_PAYLOAD, NVE_IP, MOVED_NVE, VM_IP, MOVED_IP): len(small_ok) == N_C_SMALL,
            "inner of exactly %d (DF) tunnelled whole, outer %d" % (INNER_MTU, TUNNEL_MTU): len(fit_ok) == 1,
            "inner of %d with DF (PMTUDISC_PROBE) not tunnelled" % (INNER_MTU + 1): not over_by_one,
            "no-DF %dB datagram: 2 inner fragments, each in an outer header" % BIG_PAYLOAD: frag_ok,
            "the fragments reassemble to the whole UDP datagram": len(reassembled) == 1,
            "exactly %d tunnelled frames, none above %d" % (N_TUNNELLED, TUNNEL_MTU): len(tun) == N_TUNNELLED
            and not oversize,
            "no malformed frame or bad checksum (tshark)": not problems,
        }
        for name, ok in checks.items():
            log("  C: %-72s %s" % (name, "ok" if ok else "NO"))
        if problems:
            log("  C: tshark found: %s" % problems)
        res.record("C path MTU / encapsulation", all(checks.values()),
                   "%d/%d checks in %.2fs" % (sum(checks.values()), len(checks), time.monotonic() - tC))

        # ---- counters --------------------------------------------------------
        delivered = len(got_a) + len(got_b)
        env.nved.send_signal(signal.SIGTERM)
        try:
            rc = env.nved.wait(25)
        except subprocess.TimeoutExpired:
            rc = None
        tot = {}
        if os.path.exists(env.counters):
            try:
                tot = json.load(open(env.counters)).get("counters", {})
            except ValueError as e:
                log("counters JSON unreadable: %s" % e)
        nonzero = {k: v for k, v in tot.items() if v}
        log("nved exit status %s; non-zero counters: %s" % (rc, json.dumps(nonzero, sort_keys=True)))
        checks = {
            "nved exited 0 on SIGTERM": rc == 0,
            "counters JSON written": bool(tot),
            "delivered_local >= %d" % delivered: tot.get("delivered_local", -1) >= delivered,
            "decap_ipv4_outer == %d" % sent_b: tot.get("decap_ipv4_outer", -1) == sent_b,
            "drop_decap_unknown_peer == %d" % N_B: tot.get("drop_decap_unknown_peer", -1) == N_B,
            "icmp_frag_needed_sent == 2": tot.get("icmp_frag_needed_sent", 0) == 2,
            "drop_too_big == 2": tot.get("drop_too_big", 0) == 2,
            "encap_ipv4_in_ipv4 == %d" % N_TUNNELLED: tot.get("encap_ipv4_in_ipv4", 0) == N_TUNNELLED,
            "ipv4_fragmented == 1": tot.get("ipv4_fragmented", 0) == 1,
            "ipv4_fragments_out == 2": tot.get("ipv4_fragments_out", 0) == 2,
            "arp_replied >= 1": tot.get("arp_replied", 0) >= 1,
            "drop_ipv4_bad_checksum == 0": tot.get("drop_ipv4_bad_checksum", 1) == 0,
        }
        if args.rx_scatter:
            # Every jumbo datagram arrived chained and left as one copy.
            checks["tx_linearized >= %d" % N_J] = tot.get("tx_linearized", 0) >= N_J
            checks["drop_multisegment == 0"] = tot.get("drop_multisegment", 1) == 0
            checks["drop_tx_multisegment == 0"] = tot.get("drop_tx_multisegment", 1) == 0
        for name, ok in checks.items():
            log("  counters: %-40s %s (%s)" % (name, "ok" if ok else "NO", tot.get(name.split()[0], "-")))
        res.record("counters", all(checks.values()), "%d/%d checks" % (sum(checks.values()), len(checks)))
    except Interrupted as e:
        log("interrupted (%s): cleaning up" % e)
    except Exception as e:  # a setup failure: the remaining sub-tests count as failed
        log("ERROR: %s" % e)
    finally:
        ignore_signals()
        try:
            if res.failed:
                log("nved log (last 40 lines):\n" + "\n".join(read(env.nved_log).splitlines()[-40:]))
            env.cleanup()
        finally:
            res.keep_or_remove(tmp, args.keep_logs)
    return res.close()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--helper":
        sys.exit(run_helper(sys.argv[2:]))
    sys.exit(main())
