#!/usr/bin/python3
"""End to end in XDP mode (issue 16): nvxdp attached to veths in namespaces.

    sudo /usr/bin/python3 tests/e2e/xdp_veth_test.py [--nvxdp P] [--keep-logs]

The topology of vm_namespace_test.py (its helpers and process handling are
reused): ns nve holds the NVE's two veths, its fabric port toward ns fab
(the gateway and correspondent 192.0.2.254, routing 10.0.0.0/24 via
192.0.2.1) and its access port toward ns vm (the VM 10.0.0.5). In XDP mode
the NVE's kernel answers ARP (the program passes it), so it holds
192.0.2.1/24 and 10.0.0.1/24; the veth peers take redirected frames with GRO
on. nvxdp runs nved's configuration format: the VM local on the access port,
10.0.0.9 moved to 198.51.100.2, the gateway's MAC static. Sub-tests:

  attach       nvxdp checks the configuration, attaches to both ports (native XDP
               on veth) and says it runs
  local        every datagram from the correspondent to 10.0.0.5 reaches the VM,
               TTL 63 (decremented once by the program)
  encap        every datagram to 10.0.0.9 leaves the fabric port as IPv4-in-IPv4
               192.0.2.1 -> 198.51.100.2 to the gateway's MAC (tshark on the
               gateway's side: inner 192.0.2.254 -> 10.0.0.9, TTL 63, outer
               checksum verified, nothing malformed)
  decap        IPv4-in-IPv4 to 192.0.2.1 from the gateway (in tunnel.peers) reaches
               the VM, decapsulated (TTL 63); the same from 192.0.2.253 (no known
               NVE) is dropped on drop_decap_unknown_peer, none reaches the VM
  pmtu         a DF datagram too big for the tunnel (tunnel.mtu 1400) from the
               correspondent gets Fragmentation Needed from the program: its
               kernel lowers the path MTU to 1380 and refuses the next one
               (EMSGSIZE); datagrams that fit are tunnelled; one without DF
               leaves in two fragments, each in its own outer header (nvxdp's
               slow path; tshark reassembles the datagram whole)
  local6       the same in IPv6: every datagram from the correspondent
               2001:db8:f::fe to the VM's fd00::5 reaches it, hop limit 63
  encap6       every datagram to fd00::9 (moved to 2001:db8:f::2) leaves the fabric
               port as IPv6-in-IPv6 2001:db8:f::1 -> 2001:db8:f::2 (tshark: inner
               hop limit 63, a flow label, the inner UDP checksum verified)
  decap6       IPv6-in-IPv6 from 2001:db8:f::fe (in tunnel.peers) reaches the VM,
               hop limit 63; the same from 2001:db8:f::99 is dropped
  metrics      the Prometheus page over HTTP (metrics section) passes promtool;
               per-CPU packets by outcome add up to the local deliveries,
               the ports' kernel counters are there
  stop         SIGTERM: exit 0, both ports detached, the counters written:
               delivered_local, encap_ipv4_in_ipv4, encap_ipv6_in_ipv6,
               decap_ipv4_outer, decap_ipv6_outer and drop_decap_unknown_peer as
               sent
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vm_namespace_test as base  # noqa: E402

log, sh, wait_until, read = base.log, base.sh, base.wait_until, base.read
DEFAULT_NVXDP = os.path.join(base.REPO, "build", "control", "nvxdp", "nvxdp")
DEFAULT_NVECTL = os.path.join(base.REPO, "build", "control", "nvectl", "nvectl")
N_LOCAL = 40
N_ENCAP = 30
N_TRACE = 5  # datagrams to the moved VM while the fabric port is traced (cli)
N_DECAP = 20
N_SPOOF = 10
N_LOCAL6 = 30
N_ENCAP6 = 20
N_DECAP6 = 15
N_SPOOF6 = 5
NVE6, GW6, FAB6_STRANGER = "2001:db8:f::1", "2001:db8:f::fe", "2001:db8:f::99"
VM6, VM6_GW, MOVED6, MOVED6_NVE = "fd00::5", "fd00::1", "fd00::9", "2001:db8:f::2"
CORRESPONDENT6 = "2001:db8:99::7"  # inner source of the tunnelled packets
CAPTURE6_FIELDS = ["ipv6.src", "ipv6.dst", "ipv6.nxt", "ipv6.hlim", "ipv6.flow", "udp.checksum.status",
                   "_ws.malformed"]


def xdp_attached(ns, ifn):
    j = json.loads(sh("ip", "-n", ns, "-j", "link", "show", "dev", ifn).stdout)
    return "xdp" in j[0]


def prog_id(ns, ifn):
    """The id of the XDP program on `ifn`, or None."""
    j = json.loads(sh("ip", "-n", ns, "-j", "link", "show", "dev", ifn).stdout)
    return ((j[0].get("xdp") or {}).get("prog") or {}).get("id")


def prepare_xdp(env):
    """After env.setup(): in XDP mode the NVE's kernel answers ARP (the
    program passes it), so it holds 192.0.2.1/24 and 10.0.0.1/24; and every
    veth takes redirected frames (GRO on: NAPI)."""
    sh("ip", "-n", env.ns_nve, "link", "set", "lo", "up")
    sh("ip", "-n", env.ns_nve, "addr", "add", base.NVE_IP + "/24", "dev", env.if_fab_nve)
    sh("ip", "-n", env.ns_nve, "addr", "add", base.VM_GW + "/24", "dev", env.if_vm_nve)
    for ns, ifn in ((env.ns_vm, env.if_vm), (env.ns_fab, env.if_fab_gw), (env.ns_nve, env.if_fab_nve),
                    (env.ns_nve, env.if_vm_nve)):
        sh("ip", "netns", "exec", ns, "ethtool", "-K", ifn, "gro", "on")
        # IPv6 (Env.setup turns it off for the DPDK tests): addresses without
        # duplicate address detection, so they serve at once.
        sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=0",
           "net.ipv6.conf.%s.disable_ipv6=0" % ifn, "net.ipv6.conf.%s.accept_ra=0" % ifn)
    for ns, ifn, addr in ((env.ns_nve, env.if_fab_nve, NVE6), (env.ns_nve, env.if_vm_nve, VM6_GW),
                          (env.ns_fab, env.if_fab_gw, GW6), (env.ns_vm, env.if_vm, VM6)):
        sh("ip", "-n", ns, "addr", "add", addr + "/64", "dev", ifn, "nodad")
    sh("ip", "-n", env.ns_fab, "route", "add", "fd00::/64", "via", NVE6)


def nvxdp_yaml(env, static_mac=True):
    """nvxdp's ports, address and gateway (nved's format): the rest follows.
    static_mac False: the gateway's MAC comes from the kernel's neighbour
    table (nvxdp has it resolve both families)."""
    gateway = ('{ipv4: %s, mac: "%s"}' % (base.GW_IP, env.gw_mac) if static_mac
               else '{ipv4: %s, ipv6: "%s"}' % (base.GW_IP, GW6))
    return """\
ports:
  - {name: fabric, role: fabric, port_id: 0, interface: %s}
  - {name: vms, role: access, port_id: 1, interface: %s}
nve: {ipv4: %s, ipv6: "%s"}
fabric_gateway: %s
""" % (env.if_fab_nve, env.if_vm_nve, base.NVE_IP, NVE6, gateway)


def arrived(listen_out, tag, count, unwanted_tag):
    """The datagrams tagged `tag` the VM's listener got (waiting for
    `count`), those tagged `unwanted_tag` (given a moment more to arrive,
    which they must not), and the TTLs / hop limits of the first."""
    wait_until(lambda: len(base.count_tag(base.listener_lines(listen_out), tag)) >= count, 5)
    time.sleep(0.3)
    lines = base.listener_lines(listen_out)
    got = base.count_tag(lines, tag)
    return got, base.count_tag(lines, unwanted_tag), sorted({l["ttl"] for l in got})


def capture_tunnels(env, tmp, ipv6=False, name=""):
    """tshark on the gateway's side of the fabric link, IPv4-in-IPv4 (or
    IPv6-in-IPv6) only, live once it says so. Returns (process, output path)."""
    tag = ("6" if ipv6 else "") + name
    cap_out, cap_err = os.path.join(tmp, "capture%s.txt" % tag), os.path.join(tmp, "tshark%s.err" % tag)
    tshark = ["tshark", "-n", "-l", "-i", env.if_fab_gw, "-f", "ip6 proto 41" if ipv6 else "ip proto 4",
              "-a", "duration:60", "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
              "-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in (CAPTURE6_FIELDS if ipv6 else base.CAPTURE_FIELDS):
        tshark += ["-e", f]
    cap = env.spawn("tshark" + tag, env.ns_fab, tshark, cap_out, cap_err)
    if not wait_until(lambda: "Capturing on" in read(cap_err) or cap.poll() is not None, 20):
        raise RuntimeError("tshark did not start:\n%s" % read(cap_err))
    return cap, cap_out


INJECT = r"""
import socket, struct, sys
vm_if, nve_mac, vm_mac, dst = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), \
    bytes.fromhex(sys.argv[3].replace(":", "")), socket.inet_aton(sys.argv[4])
def ip4(total):
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, 0, 64, 17, 0, socket.inet_aton("10.0.0.5"), dst))
    s = sum(struct.unpack("!10H", bytes(h)))
    s = (s & 0xffff) + (s >> 16)
    struct.pack_into("!H", h, 10, ~((s & 0xffff) + (s >> 16)) & 0xffff)
    return bytes(h) + b"x" * (total - 20)
slow = struct.pack("<IIIB3x", 0x11111111, 0x22222222, 0, 1) + ip4(1400)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((vm_if, 0))
for _ in range(5):
    s.send(nve_mac + vm_mac + struct.pack("!H", 0x88b5) + slow)                    # plain
    s.send(nve_mac + vm_mac + struct.pack("!HHH", 0x88a8, 7, 0x88b5) + slow)       # behind an 802.1ad tag
print("sent 10")
"""


def inject_checks(env, capture, nvectl, sock):
    """From the VM, frames of the slow path's EtherType (plainly, and behind
    an 802.1ad tag the kernel would strip) whose packet is routed to a moved
    VM: the program drops them (drop_l2_unsupported), nothing is tunnelled,
    nvxdp's slow path never sees one."""
    cap, cap_out = capture

    def counters():
        r = sh("ip", "netns", "exec", env.ns_nve, nvectl, "-s", sock, "-j", "show", "counters", check=False)
        try:
            return json.loads(r.stdout)
        except ValueError:
            return {}
    c0 = counters()
    r = sh("ip", "netns", "exec", env.ns_vm, base.PYTHON, "-c", INJECT, env.if_vm, env.nve_vm_mac,
           env.vm_mac, base.MOVED_IP, check=False)
    time.sleep(0.5)
    base.Env.stop(cap, term_timeout=5)
    rows = base.capture_rows(cap_out)
    c1 = counters()

    def delta(name, section="counters"):
        return c1.get(section, {}).get(name, 0) - c0.get(section, {}).get(name, 0)
    dropped = delta("drop_l2_unsupported")
    slow = c1.get("slow_path_failures", 0) - c0.get("slow_path_failures", 0)
    ok = r.returncode == 0 and not rows and dropped == 10 and slow == 0
    return ok, "%s; tunnelled afterwards: %d frame(s); drop_l2_unsupported +%d (want 10); slow_path_failures +%d" % (
        (r.stdout + r.stderr).strip()[-120:], len(rows), dropped, slow)


def cli_checks(env, nvectl, sock, proc, log_path, second_cmd):
    """nvectl against nvxdp: the whole route listing (in pages, as nvectl
    asks nved), a summary, route add / del, ports, counters cleared,
    neighbours, tunnel peers, help, reload, a packet trace; what nvxdp has
    not, refused by name; SIGHUP reloads and does not stop it; a second nvxdp on the same
    socket (`second_cmd`) goes without touching the first's program."""
    def ctl(*words, j=False):
        r = sh("ip", "netns", "exec", env.ns_nve, nvectl, "-s", sock, "-t", "3000", *(["-j"] if j else []), *words,
               check=False, timeout=15)
        if not j:
            return r.returncode, (r.stdout + r.stderr)
        try:
            return r.returncode, json.loads(r.stdout) if r.returncode == 0 else None
        except ValueError:
            return r.returncode, None
    problems = []

    def want(ok, what):
        if not ok:
            problems.append(what)
    rc, rows = ctl("show", "routes", j=True)
    by = {r.get("address"): r for r in rows or []}
    vm = by.get(base.VM_IP, {})
    want(rc == 0 and vm.get("kind") == "local" and vm.get("mac") == env.vm_mac and vm.get("hits", 0) > 0
         and vm.get("last_hit_seconds_ago") is not None, "show routes: %s local, used, with its MAC: %s" % (base.VM_IP, vm))
    want(by.get(base.MOVED_IP, {}).get("nve") == base.MOVED_NVE and VM6 in by and MOVED6 in by,
         "show routes: the moved VMs and IPv6: %s" % sorted(by))
    rc, text = ctl("show", "routes")
    want(rc == 0 and "USED-TICKS" in text and base.VM_IP in text, "show routes (text): %s" % text[:300])
    rc, ex = ctl("explain", "vn", "0", base.MOVED_IP, j=True)
    rc2, ex_none = ctl("explain", "vn", "0", "10.0.0.200", j=True)
    want(rc == 0 and (ex or {}).get("route") == "tunnel" and base.MOVED_NVE in (ex or {}).get("action", "")
         and rc2 == 0 and "XDP_PASS" in (ex_none or {}).get("action", ""), "explain: %s / %s" % (ex, ex_none))
    rc, text = ctl("show", "routes", "summary")
    want(rc == 0 and "all" in text, "show routes summary: %s" % text[:200])
    rc, text = ctl("route", "add", "vn", "0", "10.0.0.99", "tunnel", "192.0.2.77")
    rc2, added = ctl("show", "routes", "vn", "0", "10.0.0.99", j=True)
    want(rc == 0 and rc2 == 0 and added and added[0].get("nve") == "192.0.2.77", "route add: %s %s" % (text, added))
    rc, running = ctl("show", "running-config")
    want(rc == 0 and "10.0.0.99" in running, "show running-config lists the route added: %s" % running[-300:])
    rc, text = ctl("route", "del", "vn", "0", "10.0.0.99")
    rc2, gone = ctl("show", "routes", "vn", "0", "10.0.0.99", j=True)
    want(rc == 0 and rc2 == 0 and not gone, "route del: %s %s" % (text, gone))
    rc, ports = ctl("show", "ports", j=True)
    want(rc == 0 and len(ports or []) == 2 and all(p.get("xdp") == "native" and p.get("link_up") for p in ports)
         and all(p.get("rx_packets", 0) > 0 for p in ports), "show ports: %s" % ports)
    rc, stats = ctl("show", "port", "stats", "fabric", j=True)
    rc2, text = ctl("show", "port", "stats")
    want(rc == 0 and len(stats or []) == 1 and (stats or [{}])[0].get("rx_packets", 0) > 0 and rc2 == 0
         and text.count("NIC statistics for port") == 2, "show port stats: %s" % stats)
    rc, xstats = ctl("show", "port", "xstats", "fabric", j=True)
    rc2, text = ctl("show", "port", "xstats", "nosuch")
    want(rc == 0 and (xstats or {}).get("rx_queue_0_xdp_packets", 0) > 0 and "peer_ifindex" in (xstats or {})
         and rc2 != 0 and "nosuch" in text,
         "show port xstats: the veth driver's statistics (ethtool -S): %s; an unknown port: %s" % (
             xstats, text.strip()))
    rc, _ = ctl("clear", "counters")
    rc2, cnt = ctl("show", "counters", j=True)
    counts = (cnt or {}).get("counters", {})
    want(rc == 0 and rc2 == 0 and counts and counts.get("delivered_local") == 0, "clear counters: %s" % counts)
    rc, nb = ctl("show", "neighbours", j=True)
    want(rc == 0 and any(n.get("role") == "gateway" and n.get("source") == "static" for n in nb or []),
         "show neighbours: %s" % nb)
    rc, peers = ctl("show", "tunnel-peers", j=True)
    want(rc == 0 and len(peers or []) == 2, "show tunnel-peers: the two tunnel.peers: %s" % peers)
    rc, text = ctl("help")
    want(rc == 0 and "show routes" in text and "show trace" in text and "show workers" not in text,
         "help lists what nvxdp serves")
    rc, text = ctl("show", "workers")
    want(rc != 0 and "not available" in text, "show workers refused by name: %s" % text.strip())
    rc, text = ctl("trace", "add", "fabric", "3")
    env.helper(env.ns_fab, "udpsend", base.MOVED_IP, str(base.MOVED_PORT), str(N_TRACE), "T")
    wait_until(lambda: len(ctl("show", "trace", j=True)[1] or []) >= 3, 3)
    rc2, rows = ctl("show", "trace", j=True)
    rc3, shown = ctl("show", "trace")
    want(rc == 0 and rc2 == 0 and len(rows or []) == 3
         and all(set((r.get("counters") or "").split()) == {"encap_ipv4_in_ipv4", "tx_packets"} and not r.get("dropped")
                 and (r.get("output") or "").startswith("port 0, ") for r in rows or [])
         and "IPv4 %s > %s IPIP" % (base.NVE_IP, base.MOVED_NVE) in shown,
         "trace add fabric 3: %s / %s" % (rows, shown[:300]))
    rc, _ = ctl("clear", "trace")
    rc2, text = ctl("show", "trace")
    want(rc == 0 and "no packet traced" in text, "clear trace: %s" % text.strip())
    rc, text = ctl("reload")
    want(rc == 0 and "no change" in text, "reload: %s" % text.strip())
    proc.send_signal(signal.SIGHUP)
    want(wait_until(lambda: "SIGHUP received" in read(log_path), 3) and proc.poll() is None,
         "SIGHUP: reloaded, still running (%s)" % proc.poll())
    ids = [prog_id(env.ns_nve, ifn) for ifn in (env.if_fab_nve, env.if_vm_nve)]
    r = sh("ip", "netns", "exec", env.ns_nve, *second_cmd, check=False, timeout=20)
    rc, _ = ctl("show", "version")
    want(r.returncode != 0 and "in use" in r.stdout + r.stderr and rc == 0 and proc.poll() is None
         and [prog_id(env.ns_nve, ifn) for ifn in (env.if_fab_nve, env.if_vm_nve)] == ids,
         "a second nvxdp: exit %d (%s); the first answers (%d), its program still on both ports (%s)" % (
             r.returncode, (r.stdout + r.stderr).strip()[-160:], rc, ids))
    return not problems, "nvectl -s nvxdp's socket: " + ("every command answered as nved's" if not problems
                                                          else "; ".join(problems))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nvxdp", default=DEFAULT_NVXDP)
    ap.add_argument("--nvectl", default=DEFAULT_NVECTL)
    ap.add_argument("--keep-logs", action="store_true")
    args = ap.parse_args()
    if not base.preflight([("nvxdp", args.nvxdp), ("nvectl", args.nvectl)]):
        return 1

    tmp = tempfile.mkdtemp(prefix="nvmove-xdp-e2e-")
    env = base.Env(args.nvxdp, tmp)
    res = base.Results(expected=12)
    log_path, counters = os.path.join(tmp, "nvxdp.log"), os.path.join(tmp, "counters.json")
    sock = os.path.join(tmp, "nvxdp.sock")

    def body():
        env.setup()
        nve, fab, vm = env.ns_nve, env.ns_fab, env.ns_vm
        prepare_xdp(env)
        with open(env.config, "w") as fh:
            fh.write(nvxdp_yaml(env) + """\
tunnel: {mtu: 1400, peers: [%s/32, "%s/128"]}
metrics: {address: 127.0.0.1, port: 9471}
local_vms:
  - {port: vms, mac: "%s", addresses: [%s, "%s"]}
moved_vms:
  - {vn: 0, addresses: [%s], nve: %s}
  - {vn: 0, addresses: ["%s"], nve: "%s"}
""" % (base.GW_IP, GW6, env.vm_mac, base.VM_IP, VM6,
                base.MOVED_IP, base.MOVED_NVE, MOVED6, MOVED6_NVE))
        r = sh("ip", "netns", "exec", nve, args.nvxdp, "-c", env.config, "--check-config", check=False)
        check_ok = r.returncode == 0
        log("nvxdp --check-config: %s%s" % (r.stdout.strip(), r.stderr.strip()))

        cap, cap_out = capture_tunnels(env, tmp)
        cap6, cap6_out = capture_tunnels(env, tmp, ipv6=True)

        nvxdp = env.spawn("nvxdp", nve, [args.nvxdp, "-c", env.config, "--counters-json", counters,
                                            "--ctl-socket", sock], log_path)
        up = wait_until(lambda: "nvxdp running" in read(log_path) or nvxdp.poll() is not None, 10)
        attached = [ifn for ifn in (env.if_fab_nve, env.if_vm_nve) if xdp_attached(nve, ifn)]
        native = read(log_path).count("XDP attached, native mode")
        log("nvxdp: %s" % " | ".join(l.split("] ")[-1] for l in read(log_path).splitlines()[-4:]))
        res.record("attach", check_ok and bool(up) and nvxdp.poll() is None and len(attached) == 2 and native == 2,
                   "configuration checked; XDP on %s, %d in native mode" % (attached, native))
        if nvxdp.poll() is not None:
            raise RuntimeError("nvxdp exited:\n%s" % read(log_path))

        # ---- local delivery --------------------------------------------------------
        ready = os.path.join(tmp, "vm.ready")
        listen_out = os.path.join(tmp, "vm.recv")
        env.spawn("listener", vm, [base.PYTHON, base.__file__, "--helper", "listen", str(base.UDP_PORT), ready, "30"],
                  listen_out, os.path.join(tmp, "vm.err"))
        if not wait_until(lambda: os.path.exists(ready), 10):
            raise RuntimeError("listener not ready:\n%s" % read(os.path.join(tmp, "vm.err")))
        env.helper(fab, "udpsend", base.VM_IP, str(base.UDP_PORT), str(N_LOCAL), "L")
        wait_until(lambda: len(base.count_tag(base.listener_lines(listen_out), "L")) >= N_LOCAL, 5)
        got = base.count_tag(base.listener_lines(listen_out), "L")
        ttls = sorted({l["ttl"] for l in got})
        res.record("local", len(got) == N_LOCAL and ttls == [63],
                   "%d of %d datagrams to %s reached the VM, TTL %s (need 63: one hop)" % (
                       len(got), N_LOCAL, base.VM_IP, ttls))

        # ---- encapsulation toward the moved VM's NVE ---------------------------------
        env.helper(fab, "udpsend", base.MOVED_IP, str(base.MOVED_PORT), str(N_ENCAP), "E")
        good = lambda row: (row["ip.src"] == "%s,%s" % (base.NVE_IP, base.GW_IP)  # noqa: E731
                            and row["ip.dst"] == "%s,%s" % (base.MOVED_NVE, base.MOVED_IP)
                            and row["ip.proto"] == "4,17" and row["ip.ttl"].split(",")[1] == "63"
                            and row["ip.checksum.status"].split(",")[0] == "1")
        wait_until(lambda: sum(good(r) for r in base.capture_rows(cap_out)) >= N_ENCAP, 5)
        for ns, ifn in ((nve, env.if_fab_nve), (fab, env.if_fab_gw)):  # veth's XDP counters, for diagnosis
            st = sh("ip", "netns", "exec", ns, "ethtool", "-S", ifn, check=False).stdout
            log("%s: %s" % (ifn, " ".join(l.strip() for l in st.splitlines() if "xdp" in l and not l.strip().endswith(": 0"))))
        cap.send_signal(signal.SIGINT)
        try:
            cap.wait(5)
        except subprocess.TimeoutExpired:
            pass
        rows = base.capture_rows(cap_out)
        ok_rows = [r for r in rows if good(r)]
        problems = [base.row_problems(r) for r in rows if base.row_problems(r)]
        if rows:
            log("first tunnelled frame: %s" % rows[0])
        res.record("encap", len(ok_rows) == N_ENCAP and len(rows) == N_ENCAP and not problems,
                   "%d IPv4-in-IPv4 frames on the gateway's side, %d of them %s -> %s carrying %s -> %s with TTL 63 "
                   "and a verified outer checksum (sent %d); problems: %s" % (
                       len(rows), len(ok_rows), base.NVE_IP, base.MOVED_NVE, base.GW_IP, base.MOVED_IP, N_ENCAP,
                       problems[:3]))

        # ---- decapsulation: from a known NVE, and from a host that is none -------------
        rd = env.helper_result("ipip", fab, "ipip", env.if_fab_gw, env.gw_mac, env.nve_fab_mac, str(N_DECAP),
                               str(base.UDP_PORT), base.GW_IP, "D")
        rs = env.helper_result("ipip-spoofed", fab, "ipip", env.if_fab_gw, env.gw_mac, env.nve_fab_mac, str(N_SPOOF),
                               str(base.UDP_PORT), base.SPOOFED_NVE, "S")
        got_d, got_s, ttls_d = arrived(listen_out, "D", N_DECAP, "S")
        res.record("decap", rd["sent"] == N_DECAP and rs["sent"] == N_SPOOF and len(got_d) == N_DECAP
                   and not got_s and ttls_d == [63],
                   "%d of %d tunnelled datagrams from %s (a tunnel peer) reached the VM, TTL %s; %d of %d from %s "
                   "(no known NVE)" % (len(got_d), N_DECAP, base.GW_IP, ttls_d, len(got_s), N_SPOOF, base.SPOOFED_NVE))

        # ---- path MTU: Fragmentation Needed from the program; no DF: fragmented -------------
        capf, capf_out = capture_tunnels(env, tmp, name="-pmtu")
        r = env.helper(fab, "pmtu", base.MOVED_IP, str(base.MOVED_PORT), "5")
        try:
            pm = json.loads(r.stdout)
        except ValueError:
            pm = {"error": (r.stdout + r.stderr).strip()}
        pmtu_tunnelled = pm.get("small_sent", 0) + (pm.get("fit_send") == "ok")
        addr_ok = lambda row: (row["ip.src"] == "%s,%s" % (base.NVE_IP, base.GW_IP)  # noqa: E731
                               and row["ip.dst"] == "%s,%s" % (base.MOVED_NVE, base.MOVED_IP)
                               and row["ip.proto"] == "4,17" and row["ip.ttl"] == "64,63")
        wait_until(lambda: len(base.nodf_fragments(base.capture_rows(capf_out), addr_ok)[1]) == 1, 5)
        time.sleep(0.2)
        base.Env.stop(capf, term_timeout=5)
        frows = base.capture_rows(capf_out)
        frag_ok, reassembled = base.nodf_fragments(frows, addr_ok)
        fproblems = [base.row_problems(r) for r in frows if base.row_problems(r)]
        res.record("pmtu", pm.get("mtu_after") == 1380 and pm.get("big_send_again") == "EMSGSIZE"
                   and pm.get("small_sent") == base.N_C_SMALL and pm.get("fit_send") == "ok"
                   and pm.get("nodf_send") == "ok" and frag_ok and len(reassembled) == 1 and not fproblems,
                   "path MTU to %s %s -> %s after the first too-big DF datagram (want 1380), the next one %s, "
                   "%s small and the exact fit (%s) sent; the %d-byte datagram without DF left as 2 fragments in "
                   "the tunnel: %s, reassembled by tshark: %d; problems: %s" % (
                       base.MOVED_IP, pm.get("mtu_before"), pm.get("mtu_after"), pm.get("big_send_again"),
                       pm.get("small_sent"), pm.get("fit_send"), base.BIG_PAYLOAD, frag_ok, len(reassembled),
                       fproblems))

        # ---- a VM cannot pass a frame off as the slow path's ----------------------------
        res.record("inject", *inject_checks(env, capture_tunnels(env, tmp, name="-inject"), args.nvectl, sock))

        # ---- IPv6: local delivery, IPv6-in-IPv6, decapsulation ---------------------------
        ready6, listen6_out = os.path.join(tmp, "vm6.ready"), os.path.join(tmp, "vm6.recv")
        env.spawn("listener6", vm, [base.PYTHON, base.__file__, "--helper", "listen", str(base.UDP_PORT), ready6, "30",
                                    "6"], listen6_out, os.path.join(tmp, "vm6.err"))
        if not wait_until(lambda: os.path.exists(ready6), 10):
            raise RuntimeError("IPv6 listener not ready:\n%s" % read(os.path.join(tmp, "vm6.err")))
        env.helper(fab, "udpsend", VM6, str(base.UDP_PORT), str(N_LOCAL6), "L6")
        wait_until(lambda: len(base.count_tag(base.listener_lines(listen6_out), "L6")) >= N_LOCAL6, 5)
        got = base.count_tag(base.listener_lines(listen6_out), "L6")
        hops = sorted({l["ttl"] for l in got})
        res.record("local6", len(got) == N_LOCAL6 and hops == [63],
                   "%d of %d datagrams to %s reached the VM, hop limit %s (need 63)" % (len(got), N_LOCAL6, VM6, hops))

        env.helper(fab, "udpsend", MOVED6, str(base.MOVED_PORT), str(N_ENCAP6), "E6")
        rows6 = lambda: [dict(zip(CAPTURE6_FIELDS, l.split("|"))) for l in read(cap6_out).splitlines()  # noqa: E731
                         if len(l.split("|")) == len(CAPTURE6_FIELDS)]
        good6 = lambda row: (row["ipv6.src"] == "%s,%s" % (NVE6, GW6)  # noqa: E731
                             and row["ipv6.dst"] == "%s,%s" % (MOVED6_NVE, MOVED6)
                             and row["ipv6.nxt"] == "41,17" and row["ipv6.hlim"] == "64,63"
                             and row["ipv6.flow"].split(",")[0] not in ("", "0x00000", "0x00000000")
                             and row["udp.checksum.status"] == "1" and not row["_ws.malformed"])
        wait_until(lambda: sum(good6(r) for r in rows6()) >= N_ENCAP6, 5)
        cap6.send_signal(signal.SIGINT)
        try:
            cap6.wait(5)
        except subprocess.TimeoutExpired:
            pass
        r6 = rows6()
        if r6:
            log("first IPv6-in-IPv6 frame: %s" % r6[0])
        res.record("encap6", len(r6) == N_ENCAP6 and all(good6(r) for r in r6),
                   "%d IPv6-in-IPv6 frames on the gateway's side, %d of them %s -> %s carrying %s -> %s, hop limits "
                   "64/63, a flow label, the inner UDP checksum verified (sent %d)" % (
                       len(r6), sum(good6(r) for r in r6), NVE6, MOVED6_NVE, GW6, MOVED6, N_ENCAP6))

        rd6 = env.helper_result("tunnel6", fab, "tunnel6", env.if_fab_gw, env.gw_mac, env.nve_fab_mac, str(N_DECAP6),
                                str(base.UDP_PORT), GW6, NVE6, CORRESPONDENT6, VM6, "D6")
        rs6 = env.helper_result("tunnel6-stranger", fab, "tunnel6", env.if_fab_gw, env.gw_mac, env.nve_fab_mac,
                                str(N_SPOOF6), str(base.UDP_PORT), FAB6_STRANGER, NVE6, CORRESPONDENT6, VM6, "S6")
        got_d, got_s, hops_d = arrived(listen6_out, "D6", N_DECAP6, "S6")
        res.record("decap6", rd6["sent"] == N_DECAP6 and rs6["sent"] == N_SPOOF6 and len(got_d) == N_DECAP6
                   and not got_s and hops_d == [63],
                   "%d of %d IPv6-in-IPv6 datagrams from %s (a tunnel peer) reached the VM, hop limit %s; %d of %d "
                   "from %s (no known NVE)" % (len(got_d), N_DECAP6, GW6, hops_d, len(got_s), N_SPOOF6, FAB6_STRANGER))

        # ---- metrics --------------------------------------------------------------------
        # (urllib, not curl: setup.sh installs no curl)
        r = sh("ip", "netns", "exec", nve, base.PYTHON, "-c",
               "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen("
               "'http://127.0.0.1:9471/metrics', timeout=5).read().decode())", check=False)
        page = r.stdout
        prom = subprocess.run(["promtool", "check", "metrics"], input=page, capture_output=True, text=True)
        delivered = sum(int(float(l.split()[-1])) for l in page.splitlines()
                        if l.startswith("nve_packets_total{") and 'outcome="delivered_local"' in l)
        port_rx = [l for l in page.splitlines() if l.startswith("nve_port_rx_packets_total{") and 'name="fabric"' in l]
        res.record("metrics", r.returncode == 0 and prom.returncode == 0 and delivered == N_LOCAL + N_DECAP + N_LOCAL6
                   + N_DECAP6 and port_rx and int(port_rx[0].split()[-1]) > 0,
                   "scrape exit %d, %d lines, promtool %s; delivered_local over the CPUs %d (want %d); %s" % (
                       r.returncode, len(page.splitlines()), "clean" if prom.returncode == 0 else prom.stdout.strip()[:200],
                       delivered, N_LOCAL + N_DECAP + N_LOCAL6 + N_DECAP6, port_rx[:1]))

        # ---- the operator's commands, as nved's ---------------------------------------
        res.record("cli", *cli_checks(env, args.nvectl, sock, nvxdp, log_path,
                                      [args.nvxdp, "-c", env.config, "--ctl-socket", sock]))

        # ---- stop ---------------------------------------------------------------------
        rc = base.Env.stop(nvxdp, term_timeout=10)
        still = [ifn for ifn in (env.if_fab_nve, env.if_vm_nve) if xdp_attached(nve, ifn)]
        try:
            with open(counters) as fh:
                c = json.load(fh)["counters"]
        except (OSError, ValueError, KeyError):
            c = {}
        log("nvxdp exit %s; non-zero counters: %s" % (rc, {k: v for k, v in c.items() if v}))
        # (pmtu: the big DF datagram and the probe get Fragmentation Needed,
        # the one without DF is fragmented: two fragments tunnelled.)
        want = {"delivered_local": N_LOCAL + N_DECAP + N_LOCAL6 + N_DECAP6,
                "encap_ipv4_in_ipv4": N_ENCAP + pmtu_tunnelled + 2 + N_TRACE, "icmp_frag_needed_sent": 2, "drop_too_big": 2,
                "ipv4_fragmented": 1, "ipv4_fragments_out": 2,
                "encap_ipv6_in_ipv6": N_ENCAP6, "decap_ipv4_outer": N_DECAP, "decap_ipv6_outer": N_DECAP6,
                "drop_decap_unknown_peer": N_SPOOF + N_SPOOF6}
        wrong = {k: (c.get(k), v) for k, v in want.items() if c.get(k) != v}
        res.record("stop", rc == 0 and not still and not wrong,
                   "exit %s, XDP still on %s, counters as sent (%s)%s" % (
                       rc, still, ", ".join("%s %d" % kv for kv in want.items()),
                       "; wrong (got, want): %s" % wrong if wrong else ""))

    return base.run_scenario(env, res, tmp, args.keep_logs, body, logs=[log_path])


if __name__ == "__main__":
    sys.exit(main())
