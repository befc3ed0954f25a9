#!/usr/bin/python3
"""End-to-end test of route optimisation in BGP (seed 003 section 7.3).

nvad exports the host routes of moved VMs through a real BGP speaker
(ExaBGP, running nvmove-exabgp as its process) to a correspondent router
running a second real speaker (BIRD), which installs them in its kernel:

  ns nvbgp<pid>tor: nvad (127.0.0.1), ExaBGP (192.0.2.250, AS 65001) and the
      NVEs' registrations (nve_register from 127.0.0.11 = A, 127.0.0.12 = B);
  ns nvbgp<pid>cor: BIRD (192.0.2.251, AS 65002) with docs/operations.md's
      configuration (imports only routes with community (65001,100)), kernel
      protocol exporting what it learns. One veth between them; the NVE endpoints (A 192.0.2.1 /
      2001:db8::1, B 192.0.2.2 / 2001:db8::2) are on its subnets, so BIRD
      takes them as direct next hops.

nvad's export.home routes 10.0.0.0/24 and fd00::/64 to A (where the
correspondent routes the VM's subnet without host routes). Sub-tests, each
with its figures:

  at home        vm1 (10.0.0.5, fd00::5) registered at A: nothing announced
  moved          vm1 moves to B: the correspondent's kernel gets 10.0.0.5 via
                 192.0.2.2 and fd00::5 via 2001:db8::2 (proto bird), with
                 community (65001,100) and large community (65001,1,100),
                 ORIGIN IGP; nvectl -d nvad show exported lists both
  speaker restart ExaBGP stopped (BIRD withdraws with the session) and
                 started again: the new bridge resyncs, the routes come back
  nvad restart   nvad stopped and started: the routes stay announced while it
                 is down, and still after it is back (its store has the binding)
  back home      vm1 moves back to A: both routes withdrawn at the correspondent
  latency        10 moves A -> B -> A ...: time from the registration's reply to
                 the route in (or out of) the correspondent's kernel, p50/p99
  binding ends   vm1 at B de-registered: withdrawn
  prefix limit   export.max_routes 4: six more VMs moved to B (vm1 is gone by
                 then), four announced, two refused (over_limit in show exported)

Usage (root): /usr/bin/python3 tests/e2e/bgp_export_test.py --nvad P --nvectl P
    --bridge P --register P [--keep-logs]
Every process it starts is stopped by PID on every path; namespaces removed.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vm_namespace_test as base  # noqa: E402  (sh, wait_until, read, log, Results)

sh, wait_until, read, log = base.sh, base.wait_until, base.read, base.log

NVAD_IP, NVAD_PORT = "127.0.0.1", 61434
AGENT = {"A": "127.0.0.11", "B": "127.0.0.12"}
ENDPOINTS = {"A": "192.0.2.1,2001:db8::1", "B": "192.0.2.2,2001:db8::2"}
TOR_IP, COR_IP = "192.0.2.250", "192.0.2.251"
VM = ("vm1", "02:00:00:00:01:05", "10.0.0.5,fd00::5")
LIMIT = 4
MOVES = 10


def stop_proc(p, timeout=10.0):
    try:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                return p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                return p.wait(10)
        return p.returncode
    except Exception as e:  # noqa: cleanup goes on whatever happens
        return "error: %s" % e


def percentile(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))] if v else float("nan")


class Env:
    def __init__(self, args):
        self.args = args
        p = "nvbgp%d" % os.getpid()
        self.ns_tor, self.ns_cor = p + "tor", p + "cor"
        self.if_tor, self.if_cor = p + "t", p + "c"
        self.tmp = tempfile.mkdtemp(prefix="nvmove-bgp-e2e-")
        self.procs = {}
        self.path = lambda name: os.path.join(self.tmp, name)

    # --- processes -----------------------------------------------------------------
    def spawn(self, name, ns, argv, env=None):
        out = open(self.path(name + ".log"), "ab")
        full_env = dict(os.environ, **(env or {}))
        p = subprocess.Popen(["ip", "netns", "exec", ns] + argv, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=full_env)
        out.close()
        self.procs[name] = p
        return p

    def stop(self, name):
        p = self.procs.pop(name, None)
        return stop_proc(p) if p else None

    def cleanup(self):
        for name in list(self.procs):
            self.stop(name)
        for ns in (self.ns_tor, self.ns_cor):
            sh("ip", "netns", "del", ns, check=False)
        if self.args.keep_logs:
            log("logs kept in %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # --- topology and configuration ----------------------------------------------------
    def setup(self):
        for ns in (self.ns_tor, self.ns_cor):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "link", "add", self.if_tor, "type", "veth", "peer", "name", self.if_cor)
        sh("ip", "link", "set", self.if_tor, "netns", self.ns_tor)
        sh("ip", "link", "set", self.if_cor, "netns", self.ns_cor)
        for ns, ifn, v4, v6 in ((self.ns_tor, self.if_tor, TOR_IP, "2001:db8::250"),
                                (self.ns_cor, self.if_cor, COR_IP, "2001:db8::251")):
            sh("ip", "-n", ns, "addr", "add", v4 + "/24", "dev", ifn)
            sh("ip", "-n", ns, "addr", "add", v6 + "/64", "dev", ifn, "nodad")
            sh("ip", "-n", ns, "link", "set", ifn, "up")
        key = {n: secrets.token_hex(32) for n in AGENT}
        with open(self.path("nvad.keys"), "w") as f:
            f.write("".join("%s 1 %s\n" % (AGENT[n], key[n]) for n in AGENT))
        for n in AGENT:
            with open(self.path(n + ".keys"), "w") as f:
                f.write("%s 1 %s\n" % (NVAD_IP, key[n]))
        for name in ("nvad.keys", "A.keys", "B.keys"):
            os.chmod(self.path(name), 0o600)
        with open(self.path("nvad.yaml"), "w") as f:
            f.write("""\
listen: {addresses: [%(nvad)s], port: %(port)d}
key_file: %(keys)s
db_path: %(db)s
notifications: {initial_timeout: 200ms, max_timeout: 1s, retries: 1}
flap_detection: {enabled: false}   # the latency sub-test moves vm1 20 times in a second
peers:
  - {address: %(a)s, endpoints: [192.0.2.1, "2001:db8::1"]}
  - {address: %(b)s, endpoints: [192.0.2.2, "2001:db8::2"]}
export:
  socket: %(sock)s
  home:
    - {prefix: 10.0.0.0/24, nve: %(a)s}
    - {prefix: "fd00::/64", nve: %(a)s}
  community: ["65001:100"]
  large_community: ["65001:1:100"]
  max_routes: %(limit)d
log: {level: debug}
metrics: {address: 127.0.0.1, port: 9469}
""" % dict(nvad=NVAD_IP, port=NVAD_PORT, keys=self.path("nvad.keys"), db=self.path("nvad.db"), a=AGENT["A"],
           b=AGENT["B"], sock=self.path("export.sock"), limit=LIMIT))
        with open(self.path("exabgp.conf"), "w") as f:
            f.write("""\
process nvmove {
    run %(bridge)s --socket %(sock)s;
    encoder text;
}
neighbor %(cor)s {
    router-id %(tor)s;
    local-address %(tor)s;
    local-as 65001;
    peer-as 65002;
    family { ipv4 unicast; ipv6 unicast; }
    api { processes [ nvmove ]; }
}
""" % dict(bridge=os.path.abspath(self.args.bridge), sock=self.path("export.sock"), cor=COR_IP, tor=TOR_IP))
        with open(self.path("bird.conf"), "w") as f:
            f.write("""\
router id %(cor)s;
log stderr all;
protocol device {}
protocol kernel k4 { ipv4 { export all; }; }
protocol kernel k6 { ipv6 { export all; }; }
protocol bgp tor {
  local %(cor)s as 65002;
  neighbor %(tor)s as 65001;
  ipv4 { import where (65001, 100) ~ bgp_community; export none; };
  ipv6 { import where (65001, 100) ~ bgp_community; export none; };
}
""" % dict(cor=COR_IP, tor=TOR_IP))

    def start_nvad(self):
        self.spawn("nvad", self.ns_tor, [self.args.nvad, "-c", self.path("nvad.yaml"),
                                         "--ctl-socket", self.path("nvad.sock")])
        return wait_until(lambda: self.nvectl("show", "version")[0] == 0, 10)

    def start_exabgp(self):
        env = {"exabgp_daemon_user": "root", "exabgp_api_cli": "false", "exabgp_log_destination": "stdout",
               "exabgp_daemon_daemonize": "false"}
        self.spawn("exabgp", self.ns_tor, ["exabgp", self.path("exabgp.conf")], env)

    def start_bird(self):
        self.spawn("bird", self.ns_cor, ["bird", "-f", "-c", self.path("bird.conf"), "-s", self.path("bird.ctl"),
                                         "-P", self.path("bird.pid")])

    # --- observations -----------------------------------------------------------------
    def nvectl(self, *words, json_out=False):
        r = sh(self.args.nvectl, "-d", "nvad", "-s", self.path("nvad.sock"), *(["-j"] if json_out else []),
               *words, check=False)
        if json_out:
            try:
                return r.returncode, json.loads(r.stdout)
            except ValueError:
                return r.returncode, None
        return r.returncode, r.stdout + r.stderr

    def established(self):
        r = sh("birdc", "-s", self.path("bird.ctl"), "show", "protocols", "tor", check=False)
        return "Established" in r.stdout

    def kernel_route(self, prefix):
        fam = "-6" if ":" in prefix else "-4"
        r = sh("ip", "-n", self.ns_cor, fam, "route", "show", prefix, check=False)
        return r.stdout.strip()

    def bird_route(self, prefix):
        return sh("birdc", "-s", self.path("bird.ctl"), "show", "route", prefix, "all", check=False).stdout

    def register_in_ns(self, nve, vm=VM, lifetime=150):
        name, mac, addr = vm
        r = sh("ip", "netns", "exec", self.ns_tor, os.path.abspath(self.args.register), "--nvad", NVAD_IP,
               "--port", str(NVAD_PORT), "--from", AGENT[nve], "--keys", self.path(nve + ".keys"), "--vm", name,
               "--mac", mac, "--addr", addr, "--endpoint", ENDPOINTS[nve], "--lifetime", str(lifetime),
               "--seq-file", self.path(nve + ".seq"), check=False)
        return r.returncode, (r.stdout + r.stderr).strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nvad", required=True)
    ap.add_argument("--nvectl", required=True)
    ap.add_argument("--bridge", required=True, help="nvmove-exabgp")
    ap.add_argument("--register", required=True, help="tests/tools/nve_register")
    ap.add_argument("--keep-logs", action="store_true")
    args = ap.parse_args()
    for tool in ("exabgp", "bird", "birdc"):
        if not shutil.which(tool):
            print("%s is not installed (scripts/setup.sh installs exabgp and bird2)" % tool)
            return 1
    res = base.Results(8)
    env = Env(args)
    v4, v6 = "10.0.0.5/32", "fd00::5/128"
    at_b = lambda: ("via 192.0.2.2" in env.kernel_route("10.0.0.5") and
                    "via 2001:db8::2" in env.kernel_route("fd00::5"))
    gone = lambda: not env.kernel_route("10.0.0.5") and not env.kernel_route("fd00::5")
    try:
        env.setup()
        env.start_bird()
        if not env.start_nvad():
            raise RuntimeError("nvad did not start:\n%s" % read(env.path("nvad.log")))
        env.start_exabgp()
        if not wait_until(env.established, 20, 0.2):
            raise RuntimeError("BGP session never established:\n%s\n%s" % (
                read(env.path("exabgp.log"))[-2000:], read(env.path("bird.log"))[-2000:]))
        log("BGP session ExaBGP %s (AS 65001) - BIRD %s (AS 65002) established" % (TOR_IP, COR_IP))

        # ---- at home ------------------------------------------------------------------
        rc, out = env.register_in_ns("A")
        time.sleep(1.0)
        res.record("at home", rc == 0 and gone(),
                   "registered at A (%s): correspondent's kernel has %r / %r (expected nothing)" % (
                       out, env.kernel_route("10.0.0.5"), env.kernel_route("fd00::5")))

        # ---- moved ----------------------------------------------------------------------
        t0 = time.monotonic()
        rc, out = env.register_in_ns("B")
        ok_route = wait_until(at_b, 10, 0.01)
        took = time.monotonic() - t0
        bird4, bird6 = env.bird_route(v4), env.bird_route(v6)
        _, exported = env.nvectl("show", "exported", json_out=True)
        log("BIRD: %s\n%s" % (bird4, bird6))
        rows = (exported or {}).get("routes", []) if isinstance(exported, dict) else []
        checks = {
            "registration at B accepted": rc == 0,
            "kernel routes via B's endpoints": bool(ok_route),
            "community (65001,100) on both": "BGP.community: (65001,100)" in bird4 and "(65001,100)" in bird6,
            "large community (65001, 1, 100)": "BGP.large_community: (65001, 1, 100)" in bird4,
            "ORIGIN IGP": "BGP.origin: IGP" in bird4,
            "show exported lists both": sorted(r.get("prefix") for r in rows) == [v4, v6],
        }
        metrics = sh("ip", "netns", "exec", env.ns_tor, "/usr/bin/python3", "-c",
                     "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9469/metrics', "
                     "timeout=5).read().decode())", check=False).stdout
        promtool = subprocess.run(["promtool", "check", "metrics"], input=metrics, capture_output=True, text=True)
        checks["metrics: nvad_export_routes 2, 1 speaker, promtool clean"] = (
            "nvad_export_routes 2\n" in metrics and "nvad_export_speakers 1\n" in metrics
            and promtool.returncode == 0)
        if promtool.returncode != 0:
            log("promtool: %s%s" % (promtool.stdout, promtool.stderr))
        for k, v in checks.items():
            log("  moved: %-40s %s" % (k, "ok" if v else "NO"))
        res.record("moved", all(checks.values()), "%d/%d checks; route at the correspondent %.0f ms after the "
                   "move's registration was sent" % (sum(checks.values()), len(checks), took * 1000))

        # ---- speaker restart ------------------------------------------------------------
        rc_exa = env.stop("exabgp")
        withdrawn = wait_until(gone, 10, 0.05)
        t0 = time.monotonic()
        env.start_exabgp()
        back = wait_until(at_b, 30, 0.05)
        res.record("speaker restart", bool(withdrawn) and bool(back),
                   "ExaBGP stopped (exit %s): routes withdrawn with the session %s; started again: routes back "
                   "%s, %.1f s later" % (rc_exa, bool(withdrawn), bool(back), time.monotonic() - t0))

        # ---- nvad restart ---------------------------------------------------------------
        rc_nvad = env.stop("nvad")
        time.sleep(0.5)
        kept_while_down = at_b()
        up = env.start_nvad()
        # The bridge reconnects (its backoff is at most 2 s) and resyncs.
        def connected_speakers():
            _, exported = env.nvectl("show", "exported", json_out=True)
            return (exported or {}).get("speakers", 0) if isinstance(exported, dict) else 0
        wait_until(lambda: connected_speakers() == 1, 10, 0.1)
        speakers = connected_speakers()
        res.record("nvad restart", bool(up) and kept_while_down and at_b() and speakers == 1,
                   "nvad stopped (exit %s): routes kept while it was down %s; after its restart still there %s, "
                   "the bridge reconnected (%d speaker)" % (rc_nvad, kept_while_down, at_b(), speakers))

        # ---- back home --------------------------------------------------------------------
        t0 = time.monotonic()
        rc, out = env.register_in_ns("A")
        ok = wait_until(gone, 10, 0.01)
        res.record("back home", rc == 0 and bool(ok), "vm1 back at A (%s): withdrawn at the correspondent %s "
                   "in %.0f ms" % (out, bool(ok), (time.monotonic() - t0) * 1000))

        # ---- latency ------------------------------------------------------------------------
        to_b, to_a = [], []
        for i in range(MOVES):
            for nve, pred, bucket in (("B", at_b, to_b), ("A", gone, to_a)):
                t0 = time.monotonic()
                rc, _ = env.register_in_ns(nve)
                if rc == 0 and wait_until(pred, 10, 0.005):
                    bucket.append((time.monotonic() - t0) * 1000)
        res.record("latency", len(to_b) == MOVES and len(to_a) == MOVES,
                   "%d moves each way; registration sent -> route in the correspondent's kernel: p50 %.0f ms, "
                   "p99 %.0f ms; -> route gone: p50 %.0f ms, p99 %.0f ms (includes the registration tool's own "
                   "start, about 10 ms)" % (MOVES, percentile(to_b, 0.5), percentile(to_b, 0.99),
                                            percentile(to_a, 0.5), percentile(to_a, 0.99)))

        # ---- binding ends -------------------------------------------------------------------
        env.register_in_ns("B")
        wait_until(at_b, 10, 0.01)
        rc, out = env.register_in_ns("B", lifetime=0)
        ok = wait_until(gone, 10, 0.01)
        res.record("binding ends", rc == 0 and bool(ok), "de-registered at B (%s): withdrawn %s" % (out, bool(ok)))

        # ---- prefix limit ----------------------------------------------------------------------
        extra = [("vm%d" % i, "02:00:00:00:02:%02x" % i, "10.0.0.%d" % (10 + i)) for i in range(LIMIT + 2)]
        for vm in extra:
            env.register_in_ns("A", vm)
            env.register_in_ns("B", vm)
        time.sleep(1.0)
        announced = [vm for vm in extra if "via 192.0.2.2" in env.kernel_route(vm[2])]
        _, exported = env.nvectl("show", "exported", json_out=True)
        counters = (exported or {}).get("counters", {}) if isinstance(exported, dict) else {}
        res.record("prefix limit", len(announced) == LIMIT and counters.get("over_limit", 0) >= 2,
                   "export.max_routes %d: %d of %d moved VMs announced (expected %d), over_limit %s (expected >= 2)" % (
                       LIMIT, len(announced), len(extra), LIMIT, counters.get("over_limit")))
    except Exception as e:  # noqa: report, clean up, fail
        log("error: %s" % e)
        res.failed += 1
    finally:
        rcs = {name: env.stop(name) for name in ("exabgp", "nvad", "bird")}
        log("stopped: %s" % rcs)
        env.cleanup()
    print("%d passed, %d failed" % (res.passed, res.failed))
    return 0 if res.failed == 0 and res.passed == res.expected else 1


if __name__ == "__main__":
    sys.exit(main())
