#!/usr/bin/python3
"""A VM move in XDP mode (issue 16): nvxdp's mobility agent, nvad, traffic.

    sudo /usr/bin/python3 tests/e2e/xdp_move_test.py [--nvxdp P] [--nvectl P] [--nvad P] [--register P] [--keep-logs]

The topology of xdp_veth_test.py (vm_namespace_test.py's): nvxdp, NVE A,
attached to the veths of ns nve, with its mobility agent (127.0.0.11) and
nvad (127.0.0.1) in the same namespace. The VM 10.0.0.5 is associated and
activated on A with nvectl (-s nvxdp's socket): A registers it with nvad. A
stream from the correspondent to the VM runs; in the middle NVE B
(nve_register as 127.0.0.12, endpoint 192.0.2.2) registers the VM: nvad
notifies A, whose agent turns the VM's route into a tunnel toward 192.0.2.2
in the program's maps. Sub-tests:

  register     vm associate on nvxdp (nvectl), then the VM's gratuitous ARP: nvxdp
               (a packet socket on the access port) activates it and registers
               it with nvad; show routes 10.0.0.5 is local
  move         nvad accepts B's registration; A's route becomes a tunnel to
               192.0.2.2 (show routes), show bul lists the VM
  traffic      every datagram of the stream either reached the VM (before the
               switch) or left the fabric port tunnelled to 192.0.2.2 (after it;
               tshark on the gateway's side): none lost across the switch
  stop         nvxdp and nvad exit 0 on SIGTERM, XDP detached

--router: nvxdp is T, a ToR in the default-router role (seed 003 7.2) for
NVE A (nve_register as 127.0.0.11, endpoint 192.0.2.3); B's underlay
192.0.2.2 is on the gateway's side of the fabric link (its kernel answers
ARP for it). Sub-tests:

  before       A registers the VM; the correspondent's datagrams to it are not
               routed by T (no host route: the program passes them to T's
               kernel, which does not forward)
  router       B registers the VM: nvad notifies T (R flag), T resolves B through
               its kernel's neighbour table and installs 10.0.0.5 as a native
               route out of the fabric port to B's MAC (show routes, show
               default-router; time printed)
  native       every datagram of the correspondent's then leaves T natively
               toward B: TTL 63, from T's MAC to B's (tshark)
  forged       a router notification nvad did not send (a key T does not have)
               is dropped unanswered, installs nothing
  withdrawn    B's binding ends (lifetime 0): T's host route goes
  stop         nvxdp and nvad exit 0 on SIGTERM, XDP detached
"""
import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vm_namespace_test as base  # noqa: E402
from xdp_veth_test import NVE6, capture_tunnels, nvxdp_yaml, prepare_xdp, xdp_attached  # noqa: E402

log, sh, wait_until, read = base.log, base.sh, base.wait_until, base.read
BUILD = os.path.join(base.REPO, "build")
NVAD_IP, AGENT_A, AGENT_B, NVE_B = "127.0.0.1", "127.0.0.11", "127.0.0.12", "192.0.2.2"
PORT = 61434
N_STREAM = 400
VM_MOVE_TEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vm_move_test.py")  # its garp helper
AGENT_T, NVE_A_ROUTER = "127.0.0.13", "192.0.2.3"
N_NATIVE = 50


def register(args, env, p, who, vm_mac, endpoint, lifetime=150):
    """nve_register as A or B (the NVEs the tests play): its result."""
    return sh("ip", "netns", "exec", env.ns_nve, args.register, "--nvad", NVAD_IP, "--port", str(PORT), "--from",
              {"A": AGENT_A, "B": AGENT_B}[who], "--keys", p[who + ".keys"], "--vm", "vm1", "--vn", "0", "--mac",
              vm_mac, "--addr", base.VM_IP, "--endpoint", endpoint, "--lifetime", str(lifetime), check=False,
              timeout=20)


def capture_native(env, tmp):
    """tshark on the gateway's side: UDP to the VM, with who sent the frame and
    its TTL. Returns (process, output path)."""
    out, err = os.path.join(tmp, "native.txt"), os.path.join(tmp, "native.err")
    cap = env.spawn("tshark-native", env.ns_fab, ["tshark", "-n", "-l", "-i", env.if_fab_gw, "-f",
                                                  "udp and dst host %s" % base.VM_IP, "-a", "duration:60", "-T",
                                                  "fields", "-E", "separator=|", "-e", "eth.src", "-e", "eth.dst",
                                                  "-e", "ip.ttl", "-e", "udp.payload"], out, err)
    if not wait_until(lambda: "Capturing on" in read(err) or cap.poll() is not None, 20):
        raise RuntimeError("tshark did not start:\n%s" % read(err))
    return cap, out


def move_scenario(args, env, p, res, ctl, route, tmp):
    fab, vm = env.ns_fab, env.ns_vm
    # ---- the VM associated on A, then announcing itself ------------------------------------
    rc1, out1 = ctl("vm", "associate", "vm1", "port", "vms", "mac", env.vm_mac, "addr", base.VM_IP)
    t_garp = time.monotonic()
    sh("ip", "netns", "exec", vm, base.PYTHON, VM_MOVE_TEST, "--helper", "garp", env.if_vm, env.vm_mac,
       base.VM_IP, check=False, timeout=20)

    def registered():
        rc, vms = ctl("show", "vms", j=True)
        rows = [v for v in (vms if rc == 0 and isinstance(vms, list) else []) if v.get("vm_id") == "vm1"]
        return rows[0] if rows and rows[0].get("registered") is True and rows[0].get("state") == "activated" else None
    vm_row = wait_until(registered, 10, 0.02)
    ms = (time.monotonic() - t_garp) * 1000
    r0 = route()
    log("associate: %s %s; after the VM's gratuitous ARP: %s; route %s" % (rc1, out1, vm_row, r0))
    res.record("register", rc1 == 0 and bool(vm_row) and bool(r0) and r0.get("kind") == "local",
               "vm associate on nvxdp, then the VM's gratuitous ARP: active and registered with nvad %.0f ms "
               "later; route %s" % (ms, r0))

    # ---- traffic, and the move in the middle ---------------------------------------------
    cap, cap_out = capture_tunnels(env, tmp)
    ready, listen_out = os.path.join(tmp, "vm.ready"), os.path.join(tmp, "vm.recv")
    env.spawn("listener", vm, [base.PYTHON, base.__file__, "--helper", "listen", str(base.UDP_PORT), ready, "30"],
              listen_out, os.path.join(tmp, "vm.err"))
    if not wait_until(lambda: os.path.exists(ready), 10):
        raise RuntimeError("listener not ready")
    sender = env.spawn("stream", fab, [base.PYTHON, base.__file__, "--helper", "udpsend", base.VM_IP,
                                       str(base.UDP_PORT), str(N_STREAM), "M"],
                       os.path.join(tmp, "stream.out"), os.path.join(tmp, "stream.err"))
    wait_until(lambda: len(base.listener_lines(listen_out)) >= N_STREAM // 3, 10)
    t_move = time.monotonic()
    r = register(args, env, p, "B", env.vm_mac, NVE_B)
    tunnel = wait_until(lambda: (lambda x: x if x and x.get("kind") == "tunnel" else None)(route()), 5, 0.01)
    log("B registered (%s: %s) ; A's route %s, %.0f ms after" % (
        r.returncode, r.stdout.strip(), tunnel, (time.monotonic() - t_move) * 1000))
    rc_b, bul = ctl("show", "bul", j=True)
    res.record("move", r.returncode == 0 and bool(tunnel) and tunnel.get("nve") == NVE_B and rc_b == 0
               and any(b.get("vm_id") == "vm1" for b in bul or []),
               "nvad accepted B's registration; A's route %s; show bul %s" % (tunnel, bul))
    sender.wait(30)
    time.sleep(0.5)
    cap.send_signal(signal.SIGINT)
    try:
        cap.wait(5)
    except subprocess.TimeoutExpired:
        pass
    at_vm = base.count_tag(base.listener_lines(listen_out), "M")
    rows = base.capture_rows(cap_out)
    tunnelled = [row for row in rows if row["ip.dst"] == "%s,%s" % (NVE_B, base.VM_IP)
                 and row["ip.src"].startswith(base.NVE_IP + ",") and row["ip.checksum.status"].startswith("1")]
    log("stream: %d sent, %d at the VM, %d tunnelled to %s" % (N_STREAM, len(at_vm), len(tunnelled), NVE_B))
    res.record("traffic", len(at_vm) > 0 and len(tunnelled) > 0 and len(at_vm) + len(tunnelled) == N_STREAM,
               "%d datagrams: %d delivered to the VM before the switch, %d tunnelled to %s after it, %d lost" % (
                   N_STREAM, len(at_vm), len(tunnelled), NVE_B, N_STREAM - len(at_vm) - len(tunnelled)))


def router_scenario(args, env, p, res, ctl, route, tmp):
    nve, fab = env.ns_nve, env.ns_fab
    t_mac, b_mac = env.nve_fab_mac, env.gw_mac  # B's underlay is on the gateway's interface
    cap, cap_out = capture_native(env, tmp)

    def routed():  # datagrams T sent back out natively: from T's MAC to B's, TTL 63
        return [l for l in read(cap_out).splitlines() if l.startswith("%s|%s|63|" % (t_mac, b_mac))]

    r = register(args, env, p, "A", env.vm_mac, NVE_A_ROUTER)
    env.helper(fab, "udpsend", base.VM_IP, str(base.UDP_PORT), "20", "P")
    time.sleep(0.3)
    before = routed()
    res.record("before", r.returncode == 0 and route() is None and not before,
               "A registered the VM (%s); T's route %s; %d of 20 datagrams routed by T" % (
                   r.stdout.strip(), route(), len(before)))

    t0 = time.monotonic()
    r = register(args, env, p, "B", env.vm_mac, NVE_B)
    installed = wait_until(lambda: (lambda x: x if x and x.get("kind") == "local" else None)(route()), 5, 0.01)
    ms = (time.monotonic() - t0) * 1000
    rc, rows = ctl("show", "default-router", j=True)
    listed = rc == 0 and any(row.get("address") == base.VM_IP or base.VM_IP in json.dumps(row) for row in rows or [])
    res.record("router", r.returncode == 0 and bool(installed) and (installed or {}).get("mac") == b_mac
               and listed,
               "B registered (%s); T's host route %s, %.0f ms after; show default-router lists it: %s" % (
                   r.stdout.strip(), installed, ms, listed))

    env.helper(fab, "udpsend", base.VM_IP, str(base.UDP_PORT), str(N_NATIVE), "N")
    wait_until(lambda: len(routed()) >= N_NATIVE, 5)
    native = routed()
    res.record("native", len(native) == N_NATIVE,
               "%d of %d datagrams to %s left T natively toward B (%s -> %s, TTL 63)" % (
                   len(native), N_NATIVE, base.VM_IP, t_mac, b_mac))
    base.Env.stop(cap, term_timeout=5)

    # A router notification nvad did not send: a key T does not have.
    forged_keys = os.path.join(tmp, "forged.keys")
    fd = os.open(forged_keys, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("%s 1 %s\n" % (AGENT_T, secrets.token_hex(32)))
    r = sh("ip", "netns", "exec", nve, args.register, "--nvad", AGENT_T, "--port", str(PORT), "--from", NVAD_IP,
           "--keys", forged_keys, "--vm", "forged", "--vn", "0", "--mac", "02:00:00:00:0f:0f", "--addr", "10.0.0.77",
           "--endpoint", NVE_B, "--flags", "NR", check=False, timeout=20)
    rc, forged_route = ctl("show", "routes", "10.0.0.77", j=True)
    res.record("forged", r.returncode == 3 and rc == 0 and not forged_route,
               "forged router notification: nve_register exit %d (3: unanswered); T's route for 10.0.0.77: %s" % (
                   r.returncode, forged_route))

    r = register(args, env, p, "B", env.vm_mac, NVE_B, lifetime=0)
    gone = wait_until(lambda: route() is None, 5, 0.01)
    res.record("withdrawn", r.returncode == 0 and bool(gone),
               "B de-registered the VM (%s); T's host route %s" % (r.stdout.strip(), "gone" if gone else route()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nvxdp", default=os.path.join(BUILD, "control", "nvxdp", "nvxdp"))
    ap.add_argument("--nvectl", default=os.path.join(BUILD, "control", "nvectl", "nvectl"))
    ap.add_argument("--nvad", default=os.path.join(BUILD, "control", "nvad", "nvad"))
    ap.add_argument("--register", default=os.path.join(BUILD, "tests", "nve_register"))
    ap.add_argument("--router", action="store_true", help="nvxdp in the default-router role (T)")
    ap.add_argument("--keep-logs", action="store_true")
    args = ap.parse_args()
    if not base.preflight([("nvxdp", args.nvxdp), ("nvectl", args.nvectl), ("nvad", args.nvad),
                           ("nve_register", args.register)]):
        return 1
    tmp = tempfile.mkdtemp(prefix="nvmove-xdp-move-")
    env = base.Env(args.nvxdp, tmp)
    res = base.Results(expected=6 if args.router else 4)
    p = {k: os.path.join(tmp, k) for k in ("nvad.yaml", "nvad.keys", "A.keys", "B.keys", "T.keys", "nvad.log", "nvxdp.log",
                                          "nvad.sock", "nvxdp.sock", "nvad.db", "counters.json")}
    procs = {}

    def body():
        env.setup()
        nve, fab = env.ns_nve, env.ns_fab
        prepare_xdp(env)
        for addr in (AGENT_A, AGENT_B, AGENT_T):
            sh("ip", "-n", nve, "addr", "add", addr + "/8", "dev", "lo")
        if args.router:  # B's underlay address: on the gateway's side, its kernel answers ARP
            sh("ip", "-n", fab, "addr", "add", NVE_B + "/24", "dev", env.if_fab_gw)
        key = {n: secrets.token_hex(32) for n in "ABT"}
        for path, text in ((p["nvad.keys"], "%s 1 %s\n%s 1 %s\n%s 1 %s\n" % (AGENT_A, key["A"], AGENT_B, key["B"],
                                                                             AGENT_T, key["T"])),
                           (p["A.keys"], "%s 1 %s\n" % (NVAD_IP, key["A"])),
                           (p["B.keys"], "%s 1 %s\n" % (NVAD_IP, key["B"])),
                           (p["T.keys"], "%s 1 %s\n" % (NVAD_IP, key["T"]))):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
        with open(p["nvad.yaml"], "w") as fh:
            fh.write("""listen: {addresses: [%s], port: %d}
key_file: %s
db_path: %s
notifications: {initial_timeout: 200ms}
peers:
  - {address: %s, endpoints: [%s, "%s"]}
  - {address: %s, endpoints: [%s]}
%s""" % (NVAD_IP, PORT, p["nvad.keys"], p["nvad.db"], AGENT_A, NVE_A_ROUTER if args.router else base.NVE_IP,
         NVE6, AGENT_B, NVE_B,
         "default_routers:\n  - {address: %s, serves: [%s], virtual_networks: [0]}\n" % (AGENT_T, AGENT_A)
         if args.router else ""))
        with open(env.config, "w") as fh:
            if args.router:
                fh.write(nvxdp_yaml(env, static_mac=False) + """\
agent:
  nvad: %s
  nvad_port: %d
  listen: %s
  listen_port: %d
  key_file: %s
  router: {on_link: [192.0.2.0/24], prefixes: [10.0.0.0/24]}
""" % (NVAD_IP, PORT, AGENT_T, PORT, p["T.keys"]))
            else:
                fh.write(nvxdp_yaml(env, static_mac=False) + """\
agent: {nvad: %s, nvad_port: %d, listen: %s, listen_port: %d, key_file: %s, retransmit_initial_ms: 200}
""" % (NVAD_IP, PORT, AGENT_A, PORT, p["A.keys"]))
        procs["nvad"] = env.spawn("nvad", nve, [args.nvad, "-c", p["nvad.yaml"], "--ctl-socket", p["nvad.sock"]],
                                  p["nvad.log"])
        if not wait_until(lambda: "listening on" in read(p["nvad.log"]) or procs["nvad"].poll() is not None, 10):
            raise RuntimeError("nvad not listening:\n%s" % read(p["nvad.log"]))
        procs["nvxdp"] = env.spawn("nvxdp", nve, [args.nvxdp, "-c", env.config, "--ctl-socket", p["nvxdp.sock"],
                                                  "--counters-json", p["counters.json"]], p["nvxdp.log"])
        if not wait_until(lambda: "nvxdp running" in read(p["nvxdp.log"]) or procs["nvxdp"].poll() is not None, 10):
            raise RuntimeError("nvxdp not running:\n%s" % read(p["nvxdp.log"]))

        def ctl(*words, j=False):
            r = sh("ip", "netns", "exec", nve, args.nvectl, "-s", p["nvxdp.sock"], "-t", "3000",
                   *(["-j"] if j else []), *words, check=False, timeout=15)
            return r.returncode, (json.loads(r.stdout) if j and r.returncode == 0 else (r.stdout + r.stderr).strip())

        def route():
            rc, rows = ctl("show", "routes", base.VM_IP, j=True)
            return rows[0] if rc == 0 and rows else None

        if args.router:
            router_scenario(args, env, p, res, ctl, route, tmp)
        else:
            move_scenario(args, env, p, res, ctl, route, tmp)

        # ---- stop ------------------------------------------------------------------------------
        rc_x = base.Env.stop(procs["nvxdp"], term_timeout=10)
        rc_n = base.Env.stop(procs["nvad"], term_timeout=10)
        still = [ifn for ifn in (env.if_fab_nve, env.if_vm_nve) if xdp_attached(nve, ifn)]
        res.record("stop", rc_x == 0 and rc_n == 0 and not still,
                   "nvxdp exit %s, nvad exit %s, XDP still on %s" % (rc_x, rc_n, still))

    return base.run_scenario(env, res, tmp, args.keep_logs, body, logs=[p["nvxdp.log"], p["nvad.log"]])


if __name__ == "__main__":
    sys.exit(main())
