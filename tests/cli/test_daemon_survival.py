#!/usr/bin/python3
"""Neither daemon may die from its own operators: issue 13's crash defects.

For nved (two net_pcap ports, empty captures) and for nvad (loopback, a
kernel-chosen port), each with its control socket in a temporary folder:

  client_goes_away   50 clients send a request ("show metrics", "show
                     routes", "show bindings", ...) and close at once, before
                     the answer is written. Before the fix the daemon died of
                     SIGPIPE on the first one.
  slow_reader        a client asks, reads nothing for 1 s, then reads the
                     whole answer: the daemon keeps serving others meanwhile.
  second_instance    a second daemon pointed at the live control socket exits
                     non-zero saying the socket is in use, and leaves the
                     socket file alone (before the fix it unlinked it).
  sighup             SIGHUP is logged, nvad reloads its key file (a peer added
                     to it is known afterwards), nothing stops (before the
                     fix: exit 129).
  stops_on_sigterm   and after all that, SIGTERM still stops it with exit 0.
  route_pages        nved holds 25,000 routes from its route_file: nvectl's
                     show routes (text and JSON, all and vn 0) comes in pages
                     of 10,000 table entries and lists every route once, the
                     heading once (the control thread runs between pages).

Every check ends by asking the daemon `show version` through nvectl, so a
daemon that died or stopped answering fails the check that killed it.

Usage: /usr/bin/python3 tests/cli/test_daemon_survival.py --nved P --nvectl P --nvad P
Prints PASS/FAIL per check, ends with "N passed, M failed", exits 1 on any
failure. Every process it starts is stopped by PID on every path.
"""

import argparse
import json
import os
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

READY_TIMEOUT_S = 15
STOP_TIMEOUT_S = 10

NVED_CONFIG = """\
ports:
  - {name: fabric, role: fabric, port_id: 0}
  - {name: vms, role: access, port_id: 1}
nve: {ipv4: 192.0.2.1}
fabric_gateway: {mac: "02:00:00:00:00:fe"}
route_table: {capacity: 65536}
workers: {mbufs: 2047, idle_sleep_us: 100}
local_vms:
  - {port: vms, mac: "02:00:00:00:01:01", addresses: [10.0.0.5]}
metrics: {address: 127.0.0.1, port: %(metrics)d}
route_file: %(routes)s
"""
PAGED_ROUTES = 25000  # 2.5 pages of nvectl's 10,000

NVAD_CONFIG = """\
listen: {addresses: [127.0.0.1], port: 0}
key_file: %(keys)s
db_path: %(db)s
log: {level: info}
metrics: {address: 127.0.0.1, port: %(metrics)d}
"""


class Fail(Exception):
    pass


def free_tcp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def scrape(port, path="/metrics", method="GET"):
    """(status, content type, body) of one HTTP request to a daemon's metrics endpoint."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request(method, path)
        r = c.getresponse()
        return r.status, r.getheader("Content-Type"), r.read().decode(errors="replace")
    finally:
        c.close()


def check_metrics_endpoint(args, d, port, families):
    """Issue 13: a Prometheus scrape endpoint, checked by promtool, that a
    stalled scraper cannot block."""
    stalled = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(3)]
    stalled[0].sendall(b"GET /metr")  # half a request line, then nothing
    try:
        t0 = time.monotonic()
        rc, _, err = nvectl(args, d, "show", "version")
        if rc != 0 or time.monotonic() - t0 > 2:
            raise Fail("with 3 stalled scrapers, show version: exit %d in %.1f s: %r" % (rc, time.monotonic() - t0, err))
        status, ctype, body = scrape(port)
    finally:
        for s in stalled:
            s.close()
    if status != 200 or not (ctype or "").startswith("text/plain; version=0.0.4"):
        raise Fail("GET /metrics: %d %r" % (status, ctype))
    for f in families:
        if "\n# TYPE %s " % f not in "\n" + body:
            raise Fail("GET /metrics has no %s family" % f)
    promtool = shutil.which("promtool")
    if not promtool:
        raise Fail("promtool is not installed (scripts/setup.sh installs Debian's prometheus)")
    r = subprocess.run([promtool, "check", "metrics"], input=body.encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    if r.returncode != 0:
        raise Fail("promtool check metrics: exit %d: %s" % (r.returncode, r.stdout.decode(errors="replace")[-800:]))
    if scrape(port, "/other")[0] != 404 or scrape(port, method="POST")[0] != 405:
        raise Fail("GET /other must be 404 and POST /metrics 405")


class Daemon:
    """One daemon process, its control socket and its log."""

    def __init__(self, name, cmd, sock, log_path, ctl_opts):
        self.name, self.cmd, self.sock, self.log_path, self.ctl_opts = name, cmd, sock, log_path, ctl_opts
        self.proc = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

    def log_tail(self, n=8):
        try:
            with open(self.log_path, "rb") as f:
                return "\n".join(f.read().decode(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self):
        """SIGTERM, SIGKILL after STOP_TIMEOUT_S; (status, killed)."""
        if self.proc is None:
            return None, False
        if self.proc.poll() is not None:
            return self.proc.returncode, False
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_TIMEOUT_S)
            return self.proc.returncode, False
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return self.proc.returncode, True


def nvectl(args, d, *words):
    r = subprocess.run([args.nvectl] + d.ctl_opts + ["-t", "3000"] + list(words), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def expect_alive(args, d, after):
    if d.proc.poll() is not None:
        raise Fail("%s exited with status %d after %s; log:\n%s" % (d.name, d.proc.returncode, after, d.log_tail()))
    rc, _, err = nvectl(args, d, "show", "version")
    if rc != 0:
        raise Fail("%s stopped answering after %s (nvectl: exit %d, %s); log:\n%s"
                   % (d.name, after, rc, err.strip(), d.log_tail()))


def wait_ready(args, d):
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if d.proc.poll() is not None:
            raise Fail("%s exited with status %d at start; log:\n%s" % (d.name, d.proc.returncode, d.log_tail()))
        if os.path.exists(d.sock) and nvectl(args, d, "show", "version")[0] == 0:
            return
        time.sleep(0.1)
    raise Fail("%s did not answer within %d s; log:\n%s" % (d.name, READY_TIMEOUT_S, d.log_tail()))


def ask_and_vanish(path, command):
    """Sends one request and closes the connection before any answer."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        s.sendall((json.dumps({"command": command}) + "\n").encode())
        # SO_LINGER 0: close with a reset, the rudest way to go away.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        s.close()


def ask_slowly(path, command, pause_s):
    """Sends one request, reads nothing for pause_s, then the whole answer."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        s.connect(path)
        s.sendall((json.dumps({"command": command}) + "\n").encode())
        time.sleep(pause_s)
        data = ctl_client.read_answer(s)
        return data
    finally:
        s.close()


class Results:
    def __init__(self):
        self.passed = self.failed = 0

    def run(self, name, fn):
        try:
            fn()
        except Fail as e:
            self.failed += 1
            print("FAIL %s: %s" % (name, e), flush=True)
        except Exception as e:  # a bug in a check must not hide the others
            self.failed += 1
            print("FAIL %s: test error %s: %s" % (name, type(e).__name__, e), flush=True)
        else:
            self.passed += 1
            print("PASS %s" % name, flush=True)


def check_daemon(args, t, d, commands, second_cmd, big_command):
    def client_goes_away():
        for i in range(50):
            ask_and_vanish(d.sock, commands[i % len(commands)])
        time.sleep(0.3)  # the daemon answers on its next loop passes
        expect_alive(args, d, "50 clients that closed before their answer")

    def slow_reader():
        import threading
        got = {}
        th = threading.Thread(target=lambda: got.setdefault("data", ask_slowly(d.sock, big_command, 1.0)))
        th.start()
        try:
            t0 = time.monotonic()
            expect_alive(args, d, "a client that does not read its answer")
            waited = time.monotonic() - t0
        finally:
            th.join(15)
        if waited > 0.9:
            raise Fail("show version took %.2f s while another client was not reading" % waited)
        reply = json.loads(got.get("data", b"{}") or b"{}")
        if reply.get("ok") is not True:
            raise Fail("the slow reader got %r" % (got.get("data", b"")[:200],))

    def second_instance():
        ino = os.stat(d.sock).st_ino
        r = subprocess.run(second_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=30)
        out = r.stdout.decode(errors="replace")
        if r.returncode == 0:
            raise Fail("the second %s exited 0; output:\n%s" % (d.name, out[-1500:]))
        if "in use" not in out:
            raise Fail("the second %s did not say the socket is in use; output:\n%s" % (d.name, out[-1500:]))
        if not os.path.exists(d.sock) or os.stat(d.sock).st_ino != ino:
            raise Fail("the second %s removed or replaced the live control socket %s" % (d.name, d.sock))
        time.sleep(0.3)
        expect_alive(args, d, "a second instance on its control socket")

    def sighup():
        if d.name == "nvad":
            # A key rollover without a restart: the key file gains a peer.
            with open(d.key_file, "a") as f:
                f.write("127.0.0.12 1 %s\n" % ("cd" * 32))
        d.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        expect_alive(args, d, "SIGHUP")
        log = d.log_tail(50)
        if "SIGHUP received" not in log:
            raise Fail("SIGHUP was not logged; log:\n%s" % d.log_tail())
        if d.name == "nvad" and "reloaded (2 keys)" not in log:
            raise Fail("nvad did not reload its key file on SIGHUP; log:\n%s" % d.log_tail())

    for name, fn in (("client_goes_away", client_goes_away), ("slow_reader", slow_reader),
                     ("second_instance", second_instance), ("sighup", sighup)):
        t.run("%s_%s" % (d.name, name), fn)

    def stops_on_sigterm():
        was_running = d.proc.poll() is None
        rc, killed = d.stop()
        if not was_running:
            raise Fail("%s had already exited with status %s" % (d.name, rc))
        if killed:
            raise Fail("%s ignored SIGTERM for %d s" % (d.name, STOP_TIMEOUT_S))
        if rc != 0:
            raise Fail("%s exited with status %d on SIGTERM; log:\n%s" % (d.name, rc, d.log_tail()))
        if os.path.exists(d.sock):
            raise Fail("%s left its control socket %s behind" % (d.name, d.sock))

    t.run("%s_stops_on_sigterm" % d.name, stops_on_sigterm)


def write_pcap(path):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))


def nved_cmd(args, tmp, prefix, sock):
    return [args.nved, "-l", "0,1", "--no-huge", "-m", "256", "--no-pci", "--file-prefix", prefix,
            "--vdev", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (os.path.join(tmp, "empty.pcap"),
                                                        os.path.join(tmp, prefix + "-out0.pcap")),
            "--vdev", "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (os.path.join(tmp, "empty.pcap"),
                                                        os.path.join(tmp, prefix + "-out1.pcap")),
            "--", "-c", os.path.join(tmp, "nved.yaml"), "--ctl-socket", sock]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nved", required=True)
    ap.add_argument("--nvectl", required=True)
    ap.add_argument("--nvad", required=True)
    args = ap.parse_args()
    t0 = time.monotonic()
    t = Results()
    tmp = tempfile.mkdtemp(prefix="nvsurvive_", dir="/tmp")
    prefixes = ["nvsurv%d" % os.getpid(), "nvsurv%db" % os.getpid()]
    daemons = []
    try:
        write_pcap(os.path.join(tmp, "empty.pcap"))
        metrics_port = {"nved": free_tcp_port(), "nvad": free_tcp_port()}
        with open(os.path.join(tmp, "nved.yaml"), "w") as f:
            f.write(NVED_CONFIG % {"metrics": metrics_port["nved"], "routes": os.path.join(tmp, "routes.txt")})
        with open(os.path.join(tmp, "routes.txt"), "w") as f:
            for i in range(PAGED_ROUTES):
                f.write("0 10.%d.%d.%d tunnel 198.51.100.2\n" % (1 + i // 65536, (i // 256) % 256, i % 256))
        keys = os.path.join(tmp, "nvad.keys")
        fd = os.open(keys, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("127.0.0.11 1 %s\n" % ("ab" * 32))
        with open(os.path.join(tmp, "nvad.yaml"), "w") as f:
            f.write(NVAD_CONFIG % {"keys": keys, "db": os.path.join(tmp, "nvad.db"), "metrics": metrics_port["nvad"]})

        nved_sock = os.path.join(tmp, "nved.sock")
        nved = Daemon("nved", nved_cmd(args, tmp, prefixes[0], nved_sock), nved_sock, os.path.join(tmp, "nved.log"),
                      ["-s", nved_sock])
        nvad_sock = os.path.join(tmp, "nvad.sock")
        nvad_cmd = [args.nvad, "-c", os.path.join(tmp, "nvad.yaml"), "--ctl-socket", nvad_sock]
        nvad = Daemon("nvad", nvad_cmd, nvad_sock, os.path.join(tmp, "nvad.log"), ["-d", "nvad", "-s", nvad_sock])
        nvad.key_file = keys
        daemons = [nved, nvad]
        for d in daemons:
            d.start()
        for d in daemons:
            t.run("%s_ready" % d.name, lambda d=d: wait_ready(args, d))
        if t.failed == 0:
            t.run("nved_metrics_endpoint", lambda: check_metrics_endpoint(
                args, nved, metrics_port["nved"], ["nve_packets_total", "nve_port_rx_packets_total", "nve_routes",
                                                   "nve_build_info", "nve_start_time_seconds"]))
            t.run("nvad_metrics_endpoint", lambda: check_metrics_endpoint(
                args, nvad, metrics_port["nvad"], ["nvad_requests_received_total", "nvad_rejected_total",
                                                   "nvad_dropped_total", "nvad_bindings", "nvad_build_info",
                                                   "nvad_start_time_seconds"]))
            def route_pages():
                rc, out, err = nvectl(args, nved, "-j", "show", "route-table")
                total = json.loads(out)["routes"] if rc == 0 else -1
                if total != PAGED_ROUTES + 1:  # and the local VM
                    raise Fail("show route-table: %d routes, expected %d (%s)" % (total, PAGED_ROUTES + 1, err))
                for words in (["show", "routes"], ["show", "routes", "vn", "0"]):
                    rc, out, err = nvectl(args, nved, "-j", *words)
                    rows = json.loads(out) if rc == 0 else []
                    keys = {(r["vn"], r["address"]) for r in rows}
                    if len(rows) != total or len(keys) != total:
                        raise Fail("%s --json: %d rows, %d distinct, expected %d (%s)" % (
                            " ".join(words), len(rows), len(keys), total, err.strip()))
                    rc, out, err = nvectl(args, nved, *words)
                    lines = out.splitlines()
                    if rc != 0 or len(lines) != total + 1 or not lines[0].startswith("VN") or \
                            sum(1 for line in lines if line.startswith("VN ")) != 1:
                        raise Fail("%s: %d lines (expected %d and one heading), rc %d %s" % (
                            " ".join(words), len(lines), total + 1, rc, err.strip()))
                rc, out, _ = nvectl(args, nved, "-j", "show", "routes", "page", "0", "10000")
                page = json.loads(out) if rc == 0 else {}
                if not (10000 <= len(page.get("rows", [])) < total and isinstance(page.get("next"), int)):
                    raise Fail("one page of 10,000: %d rows, next %r" % (len(page.get("rows", [])), page.get("next")))

            t.run("nved_route_pages", route_pages)
            check_daemon(args, t, nved, ["show metrics", "show routes", "show counters", "show ports", "help"],
                         nved_cmd(args, tmp, prefixes[1], nved_sock), "show metrics")
            def clear_flap_answers():
                rc, out, err = nvectl(args, nvad, "clear", "flap", "web-1")
                if rc != 1 or "is not frozen by flap detection" not in err:
                    raise Fail("clear flap of an unknown VM: exit %d, %r %r" % (rc, out, err))
                rc, _, err = nvectl(args, nvad, "clear", "flap", "has space")
                if rc != 2:
                    raise Fail("clear flap with a bad VM-ID: exit %d (expected 2, usage), %r" % (rc, err))
                r = subprocess.run([args.nvectl, "-r"] + nvad.ctl_opts + ["clear", "flap", "web-1"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
                if r.returncode == 0 or b"read-only" not in r.stderr:
                    raise Fail("clear flap was not refused in read-only mode: %r" % r.stderr)

            t.run("nvad_clear_flap_command", clear_flap_answers)

            def unwritable_counters_file():
                r = subprocess.run([args.nved, "--", "-c", os.path.join(tmp, "nved.yaml"), "--counters-json",
                                    "/nonexistent-dir/counters.json"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=20)
                err = r.stderr.decode(errors="replace")
                if r.returncode != 2 or "cannot write" not in err:
                    raise Fail("an unwritable --counters-json: exit %d, %r (it used to run and exit 0)"
                               % (r.returncode, err))

            t.run("nved_unwritable_counters_json", unwritable_counters_file)


            # Issue 13, messages that say what to fix (each used to say
            # something else: in parentheses).
            def start_messages():
                yaml = os.path.join(tmp, "nved.yaml")
                cases = [
                    ([args.nved, "-c", yaml], 2, "put nved's options after '--'"),    # "missing -c/--config"
                    ([args.nved, "--", "-c", tmp], 2, "is a directory"),              # "empty configuration"
                    ([args.nved, "--", "-c", "/nonexistent.yaml"], 2, "No such file or directory"),
                    ([args.nved, "-l", "0,%d" % (os.cpu_count() + 7), "--no-huge", "--", "-c", yaml], 2,
                     "is not available to this process"),                             # 100 lines of EAL usage
                    ([args.nvad, "-c"], 2, "-c needs a value"),                       # "unexpected argument '-c'"
                    ([args.nvad], 2, "give -c <config.yaml>"),
                ]
                for cmd, rc_want, text in cases:
                    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
                    err = r.stderr.decode(errors="replace")
                    if r.returncode != rc_want or text not in err or len(err.splitlines()) > 12:
                        raise Fail("%s: exit %d, stderr %r (expected exit %d and %r, in a few lines)"
                                   % (" ".join(cmd), r.returncode, err[-600:], rc_want, text))

            t.run("start_messages_say_what_to_fix", start_messages)
            check_daemon(args, t, nvad, ["show bindings", "show protocol stats", "show peers", "show version"],
                         nvad_cmd, "show protocol stats")
    finally:
        for d in daemons:
            d.stop()
        for p in prefixes:
            shutil.rmtree("/var/run/dpdk/%s" % p, ignore_errors=True)
        if t.failed:
            print("(files kept in %s)" % tmp, flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("(%.1f s)" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (t.passed, t.failed), flush=True)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
