#!/usr/bin/python3
"""nvxdp restarted under traffic (issue 16): pinned maps taken over, no gap.

    sudo /usr/bin/python3 tests/e2e/xdp_restart_test.py [--nvxdp P] [--keep-logs]

The topology of xdp_veth_test.py. A BPF filesystem is mounted for the test
under its scratch directory (as /sys/fs/bpf would be on a host; `ip netns
exec` remounts /sys, so the test keeps the pins outside it), and nvxdp runs
with --pin-dir there. Sub-tests:

  foreign    a port with another XDP program (a one-line program built here
             with clang): nvxdp refuses to attach (exit 1, names the program),
             which stays attached
  takeover   instance 1 (--keep-attached) has the VM local, 10.0.0.9 moved to
             198.51.100.2 and 10.0.0.10 moved to 198.51.100.3, and a third
             port (a spare veth) instance 2's configuration has not; a stream of
             datagrams to the VM runs while it gets SIGTERM (its program stays
             attached and forwards) and instance 2, whose configuration no
             longer has 10.0.0.10, starts: it says it took the maps over and
             replaced the program without a gap
  dropped    the spare port: instance 2 forgot it and took the earlier
             program off it (no XDP program left on the interface)
  no_loss    every datagram of the stream reached the VM, before, during and
             after the restart
  pruned     after the takeover 10.0.0.9 is still tunnelled to 198.51.100.2 and
             10.0.0.10 (named by nobody now) is not tunnelled at all (tshark);
             the gateway's MAC (no static one configured) came from the
             kernel's neighbour table
  counters   instance 2's counters at exit include instance 1's (the counter map
             was taken over too)
  stop       instance 2 stopped without --keep-attached: both ports detached,
             the pins removed
"""
import argparse
import json
import os
import subprocess  # noqa: F401 (TimeoutExpired)
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vm_namespace_test as base  # noqa: E402
from xdp_veth_test import capture_tunnels, nvxdp_yaml, prepare_xdp, xdp_attached  # noqa: E402

log, sh, wait_until, read = base.log, base.sh, base.wait_until, base.read
N_STREAM = 1500  # 2 ms apart: about 3 s, the restart in the middle
N_PROBE = 10
GONE_IP, GONE_NVE = "10.0.0.10", "198.51.100.3"

FOREIGN_XDP = "int foreign(void *ctx) __attribute__((section(\"xdp\"))); int foreign(void *ctx) { return 2; }\n" \
              "char LICENSE[] __attribute__((section(\"license\"))) = \"GPL\";\n"


def xdp_program_name(ns, ifn):
    j = json.loads(sh("ip", "-n", ns, "-j", "link", "show", "dev", ifn).stdout)
    return ((j[0].get("xdp") or {}).get("prog") or {}).get("name")


def config(env, with_gone, spare=None):
    routes = ["  - {vn: 0, addresses: [%s], nve: %s}" % (base.MOVED_IP, base.MOVED_NVE)]
    if with_gone:
        routes.append("  - {vn: 0, addresses: [%s], nve: %s}" % (GONE_IP, GONE_NVE))
    ports = nvxdp_yaml(env, static_mac=False)
    if spare:
        vms_line = next(l for l in ports.splitlines(True) if "name: vms" in l)
        ports = ports.replace(vms_line, vms_line + "  - {name: spare, role: access, port_id: 2, interface: %s}\n" % spare)
    return ports + """\
tunnel: {peers: [%s/32]}
local_vms:
  - {port: vms, mac: "%s", addresses: [%s]}
moved_vms:
%s
""" % (base.GW_IP, env.vm_mac, base.VM_IP, "\n".join(routes))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nvxdp", default=os.path.join(base.REPO, "build", "control", "nvxdp", "nvxdp"))
    ap.add_argument("--keep-logs", action="store_true")
    args = ap.parse_args()
    if not base.preflight([("nvxdp", args.nvxdp)]):
        return 1
    tmp = tempfile.mkdtemp(prefix="nvmove-xdp-restart-")
    env = base.Env(args.nvxdp, tmp)
    res = base.Results(expected=7)
    bpffs = os.path.join(tmp, "bpffs")
    pin_dir = os.path.join(bpffs, "nvxdp")
    p = {k: os.path.join(tmp, k) for k in ("one.yaml", "two.yaml", "one.log", "two.log", "foreign.log",
                                          "one.json", "two.json", "foreign.c", "foreign.o")}

    def unmount():
        if os.path.ismount(bpffs):
            sh("umount", "-l", bpffs, check=False)

    def body():
        env.setup()
        nve, fab, vm = env.ns_nve, env.ns_fab, env.ns_vm
        prepare_xdp(env)
        os.makedirs(bpffs)
        sh("mount", "-t", "bpf", "bpf", bpffs)
        # A spare port only instance 1 has: a veth pair inside the NVE's namespace.
        spare = env.if_vm_nve[:-2] + "sp"
        sh("ip", "-n", nve, "link", "add", spare, "type", "veth", "peer", "name", env.if_vm_nve[:-2] + "sq")
        for ifn in (spare, env.if_vm_nve[:-2] + "sq"):
            sh("ip", "-n", nve, "link", "set", ifn, "up")
        for name, with_gone in (("one.yaml", True), ("two.yaml", False)):
            with open(p[name], "w") as fh:
                fh.write(config(env, with_gone, spare if with_gone else None))

        # ---- a foreign XDP program is never replaced ---------------------------------------
        with open(p["foreign.c"], "w") as fh:
            fh.write(FOREIGN_XDP)
        sh("clang", "-O2", "-target", "bpf", "-c", p["foreign.c"], "-o", p["foreign.o"])
        sh("ip", "-n", nve, "link", "set", "dev", env.if_vm_nve, "xdpgeneric", "obj", p["foreign.o"], "sec", "xdp")
        r = sh("ip", "netns", "exec", nve, args.nvxdp, "-c", p["one.yaml"], "--mode", "generic", "--pin-dir", pin_dir,
               "--ctl-socket", os.path.join(tmp, "f.sock"), check=False, timeout=20)
        out = r.stdout + r.stderr
        kept = xdp_program_name(nve, env.if_vm_nve)
        others = [ifn for ifn in (env.if_fab_nve,) if xdp_attached(nve, ifn)]
        res.record("foreign", r.returncode == 1 and "not nvmove's" in out and "foreign" in out and kept == "foreign"
                   and not others and not os.path.exists(pin_dir),
                   "exit %d; %r; the port keeps program %s; nvxdp left on %s; pins %s" % (
                       r.returncode, [l.split("] ")[-1] for l in out.splitlines() if "not nvmove's" in l][:1], kept,
                       others, "left" if os.path.exists(pin_dir) else "none"))
        sh("ip", "-n", nve, "link", "set", "dev", env.if_vm_nve, "xdpgeneric", "off")

        # ---- restart under traffic -----------------------------------------------------------
        ready, listen_out = os.path.join(tmp, "vm.ready"), os.path.join(tmp, "vm.recv")
        env.spawn("listener", vm, [base.PYTHON, base.__file__, "--helper", "listen", str(base.UDP_PORT), ready, "60"],
                  listen_out, os.path.join(tmp, "vm.err"))
        if not wait_until(lambda: os.path.exists(ready), 10):
            raise RuntimeError("listener not ready:\n%s" % read(os.path.join(tmp, "vm.err")))
        one = env.spawn("nvxdp-1", nve, [args.nvxdp, "-c", p["one.yaml"], "--pin-dir", pin_dir, "--keep-attached",
                                         "--ctl-socket", os.path.join(tmp, "1.sock"), "--counters-json", p["one.json"]],
                        p["one.log"])
        if not wait_until(lambda: "nvxdp running" in read(p["one.log"]) or one.poll() is not None, 10):
            raise RuntimeError("instance 1 not running:\n%s" % read(p["one.log"]))
        stream = env.spawn("stream", fab, [base.PYTHON, base.__file__, "--helper", "udpsend", base.VM_IP,
                                           str(base.UDP_PORT), str(N_STREAM), "R"], os.path.join(tmp, "stream.out"))
        wait_until(lambda: len(base.count_tag(base.listener_lines(listen_out), "R")) >= N_STREAM // 4, 10)
        t_stop = time.monotonic()
        rc1 = base.Env.stop(one, term_timeout=10)
        still = [ifn for ifn in (env.if_fab_nve, env.if_vm_nve) if xdp_attached(nve, ifn)]
        spare_kept = xdp_attached(nve, spare)
        two = env.spawn("nvxdp-2", nve, [args.nvxdp, "-c", p["two.yaml"], "--pin-dir", pin_dir,
                                         "--ctl-socket", os.path.join(tmp, "2.sock"), "--counters-json", p["two.json"]],
                        p["two.log"])
        up = wait_until(lambda: "nvxdp running" in read(p["two.log"]) or two.poll() is not None, 10)
        t_up = time.monotonic()
        log2 = read(p["two.log"])
        received_at_restart = len(base.count_tag(base.listener_lines(listen_out), "R"))
        res.record("takeover", rc1 == 0 and len(still) == 2 and bool(up) and two.poll() is None
                   and "taken over" in log2 and log2.count("without a gap") == 2 and "takeover complete: 1 route" in log2,
                   "instance 1 exit %s, program still on %s; instance 2 running %.2f s after the SIGTERM, %d datagrams "
                   "in by then; %s" % (rc1, still, t_up - t_stop, received_at_restart,
                                       [l.split("] ")[-1] for l in log2.splitlines()
                                        if "taken over" in l or "without a gap" in l or "takeover" in l]))
        forgotten = [l.split("] ")[-1] for l in log2.splitlines() if "no longer a port" in l]
        res.record("dropped", not xdp_attached(nve, spare) and spare_kept and len(forgotten) == 1
                   and "detached from it" in forgotten[0],
                   "spare port %s: the earlier program on it at the restart %s, after the takeover %s; instance 2 "
                   "says %s" % (spare, spare_kept, xdp_attached(nve, spare), forgotten))
        try:
            stream.wait(30)
        except subprocess.TimeoutExpired:
            stream.kill()
        wait_until(lambda: len(base.count_tag(base.listener_lines(listen_out), "R")) >= N_STREAM, 5)
        got = base.count_tag(base.listener_lines(listen_out), "R")
        res.record("no_loss", len(got) == N_STREAM,
                   "%d of %d datagrams of the stream reached the VM across the restart (%d lost)" % (
                       len(got), N_STREAM, N_STREAM - len(got)))

        # ---- what instance 2 no longer names is gone ------------------------------------------
        cap, cap_out = capture_tunnels(env, tmp)
        env.helper(fab, "udpsend", base.MOVED_IP, str(base.MOVED_PORT), str(N_PROBE), "M")
        env.helper(fab, "udpsend", GONE_IP, str(base.MOVED_PORT), str(N_PROBE), "G")
        wait_until(lambda: sum(r["ip.dst"] == "%s,%s" % (base.MOVED_NVE, base.MOVED_IP)
                               for r in base.capture_rows(cap_out)) >= N_PROBE, 5)
        time.sleep(0.3)
        base.Env.stop(cap, term_timeout=5)
        rows = base.capture_rows(cap_out)
        to_moved = sum(r["ip.dst"] == "%s,%s" % (base.MOVED_NVE, base.MOVED_IP) for r in rows)
        to_gone = sum(r["ip.dst"].startswith(GONE_NVE) or r["ip.dst"].endswith(GONE_IP) for r in rows)
        resolved = "fabric gateway %s is at %s" % (base.GW_IP, env.gw_mac)
        res.record("pruned", to_moved == N_PROBE and to_gone == 0 and resolved in read(p["two.log"]),
                   "%d of %d to %s tunnelled to %s; %d of %d to %s tunnelled anywhere (its route is gone); "
                   "instance 2 says %r: %s" % (to_moved, N_PROBE, base.MOVED_IP, base.MOVED_NVE, to_gone, N_PROBE,
                                               GONE_IP, resolved, resolved in read(p["two.log"])))

        # ---- stop: detached, pins gone; the counters went on from instance 1's --------------------
        rc2 = base.Env.stop(two, term_timeout=10)
        still = [ifn for ifn in (env.if_fab_nve, env.if_vm_nve) if xdp_attached(nve, ifn)]

        def counters(path):
            try:
                with open(path) as fh:
                    return json.load(fh)["counters"]
            except (OSError, ValueError, KeyError):
                return {}
        c1, c2 = counters(p["one.json"]), counters(p["two.json"])
        res.record("counters", c1.get("delivered_local", 0) > 0
                   and c2.get("delivered_local", 0) >= N_STREAM and c2.get("delivered_local", 0) > c1["delivered_local"]
                   and c2.get("encap_ipv4_in_ipv4", 0) >= N_PROBE,
                   "delivered_local: instance 1 wrote %s at its exit, instance 2 %s at its own (the stream: %d); "
                   "encap_ipv4_in_ipv4 %s" % (c1.get("delivered_local"), c2.get("delivered_local"), N_STREAM,
                                              c2.get("encap_ipv4_in_ipv4")))
        res.record("stop", rc2 == 0 and not still and not os.path.exists(pin_dir),
                   "instance 2 exit %s, XDP still on %s, pin directory %s" % (
                       rc2, still, "left" if os.path.exists(pin_dir) else "removed"))

    return base.run_scenario(env, res, tmp, args.keep_logs, body, logs=[p["one.log"], p["two.log"]], cleanup=unmount)


if __name__ == "__main__":
    sys.exit(main())
