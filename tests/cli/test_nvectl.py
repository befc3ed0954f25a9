#!/usr/bin/python3
"""nvectl and nved's control plane, tested against one real nved.

One nved runs on two net_pcap ports (fabric port 0, access port 1) with a
small configuration written to a temporary folder. Port 0 receives 5 packets
from the fabric gateway: 3 for a moved VM (10.0.0.9, tunnelled to
198.51.100.2) and 2 for a local VM (10.0.0.5), so counters, port statistics
and route hits have known values. Then every command of nvectl is run and its
text (exact, volatile fields by regex) and its --json output (exact values)
checked; then the error paths and exit codes, the control socket's protocol
spoken directly, DPDK telemetry's /nve/* commands, the Prometheus text, and
interactive mode (completion, history, read-only prompt) through a
pseudo-terminal.

Usage: /usr/bin/python3 tests/cli/test_nvectl.py --nved build/control/nved/nved
           --nvectl build/control/nvectl/nvectl

Prints PASS name / FAIL name: reason per check and ends with the line
"N passed, M failed"; exits 1 if any check failed. nved is stopped by PID
(SIGTERM, then SIGKILL after 10 s) whatever happens.
"""

import argparse
import difflib
import errno
import fcntl
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ctl_client  # noqa: E402  (tests/support/ctl_client.py)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))

TELEMETRY_SCRIPT = "/usr/bin/dpdk-telemetry.py"
SYS_PYTHON = "/usr/bin/python3"
READY_TIMEOUT_S = 15
TRAFFIC_TIMEOUT_S = 10
STOP_TIMEOUT_S = 10
CMD_TIMEOUT_S = 10
PTY_TIMEOUT_S = 5

PORT0_MAC = "02:70:63:61:70:00"  # DPDK's pcap PMD: 02:70:63:61:70:0<port>
PORT1_MAC = "02:70:63:61:70:01"
GW_MAC = "02:00:00:00:00:fe"
VM_MAC = "02:00:00:00:01:01"
REMOTE = "10.1.0.7"              # a host behind the fabric gateway
MOVED_VM, PEER_NVE = "10.0.0.9", "198.51.100.2"
LOCAL_VM4, LOCAL_VM6 = "10.0.0.5", "fd00::5"
N_MOVED, N_LOCAL = 3, 2

CONFIG_TEXT = """\
# tests/cli: fabric port 0, access port 1, one local VM, one moved VM
ports:
  - {name: fabric, role: fabric, port_id: 0}
  - {name: vms, role: access, port_id: 1}
nve: {ipv4: 192.0.2.1, ipv6: "2001:db8::1"}
fabric_gateway: {mac: "02:00:00:00:00:fe"}
route_table: {capacity: 4096}
workers: {mbufs: 4095, idle_sleep_us: 100}
local_vms:
  - {port: vms, mac: "02:00:00:00:01:01", addresses: [10.0.0.5, "fd00::5"]}
moved_vms:
  - {addresses: [10.0.0.9], nve: 198.51.100.2}
"""

# help's lines for the commands this test knows; the full list comes from
# control/ctl/command_table.cc (other commands are added over time).
HELP_KNOWN = """\
  show version                                              nved's version and DPDK's
  show config                                               the configuration file as it was read at start-up
  show running-config                                       the configuration in effect, defaults written out, and route changes since start
  show counters [worker N]                                  every outcome and drop counter (totals, or one worker)
  clear counters                                            start counters (and port statistics) from zero
  show ports                                                ports, roles, MACs, link state, queues
  show port stats [PORT|all]                                testpmd-style port statistics with throughput since last show (PORT: id or name)
  show port xstats PORT                                     the driver's extended statistics of a port (id or name)
  show workers                                              worker lcores, their queues, packets and idle ratio
  show routes [vn N] [ADDRESS] [page CURSOR N] | summary    host routes: kind, destination, hits, last hit; or counts per VN
  show route-table                                          capacity, routes, memory, table version, last update
  show tunnel-peers                                         NVEs whose tunnels are decapsulated: tunnel.peers and those learnt from nvad
  route add vn N ADDRESS (local PORT MAC [vlan V] | tunnel NVE) add or change a host route
  route del vn N ADDRESS                                    delete a host route
  show neighbours                                           fabric gateways and next hops: addresses and MACs
  show metrics                                              every counter in Prometheus text format
  set log level trace|debug|info|warn|error                 change the log level
  help                                                      this list
"""

PORTS_HEADER = "PORT  NAME          ROLE    DRIVER          MAC                LINK  RXQ  TXQ  VN        VLAN"
WORKERS_HEADER = ("WORKER  LCORE  QUEUES (port:queue)          RX-PACKETS            TX-PACKETS"
                  "            IDLE")
ROUTES_HEADER = ("VN        ADDRESS                                  KIND    DESTINATION"
                 "                              HITS          LAST-HIT")
NEIGH_HEADER = "ADDRESS                                  ROLE      MAC                SOURCE"
STATS_BORDER = "  " + "#" * 76

TELEMETRY_NVE_COMMANDS = {"/nve/counters", "/nve/workers", "/nve/route_table", "/nve/routes", "/nve/ports",
                          "/nve/neighbours", "/nve/agent"}


class Fail(Exception):
    """A check failed; the message says why."""


class Terminated(BaseException):
    """SIGTERM: stop like Ctrl-C (nved is stopped in the finally)."""


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------

class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def check(self, name):
        """Decorator: runs the function at once as the check `name`."""
        def run(fn):
            try:
                fn()
            except Fail as e:
                self.fail(name, str(e))
            except Exception as e:  # a bug in a check must not hide the others
                self.fail(name, "test error %s: %s" % (type(e).__name__, e))
            else:
                self.ok(name)
            return fn
        return run

    def ok(self, name):
        self.passed += 1
        print("PASS %s" % name, flush=True)

    def skip(self, name, why):
        self.skipped += 1
        print("SKIP %s: %s" % (name, why), flush=True)

    def fail(self, name, why):
        self.failed += 1
        print("FAIL %s: %s" % (name, why.replace("\n", "\n    ")), flush=True)


def short(s, n=600):
    s = s if isinstance(s, str) else repr(s)
    return s if len(s) <= n else s[:n] + "...(%d more chars)" % (len(s) - n)


def eq(got, want, what):
    if got != want:
        if isinstance(got, str) and isinstance(want, str) and ("\n" in got or "\n" in want):
            diff = difflib.unified_diff(want.splitlines(), got.splitlines(), "expected", "got", lineterm="", n=1)
            raise Fail("%s differs:\n%s" % (what, "\n".join(list(diff)[:40])))
        raise Fail("%s: expected %s, got %s" % (what, short(repr(want)), short(repr(got))))


def expect(cond, why):
    if not cond:
        raise Fail(why)


def lines_match(got, specs, what):
    """got: text ending in a newline; specs: one per line, a str (exact) or a
    compiled regex (must match the whole line)."""
    expect(got.endswith("\n"), "%s: does not end with a newline: %s" % (what, short(repr(got))))
    lines = got[:-1].split("\n")
    for i, (ln, sp) in enumerate(zip(lines, specs)):
        ok = ln == sp if isinstance(sp, str) else sp.fullmatch(ln) is not None
        if not ok:
            raise Fail("%s line %d: expected %s, got %r\nwhole text:\n%s"
                       % (what, i + 1, repr(sp) if isinstance(sp, str) else "/%s/" % sp.pattern, ln, got))
    if len(lines) != len(specs):
        raise Fail("%s: expected %d lines, got %d:\n%s" % (what, len(specs), len(lines), got))


# --------------------------------------------------------------------------
# Input capture
# --------------------------------------------------------------------------

def write_pcap(path, frames):
    """Classic pcap, Ethernet, every timestamp 0."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for fr in frames:
            f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)))
            f.write(fr)


def make_frames():
    import logging
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw
    frames = []
    for i in range(N_MOVED):
        frames.append(bytes(Ether(src=GW_MAC, dst=PORT0_MAC) / IP(src=REMOTE, dst=MOVED_VM, ttl=60)
                            / UDP(sport=41000 + i, dport=41100) / Raw(b"m" * 32)))
    for i in range(N_LOCAL):
        frames.append(bytes(Ether(src=GW_MAC, dst=PORT0_MAC) / IP(src=REMOTE, dst=LOCAL_VM4, ttl=60)
                            / UDP(sport=42000 + i, dport=42100) / Raw(b"l" * 32)))
    return frames


def nved_command_table():
    """[(words, usage, help, mutating)] of nved's table in
    control/ctl/command_table.cc (None if not found)."""
    path = os.path.join(REPO, "control", "ctl", "command_table.cc")
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    m = re.search(r"kNved\[\] = \{(.*?)\n\};", text, re.S)
    if not m:
        return None
    return [(a, b, c, d == "true") for a, b, c, d in
            re.findall(r'\{\s*"([^"]*)",\s*"([^"]*)",\s*"([^"]*)",\s*(true|false)\s*\}', m.group(1))]


def help_text(table):
    """nved's help for a command table, as the command table's help_text()
    lays it out: usage padded to 58 columns (one space if longer)."""
    out = ""
    for words, usage, hlp, _ in table:
        left = words + (" " + usage if usage else "")
        out += "  " + left + " " * (58 - len(left) if len(left) < 58 else 1) + hlp + "\n"
    return out


def counter_names():
    """Every counter nved has, in order, from dataplane/counter_list.h (None if
    the source is not beside this test)."""
    path = os.path.join(REPO, "dataplane", "counter_list.h")
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    return [(m.group(1), m.group(2) == "true")
            for m in re.finditer(r"^\s*X\((\w+), (true|false),", text, re.M)]


# --------------------------------------------------------------------------
# Running nvectl, the socket, telemetry
# --------------------------------------------------------------------------

class Env:
    def __init__(self, args, prefix, tmp):
        self.nved = args.nved
        self.nvectl = args.nvectl
        self.prefix = prefix
        self.tmp = tmp
        self.sock = "/var/run/dpdk/%s/nved.sock" % prefix

    def ctl(self, *words, prefix=None, opts=(), env=None):
        """(exit code, stdout, stderr) of `nvectl -p PREFIX OPTS WORDS`."""
        cmd = [self.nvectl, "-p", prefix or self.prefix] + list(opts) + list(words)
        try:
            r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=CMD_TIMEOUT_S, env=env)
        except subprocess.TimeoutExpired:
            raise Fail("%s did not finish within %d s" % (" ".join(cmd), CMD_TIMEOUT_S))
        return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")

    def text(self, *words, opts=()):
        """stdout of a command that must succeed silently on stderr."""
        rc, out, err = self.ctl(*words, opts=opts)
        if rc != 0 or err:
            raise Fail("nvectl %s: exit %d, stderr %r" % (" ".join(words), rc, err))
        return out

    def json(self, *words, opts=()):
        out = self.text(*words, opts=("--json",) + tuple(opts))
        try:
            return json.loads(out)
        except ValueError as e:
            raise Fail("nvectl --json %s: not JSON (%s): %s" % (" ".join(words), e, short(out)))

    def raw(self, payload, shut_write=False, timeout=5.0):
        """Sends bytes on the control socket, returns everything read until
        the server closes."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        data = b""
        try:
            s.connect(self.sock)
            if payload:
                try:
                    s.sendall(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the server answered and closed early (a too large request): read its answer
            if shut_write:
                s.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                data += chunk
            return data
        except socket.timeout:
            raise Fail("control socket: no answer (or no close) within %.1f s; got %r" % (timeout, short(data)))
        finally:
            s.close()

    def request(self, payload, **kw):
        data = self.raw(payload, **kw)
        expect(data.endswith(b"\n") and data.count(b"\n") == 1,
               "answer is not one JSON line: %r" % short(data))
        try:
            return json.loads(data)
        except ValueError:
            raise Fail("answer is not JSON: %r" % short(data))

    def telemetry(self, commands):
        """Answers of dpdk-telemetry.py to the commands, one dict each."""
        try:
            r = subprocess.run([SYS_PYTHON, TELEMETRY_SCRIPT, "-f", self.prefix],
                               input=("\n".join(commands) + "\n").encode(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=20)
        except subprocess.TimeoutExpired:
            raise Fail("dpdk-telemetry.py did not finish within 20 s")
        out = r.stdout.decode(errors="replace")
        lines = [ln for ln in out.splitlines() if ln.strip()]
        if r.returncode != 0 or len(lines) != len(commands):
            raise Fail("dpdk-telemetry.py: exit %d, %d answers for %d commands; stdout %s stderr %s"
                       % (r.returncode, len(lines), len(commands), short(out), short(r.stderr.decode())))
        answers = []
        for c, ln in zip(commands, lines):
            try:
                answers.append(json.loads(ln))
            except ValueError:
                raise Fail("telemetry %s: answer is not JSON: %s" % (c, short(ln)))
        return answers


# --------------------------------------------------------------------------
# Interactive mode through a pseudo-terminal
# --------------------------------------------------------------------------

ANSI_RE = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x07")


class PtySession:
    """nvectl on a pseudo-terminal (TERM=dumb, 40x200): type, expect."""

    def __init__(self, argv, env):
        self.raw = b""
        self.mark = 0
        self.eof = False
        self.status = None
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child: the terminal's size before readline asks for it
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)

    def clean(self):
        return ANSI_RE.sub(b"", self.raw).decode(errors="replace")

    def _read(self, wait):
        if self.eof:
            return
        r, _, _ = select.select([self.fd], [], [], wait)
        if not r:
            return
        try:
            d = os.read(self.fd, 65536)
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            d = b""
        if not d:
            self.eof = True
        self.raw += d

    def send(self, data):
        os.write(self.fd, data)

    def expect(self, pattern, what, timeout=PTY_TIMEOUT_S):
        """Waits for `pattern` (str or regex) in the cleaned output after the
        last mark; returns that output up to the end of the match and moves
        the mark past it."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.clean()
            seg = text[self.mark:]
            if isinstance(pattern, str):
                i = seg.find(pattern)
                end = i + len(pattern) if i >= 0 else -1
            else:
                m = pattern.search(seg)
                end = m.end() if m else -1
            if end >= 0:
                self.mark += end
                return seg[:end]
            left = deadline - time.monotonic()
            if left <= 0 or self.eof:
                raise Fail("%s: %r not seen within %.0f s%s; terminal output since last step: %r"
                           % (what, pattern if isinstance(pattern, str) else pattern.pattern, timeout,
                              " (nvectl closed the terminal)" if self.eof else "", short(seg, 800)))
            self._read(min(left, 0.2))

    def wait_exit(self, timeout=PTY_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        while self.status is None:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
                break
            if time.monotonic() >= deadline:
                return None
            self._read(0.05)
        return self.status

    def close(self):
        if self.status is None:
            if self.wait_exit(0.5) is None:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                os.waitpid(self.pid, 0)
                self.status = -9
        try:
            os.close(self.fd)
        except OSError:
            pass


# --------------------------------------------------------------------------
# nved
# --------------------------------------------------------------------------

def start_nved(e, in0, in1):
    cmd = [e.nved, "-l", "0,1", "--no-huge", "-m", "256", "--no-pci", "--file-prefix", e.prefix,
           "--vdev", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (in0, os.path.join(e.tmp, "out0.pcap")),
           "--vdev", "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (in1, os.path.join(e.tmp, "out1.pcap")),
           "--", "-c", os.path.join(e.tmp, "nved.yaml"), "--log-level", "warn"]
    with open(os.path.join(e.tmp, "command"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    log = open(os.path.join(e.tmp, "nved.log"), "wb")
    try:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()


def stop_nved(proc):
    """SIGTERM, SIGKILL after STOP_TIMEOUT_S; returns (exit status, seconds,
    killed)."""
    t0 = time.monotonic()
    if proc.poll() is not None:
        return proc.returncode, 0.0, False
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=STOP_TIMEOUT_S)
        return proc.returncode, time.monotonic() - t0, False
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return proc.returncode, time.monotonic() - t0, True


def nved_log_tail(e, n=10):
    try:
        with open(os.path.join(e.tmp, "nved.log"), "rb") as f:
            return "\n".join(f.read().decode(errors="replace").strip().splitlines()[-n:])
    except OSError:
        return "(no log)"


def wait_ready(e, proc):
    deadline = time.monotonic() + READY_TIMEOUT_S
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Fail("nved exited with status %d before answering; log:\n%s" % (proc.returncode, nved_log_tail(e)))
        last = e.ctl("show", "version")
        if last[0] == 0:
            break
        time.sleep(0.1)
    else:
        raise Fail("nvectl show version did not succeed within %d s (last: exit %s, stderr %r); log:\n%s"
                   % (READY_TIMEOUT_S, last and last[0], last and last[2], nved_log_tail(e)))
    deadline = time.monotonic() + TRAFFIC_TIMEOUT_S
    c = {}
    while time.monotonic() < deadline:
        c = e.json("show", "counters")["counters"]
        if c.get("rx_packets") == N_MOVED + N_LOCAL and c.get("tx_packets") == N_MOVED + N_LOCAL:
            return
        time.sleep(0.05)
    raise Fail("counters did not reach rx_packets = tx_packets = %d within %d s: %s"
               % (N_MOVED + N_LOCAL, TRAFFIC_TIMEOUT_S, {k: v for k, v in c.items() if v}))


# --------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------

def counters_text(values):
    """nved's counters text for {name: value} (non-zero only, plus drops)."""
    out = ""
    for name, v in values:
        out += "%-34s%20d\n" % (name, v)
    return out


def port_block(port, rx_pk, rx_b, tx_pk, tx_b):
    num = re.compile(r" *\d{1,12}")
    return ["",
            "  ######################## NIC statistics for port %-2d ########################" % port,
            "  RX-packets: %-10d RX-missed: %-10d RX-bytes:  %d" % (rx_pk, 0, rx_b),
            "  RX-errors: 0",
            "  RX-nombuf:  0         ",
            "  TX-packets: %-10d TX-errors: %-10d TX-bytes:  %d" % (tx_pk, 0, tx_b),
            "",
            "  Throughput (since last show)",
            re.compile(r"  Rx-pps: (?=[ \d]{12} )%s          Rx-bps: (?=[ \d]{12}$)%s" % (num.pattern, num.pattern)),
            re.compile(r"  Tx-pps: (?=[ \d]{12} )%s          Tx-bps: (?=[ \d]{12}$)%s" % (num.pattern, num.pattern)),
            STATS_BORDER]


def route_row(addr, kind, dest, hits, hit):
    prefix = "%-10s%-41s%-8s%-41s%-14s" % (0, addr, kind, dest, hits)
    return re.compile(re.escape(prefix) + (r"\d+\.\d{3}s ago" if hit else "never"))


def run_checks(t, e, frames, t_start_ns):
    names = counter_names()
    n_in = N_MOVED + N_LOCAL
    rx0_bytes = sum(len(f) for f in frames)
    tx0_bytes = sum(len(f) + 20 for f in frames[:N_MOVED])  # + outer IPv4 header
    tx1_bytes = sum(len(f) for f in frames[N_MOVED:])
    want_counters = {"rx_packets": n_in, "tx_packets": n_in, "delivered_local": N_LOCAL,
                     "encap_ipv4_in_ipv4": N_MOVED}
    want_counters_text = (counters_text([("rx_packets", n_in), ("tx_packets", n_in),
                                         ("delivered_local", N_LOCAL), ("encap_ipv4_in_ipv4", N_MOVED)])
                          + "%-34s%20d\n" % ("drops (all reasons)", 0))

    def check_counter_json(j, want, what):
        c = j.get("counters")
        expect(isinstance(c, dict), "%s: no counters object: %s" % (what, short(j)))
        if names is not None:
            eq(sorted(c), sorted(n for n, _ in names), "%s: counter names" % what)
        for k, v in c.items():
            eq(v, want.get(k, 0), "%s: counters.%s" % (what, k))
        eq(j.get("drops_total"), 0, "%s: drops_total" % what)

    # ---- show version ----
    @t.check("show_version_text")
    def _():
        out = e.text("show", "version")
        m = re.fullmatch(r"nved (\S+) \((DPDK \d+\.\d+\.\d+(?:\.\d+)?(?:-rc\d+)?)\)\n", out)
        expect(m, "show version: %r" % out)
        with open(os.path.join(REPO, "meson.build")) as f:
            ver = re.search(r"version\s*:\s*'([^']+)'", f.read()).group(1)
        eq(m.group(1), ver, "nved version (meson.build's project version)")

    @t.check("show_version_json")
    def _():
        j = e.json("show", "version")
        eq(sorted(j), ["dpdk", "nved"], "keys")
        eq(e.text("show", "version"), "nved %s (%s)\n" % (j["nved"], j["dpdk"]), "text built from the JSON")
        expect(re.fullmatch(r"DPDK \d+\.\d+\.\d+.*", j["dpdk"]), "dpdk: %r" % j["dpdk"])

    # ---- counters ----
    @t.check("show_counters_text")
    def _():
        eq(e.text("show", "counters"), want_counters_text, "show counters")

    @t.check("show_counters_json")
    def _():
        j = e.json("show", "counters")
        eq(sorted(j), ["control", "counters", "drops_total"], "keys (totals have no worker)")
        eq(j["control"], {"learnt": 0, "unhandled": 0}, "control-thread packets")
        check_counter_json(j, want_counters, "show counters --json")

    @t.check("show_counters_worker_0_text")
    def _():
        eq(e.text("show", "counters", "worker", "0"), want_counters_text, "show counters worker 0")

    @t.check("show_counters_worker_0_json")
    def _():
        j = e.json("show", "counters", "worker", "0")
        eq(j.get("worker"), 0, "worker")
        check_counter_json(j, want_counters, "show counters worker 0 --json")

    # ---- ports ----
    @t.check("show_ports_text")
    def _():
        eq(e.text("show", "ports"),
           PORTS_HEADER + "\n"
           "0     fabric        fabric  net_pcap        02:70:63:61:70:00  up    1    1    0         0\n"
           "1     vms           access  net_pcap        02:70:63:61:70:01  up    1    1    0         0\n",
           "show ports")

    @t.check("show_ports_json")
    def _():
        common = {"driver": "net_pcap", "link_up": True, "link_speed_mbps": 10000, "rx_queues": 1, "tx_queues": 1,
                  "vn": 0, "vlan": 0, "tx_ipv4_cksum_offload": False,
                  "rx_ipv4_cksum_offload": False, "link_changes": 0, "mtu": 1500,
                  # net_pcap: no RX scatter asked (2 KiB mbufs hold a 1500 frame), sends no chains
                  "rx_scatter": False, "tx_multi_segment": False}
        eq(e.json("show", "ports"),
           [dict(common, port=0, name="fabric", role="fabric", mac=PORT0_MAC),
            dict(common, port=1, name="vms", role="access", mac=PORT1_MAC)], "show ports --json")

    # ---- port stats ----
    blk0 = port_block(0, n_in, rx0_bytes, N_MOVED, tx0_bytes)
    blk1 = port_block(1, 0, 0, N_LOCAL, tx1_bytes)

    def stats_json(p, rx_pk, rx_b, tx_pk, tx_b):
        return {"port": p, "rx_packets": rx_pk, "rx_missed": 0, "rx_bytes": rx_b, "rx_errors": 0, "rx_nombuf": 0,
                "tx_packets": tx_pk, "tx_errors": 0, "tx_bytes": tx_b}

    def check_stats_json(j, want, first_show, what):
        eq(len(j), len(want), "%s: ports" % what)
        for got, w in zip(j, want):
            for k, v in w.items():
                eq(got.get(k), v, "%s: port %s %s" % (what, w["port"], k))
            for k in ("rx_pps", "rx_bps", "tx_pps", "tx_bps"):
                expect(isinstance(got.get(k), int) and got[k] >= 0, "%s: %s = %r" % (what, k, got.get(k)))
            iv = got.get("interval_s")
            expect(isinstance(iv, (int, float)), "%s: interval_s = %r" % (what, iv))
            if first_show:
                eq(iv, 0.0, "%s: port %d interval_s on the first show" % (what, w["port"]))
            else:
                expect(0 < iv < 60, "%s: port %d interval_s = %r, expected the seconds since the last show"
                       % (what, w["port"], iv))
            eq(len(got), len(w) + 5, "%s: number of fields" % what)

    @t.check("show_port_stats_0_text")
    def _():
        lines_match(e.text("show", "port", "stats", "0"), blk0, "show port stats 0")

    @t.check("show_port_stats_0_json")
    def _():
        check_stats_json(e.json("show", "port", "stats", "0"), [stats_json(0, n_in, rx0_bytes, N_MOVED, tx0_bytes)],
                         False, "show port stats 0 --json")

    @t.check("show_port_stats_all_text")
    def _():
        lines_match(e.text("show", "port", "stats", "all"), blk0 + blk1, "show port stats all")

    @t.check("show_port_stats_all_json")
    def _():
        check_stats_json(e.json("show", "port", "stats", "all"),
                         [stats_json(0, n_in, rx0_bytes, N_MOVED, tx0_bytes), stats_json(1, 0, 0, N_LOCAL, tx1_bytes)],
                         False, "show port stats all --json")

    @t.check("show_port_stats_default_is_all")
    def _():
        lines_match(e.text("show", "port", "stats"), blk0 + blk1, "show port stats")

    @t.check("show_port_xstats_0")
    def _():
        want = [("rx_good_packets", n_in), ("tx_good_packets", N_MOVED), ("rx_good_bytes", rx0_bytes),
                ("tx_good_bytes", tx0_bytes), ("rx_missed_errors", 0), ("rx_errors", 0), ("tx_errors", 0),
                ("rx_mbuf_allocation_errors", 0), ("rx_q0_packets", n_in), ("rx_q0_bytes", rx0_bytes),
                ("rx_q0_errors", 0), ("tx_q0_packets", N_MOVED), ("tx_q0_bytes", tx0_bytes)]
        eq(e.text("show", "port", "xstats", "0"), "".join("%-40s%20d\n" % kv for kv in want), "show port xstats 0")
        eq(e.json("show", "port", "xstats", "0"), dict(want), "show port xstats 0 --json")
        # Issue 13: a port by its name wherever by its id.
        eq(e.json("show", "port", "xstats", "fabric"), dict(want), "show port xstats fabric --json")
        eq(e.ctl("show", "port", "xstats", "nosuch"), (2, "", "nvectl: port: expected a port id 0..1 or a name "
                                                           "(fabric, vms), got 'nosuch'\n"), "show port xstats nosuch")

    # ---- workers ----
    @t.check("show_workers_text")
    def _():
        row = "%-8s%-7s%-29s%-22s%-22s" % (0, 1, "0:0 1:0", n_in, n_in)
        lines_match(e.text("show", "workers"),
                    [WORKERS_HEADER, re.compile(re.escape(row) + r"\d{1,3}\.\d%")], "show workers")

    @t.check("show_workers_json")
    def _():
        j = e.json("show", "workers")
        eq(len(j), 1, "workers")
        w = j[0]
        eq(sorted(w), sorted(["worker", "lcore", "queues", "rx_packets", "tx_packets", "loop_passes",
                              "empty_passes", "idle_ratio", "role"]), "fields")
        eq(w["role"], "worker", "role (net_pcap: no rte_flow, no control queue for the control thread)")
        eq([w["worker"], w["lcore"], w["queues"], w["rx_packets"], w["tx_packets"]],
           [0, 1, [{"port": 0, "queue": 0}, {"port": 1, "queue": 0}], n_in, n_in],
           "worker, lcore, queues, rx_packets, tx_packets")
        expect(0 < w["loop_passes"] and 0 <= w["empty_passes"] <= w["loop_passes"],
               "loop_passes %r, empty_passes %r" % (w["loop_passes"], w["empty_passes"]))
        eq(w["idle_ratio"], w["empty_passes"] / w["loop_passes"], "idle_ratio = empty_passes / loop_passes")

    # ---- routes ----
    routes_json = [
        {"vn": 0, "address": LOCAL_VM4, "kind": "local", "hits": N_LOCAL, "port": 1, "mac": VM_MAC, "vlan": 0},
        {"vn": 0, "address": MOVED_VM, "kind": "tunnel", "hits": N_MOVED, "nve": PEER_NVE},
        {"vn": 0, "address": LOCAL_VM6, "kind": "local", "hits": 0, "port": 1, "mac": VM_MAC, "vlan": 0},
    ]
    route_rows = {
        LOCAL_VM4: route_row(LOCAL_VM4, "local", "port 1 " + VM_MAC, N_LOCAL, True),
        MOVED_VM: route_row(MOVED_VM, "tunnel", PEER_NVE, N_MOVED, True),
        LOCAL_VM6: route_row(LOCAL_VM6, "local", "port 1 " + VM_MAC, 0, False),
    }

    def check_routes_json(got, want, what):
        eq(len(got), len(want), "%s: number of routes (%s)" % (what, short(got)))
        elapsed = (time.time_ns() - t_start_ns) / 1e9
        for g, w in zip(got, want):
            ago = g.get("last_hit_seconds_ago", "missing")
            if w["hits"]:
                expect(isinstance(ago, float) and 0 <= ago <= elapsed,
                       "%s: %s last_hit_seconds_ago = %r, expected 0..%.1f" % (what, w["address"], ago, elapsed))
            else:
                eq(ago, None, "%s: %s last_hit_seconds_ago (never hit)" % (what, w["address"]))
            eq({k: v for k, v in g.items() if k != "last_hit_seconds_ago"}, w, "%s: route %s" % (what, w["address"]))

    @t.check("show_routes_text")
    def _():
        lines_match(e.text("show", "routes"), [ROUTES_HEADER] + list(route_rows.values()), "show routes")

    @t.check("show_routes_json")
    def _():
        check_routes_json(e.json("show", "routes"), routes_json, "show routes --json")

    @t.check("show_routes_vn_0")
    def _():
        lines_match(e.text("show", "routes", "vn", "0"), [ROUTES_HEADER] + list(route_rows.values()),
                    "show routes vn 0")
        check_routes_json(e.json("show", "routes", "vn", "0"), routes_json, "show routes vn 0 --json")

    @t.check("show_routes_vn_7_empty")
    def _():
        eq(e.text("show", "routes", "vn", "7"), ROUTES_HEADER + "\n", "show routes vn 7")
        eq(e.json("show", "routes", "vn", "7"), [], "show routes vn 7 --json")

    @t.check("show_routes_address_hits")
    def _():
        lines_match(e.text("show", "routes", MOVED_VM), [ROUTES_HEADER, route_rows[MOVED_VM]],
                    "show routes " + MOVED_VM)
        check_routes_json(e.json("show", "routes", MOVED_VM), [routes_json[1]], "show routes %s --json" % MOVED_VM)
        check_routes_json(e.json("show", "routes", "vn", "0", MOVED_VM), [routes_json[1]],
                          "show routes vn 0 %s --json" % MOVED_VM)
        check_routes_json(e.json("show", "routes", LOCAL_VM6), [routes_json[2]], "show routes %s --json" % LOCAL_VM6)

    def route_table_lines(j):
        return ["capacity           4096", "routes             %d" % j["routes"],
                "destination NVEs   %d" % j["destination_nves"], re.compile(r"memory \(bytes\)     [1-9]\d*"),
                "table version      %d" % j["version"], re.compile(r"last update        \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(\d+\.\d{3}s ago\)")]

    def route_table_json(routes, nves, version):
        j = e.json("show", "route-table")
        eq(sorted(j), sorted(["capacity", "routes", "destination_nves", "memory_bytes", "version",
                              "last_update_unix_ns"]), "show route-table --json keys")
        eq([j["capacity"], j["routes"], j["destination_nves"], j["version"]], [4096, routes, nves, version],
           "show route-table --json capacity, routes, destination_nves, version")
        expect(isinstance(j["memory_bytes"], int) and j["memory_bytes"] > 0, "memory_bytes %r" % j["memory_bytes"])
        now = time.time_ns()
        expect(t_start_ns <= j["last_update_unix_ns"] <= now,
               "last_update_unix_ns %r not between the test's start %d and now %d"
               % (j["last_update_unix_ns"], t_start_ns, now))
        return j

    state = {}

    # Issue 13: counts per kind and VN, for tables too large to read.
    @t.check("show_routes_summary")
    def _():
        routes = e.json("show", "routes")
        want = {}
        for r in routes:
            k = want.setdefault(r["vn"], {"vn": r["vn"], "local": 0, "tunnel": 0, "endpoint": 0, "total": 0})
            k[r["kind"]] += 1
            k["total"] += 1
        rows = [want[v] for v in sorted(want)]
        all_row = {"vn": None, **{f: sum(r[f] for r in rows) for f in ("local", "tunnel", "endpoint", "total")}}
        eq(e.json("show", "routes", "summary"), rows + [all_row], "show routes summary --json")
        text = e.text("show", "routes", "summary").splitlines()
        eq(text[0], "VN        LOCAL       TUNNEL      ENDPOINT    TOTAL", "summary header")
        eq(text[-1].split(), ["all", str(all_row["local"]), str(all_row["tunnel"]), str(all_row["endpoint"]),
                              str(all_row["total"])], "summary last line")

    @t.check("show_route_table")
    def _():
        # version 2: the fabric parameters, then the configuration's routes
        j = route_table_json(3, 1, 2)
        text = e.text("show", "route-table")
        lines_match(text, route_table_lines(j), "show route-table")
        eq(re.search(r"memory \(bytes\)\s+(\d+)", text).group(1), str(j["memory_bytes"]), "memory: text vs JSON")
        state["rt"] = j

    # ---- route add / del ----
    NEW, NEW_NVE = "10.1.1.1", "198.51.100.7"
    LOC2, LOC2_MAC = "10.1.1.2", "02:00:00:00:02:02"
    LOC3, LOC3_MAC = "10.1.1.3", "02:00:00:00:02:03"
    v0 = state.get("rt", {}).get("version", 2)

    @t.check("route_add_tunnel")
    def _():
        eq(e.text("route", "add", "vn", "0", NEW, "tunnel", NEW_NVE),
           "route vn 0 %s installed (table version %d)\n" % (NEW, v0 + 1), "route add text")
        j = route_table_json(4, 2, v0 + 1)
        expect(j["version"] > v0, "table version did not grow")
        lines_match(e.text("show", "routes", NEW),
                    [ROUTES_HEADER, route_row(NEW, "tunnel", NEW_NVE, 0, False)], "show routes " + NEW)
        check_routes_json(e.json("show", "routes", NEW),
                          [{"vn": 0, "address": NEW, "kind": "tunnel", "hits": 0, "nve": NEW_NVE}],
                          "show routes %s --json" % NEW)

    @t.check("route_add_local_json")
    def _():
        eq(e.json("route", "add", "vn", "0", LOC2, "local", "vms", LOC2_MAC), {"table_version": v0 + 2},
           "route add local --json")
        eq(e.json("route", "add", "vn", "0", LOC3, "local", "1", LOC3_MAC, "vlan", "12"), {"table_version": v0 + 3},
           "route add local vlan --json")
        rows = [ROUTES_HEADER, route_rows[LOCAL_VM4], route_rows[MOVED_VM],
                route_row(NEW, "tunnel", NEW_NVE, 0, False),
                route_row(LOC2, "local", "port 1 " + LOC2_MAC, 0, False),
                route_row(LOC3, "local", "port 1 %s vlan 12" % LOC3_MAC, 0, False), route_rows[LOCAL_VM6]]
        lines_match(e.text("show", "routes"), rows, "show routes after route add")
        check_routes_json(e.json("show", "routes", "vn", "0"), routes_json[:2] + [
            {"vn": 0, "address": NEW, "kind": "tunnel", "hits": 0, "nve": NEW_NVE},
            {"vn": 0, "address": LOC2, "kind": "local", "hits": 0, "port": 1, "mac": LOC2_MAC, "vlan": 0},
            {"vn": 0, "address": LOC3, "kind": "local", "hits": 0, "port": 1, "mac": LOC3_MAC, "vlan": 12},
            routes_json[2]], "show routes --json after route add")
        route_table_json(6, 2, v0 + 3)

    @t.check("route_del")
    def _():
        eq(e.text("route", "del", "vn", "0", NEW), "route vn 0 %s deleted (table version %d)\n" % (NEW, v0 + 4),
           "route del text")
        eq(e.json("route", "del", "vn", "0", LOC2), {"table_version": v0 + 5}, "route del --json")
        eq(e.text("route", "del", "vn", "0", LOC3), "route vn 0 %s deleted (table version %d)\n" % (LOC3, v0 + 6),
           "route del text")
        lines_match(e.text("show", "routes"), [ROUTES_HEADER] + list(route_rows.values()), "show routes after del")
        eq(e.json("show", "routes", NEW), [], "show routes %s --json after del" % NEW)
        j = route_table_json(3, 1, v0 + 6)
        lines_match(e.text("show", "route-table"), route_table_lines(j), "show route-table after del")

    # Issue 13: the configuration in effect, defaults written out, and the
    # route changes above, which no file holds.
    @t.check("show_running_config")
    def _():
        text = e.text("show", "running-config")
        j = e.json("show", "running-config")
        expect("\nicmp: {rate_per_sec: 1000, burst: 100}\n" in text, "defaults written out:\n" + text)
        changes = j["route_changes"]
        expect(len(changes) == 6 and changes[-3:] == ["# del 0 %s" % NEW, "# del 0 %s" % LOC2, "# del 0 %s" % LOC3],
               "route changes since start: %r" % changes)
        for line in changes:
            expect(("#   %s\n" % line) in text, "text lacks the change %r" % line)
        path = os.path.join(e.tmp, "running.yaml")
        with open(path, "w") as f:
            f.write(j["yaml"])
        r = subprocess.run([e.nved, "--", "-c", path, "--check-config"], capture_output=True, text=True, timeout=30)
        eq((r.returncode, r.stderr), (0, ""), "nved --check-config on the running configuration")

    # Issue 13: reload reads the file again and says what changed and needs
    # a restart; a broken file changes nothing and says why.
    @t.check("reload_reports_changes")
    def _():
        path = os.path.join(e.tmp, "nved.yaml")
        with open(path) as f:
            original = f.read()
        try:
            eq(e.ctl("reload"), (0, "configuration file: no change from the configuration in effect\n", ""),
               "reload with the file unchanged")
            with open(path, "w") as f:
                f.write(original + "icmp: {rate_per_sec: 5}\n")
            rc, out, err = e.ctl("reload")
            eq((rc, out, err), (0, "icmp: changed in the file; takes effect at the next restart\n", ""),
               "reload after an edit")
            with open(path, "w") as f:
                f.write(original + "icmp: {rate_per_sec: lots}\n")
            rc, out, err = e.ctl("reload")
            eq((rc, out), (1, ""), "reload of a broken file: exit code, stdout")
            expect("icmp.rate_per_sec: 'lots' is not a whole number" in err and "nothing changed" in err,
                   "reload of a broken file: %r" % err)
            eq(e.json("show", "running-config")["yaml"].count("rate_per_sec: 1000"), 1,
               "the configuration in effect after the failed reload")
        finally:
            with open(path, "w") as f:
                f.write(original)

    # ---- neighbours, config ----
    @t.check("show_flows")
    def _():
        # net_pcap has no rte_flow: each port says so and runs the software path.
        rows = e.json("show", "flows")
        eq([(r["port"], r["rule"], r["state"], r["hits"]) for r in rows],
           [(0, "-", "software", None), (1, "-", "software", None)], "show flows --json")
        for r in rows:
            expect(r["detail"].startswith("software: no rte_flow in driver net_pcap: ")
                   and r["port_status"] == r["detail"], "show flows: %r" % r)
        text = e.text("show", "flows").splitlines()
        expect(text[0].split() == ["PORT", "RULE", "STATE", "HITS", "DETAIL"] and text[1].split()[:4] == ["0", "-", "software", "-"],
               "show flows:\n%s" % "\n".join(text))

    @t.check("show_neighbours")
    def _():
        row = "%-41s%-10s%-19s%s" % ("-", "gateway", GW_MAC, "static")
        eq(e.text("show", "neighbours"), "%s\n%s\n%s\n" % (NEIGH_HEADER, row, row), "show neighbours")
        gw = {"address": "-", "role": "gateway", "mac": GW_MAC, "source": "static"}
        eq(e.json("show", "neighbours"), [gw, gw], "show neighbours --json")

    @t.check("show_config")
    def _():
        eq(e.text("show", "config"), CONFIG_TEXT, "show config (the file's text)")
        eq(e.json("show", "config"), {"text": CONFIG_TEXT}, "show config --json")

    # ---- metrics ----
    @t.check("show_metrics")
    def _():
        from prometheus_client.parser import text_string_to_metric_families
        text = e.text("show", "metrics")
        eq(e.json("show", "metrics"), {"text": text}, "show metrics --json")
        fams = {f.name: f for f in text_string_to_metric_families(text)}
        samples = {}
        for f in fams.values():
            for s in f.samples:
                key = (s.name, tuple(sorted(s.labels.items())))
                expect(key not in samples, "sample %s%s twice" % key)
                samples[key] = s.value
        types = {"nve_packets": "counter", "nve_drop_packets": "counter", "nve_port_rx_packets": "counter",
                 "nve_port_tx_packets": "counter", "nve_port_rx_bytes": "counter", "nve_port_tx_bytes": "counter",
                 "nve_port_rx_missed": "counter", "nve_port_rx_errors": "counter", "nve_port_tx_errors": "counter",
                 "nve_port_rx_nombuf": "counter", "nve_port_link_changes": "counter", "nve_control_packets": "counter", "nve_routes": "gauge", "nve_route_table_capacity": "gauge",
                 "nve_route_table_version": "gauge", "nve_route_table_memory_bytes": "gauge",
                 "nve_build_info": "gauge", "nve_start_time_seconds": "gauge"}
        eq({n: f.type for n, f in fams.items()}, types, "metric families and types")

        def val(metric, **labels):
            key = (metric, tuple(sorted(labels.items())))
            if key not in samples:
                raise Fail("no sample %s%s in:\n%s" % (metric, labels, short(text, 1500)))
            return samples[key]

        eq(val("nve_drop_packets_total", worker="0", reason="no_route"), 0.0,
           'nve_drop_packets_total{reason="no_route"}')
        eq(val("nve_packets_total", worker="0", outcome="rx_packets"), float(n_in),
           'nve_packets_total{outcome="rx_packets"}')
        eq(val("nve_packets_total", worker="0", outcome="encap_ipv4_in_ipv4"), float(N_MOVED), "encap_ipv4_in_ipv4")
        counters = e.json("show", "counters")["counters"]
        for name, v in counters.items():
            if name.startswith("drop_"):
                eq(val("nve_drop_packets_total", worker="0", reason=name[5:]), float(v), "drop metric " + name)
            else:
                eq(val("nve_packets_total", worker="0", outcome=name), float(v), "outcome metric " + name)
        eq(len(fams["nve_packets"].samples) + len(fams["nve_drop_packets"].samples), len(counters),
           "one sample per counter")
        for p, st in enumerate(e.json("show", "port", "stats", "all")):
            for metric, field in [("rx_packets", "rx_packets"), ("tx_packets", "tx_packets"),
                                  ("rx_bytes", "rx_bytes"), ("tx_bytes", "tx_bytes"), ("rx_missed", "rx_missed"),
                                  ("rx_errors", "rx_errors"), ("tx_errors", "tx_errors"),
                                  ("rx_nombuf", "rx_nombuf")]:
                name, role = [("fabric", "fabric"), ("vms", "access")][p]  # labels: the port's name and role
                eq(val("nve_port_%s_total" % metric, port=str(p), name=name, role=role), float(st[field]),
                   "port %d %s" % (p, metric))
        rt = e.json("show", "route-table")
        eq([val("nve_routes"), val("nve_route_table_capacity"), val("nve_route_table_version"),
            val("nve_route_table_memory_bytes")],
           [3.0, 4096.0, float(rt["version"]), float(rt["memory_bytes"])], "route table gauges")

    # ---- telemetry ----
    @t.check("telemetry")
    def _():
        cmds = ["/", "/nve/counters", "/nve/counters,0", "/nve/route_table", "/nve/workers", "/nve/routes",
                "/nve/routes,vn 0 %s" % MOVED_VM, "/nve/ports", "/nve/neighbours", "/help,/nve/routes"]
        ans = e.telemetry(cmds)
        state["telemetry"] = dict(zip(cmds, ans))

    tel = state.get("telemetry")

    def tel_answer(cmd):
        if tel is None:
            raise Fail("no telemetry answers (see the telemetry check)")
        a = tel[cmd]
        path = cmd.split(",")[0]
        expect(isinstance(a, dict) and path in a, "telemetry %s: %s" % (cmd, short(a)))
        return a[path]

    @t.check("telemetry_lists_nve_commands")
    def _():
        listed = tel_answer("/")
        eq({c for c in listed if c.startswith("/nve/")}, TELEMETRY_NVE_COMMANDS, "/nve/ commands listed by /")
        eq(tel_answer("/help,/nve/routes"), {"/nve/routes": "Host routes. Parameters: [vn N] [ADDRESS]"},
           "/help,/nve/routes")

    @t.check("telemetry_counters")
    def _():
        want = dict(e.json("show", "counters")["counters"], drops_total=0)
        for cmd in ("/nve/counters", "/nve/counters,0"):
            got = tel_answer(cmd)
            eq(got.get("rx_packets"), n_in, cmd + " rx_packets")
            eq(got, want, cmd + " (all counters, as nvectl --json)")

    @t.check("telemetry_route_table")
    def _():
        got = tel_answer("/nve/route_table")
        want = e.json("show", "route-table")
        eq(got.get("routes"), 3, "/nve/route_table routes")
        eq(got, want, "/nve/route_table (as nvectl --json)")

    def tel_list(cmd):
        """A list answer: {"0": <JSON text of entry 0>, ...} -> entries."""
        got = tel_answer(cmd)
        expect(isinstance(got, dict), "%s: %s" % (cmd, short(got)))
        out = []
        for i in range(len(got)):
            v = got.get(str(i))
            if isinstance(v, str):
                try:
                    v = json.loads(v)
                except ValueError:
                    raise Fail("%s entry %d is not valid JSON (%d characters, cut short?): %r"
                               % (cmd, i, len(got[str(i)]), got[str(i)]))
            out.append(v)
        return out

    @t.check("telemetry_workers")
    def _():
        got = tel_answer("/nve/workers")
        eq(sorted(got), ["0"], "/nve/workers entries")
        w = tel_list("/nve/workers")[0]
        eq([w.get("worker"), w.get("lcore"), w.get("rx_packets"), w.get("tx_packets")], [0, 1, n_in, n_in],
           "/nve/workers 0: worker, lcore, rx_packets, tx_packets")

    @t.check("telemetry_routes_count")
    def _():
        eq(sorted(tel_answer("/nve/routes")), ["0", "1", "2"], "/nve/routes entries (3 routes)")
        one = tel_list("/nve/routes,vn 0 %s" % MOVED_VM)
        eq(len(one), 1, "/nve/routes,vn 0 %s entries" % MOVED_VM)
        eq([one[0].get("address"), one[0].get("hits"), one[0].get("nve")], [MOVED_VM, N_MOVED, PEER_NVE],
           "/nve/routes,vn 0 %s: address, hits, nve" % MOVED_VM)

    @t.check("telemetry_routes_entries")
    def _():
        got = tel_list("/nve/routes")
        eq([(r.get("address"), r.get("kind"), r.get("hits")) for r in got],
           [(r["address"], r["kind"], r["hits"]) for r in routes_json], "/nve/routes: address, kind, hits")

    @t.check("telemetry_ports")
    def _():
        eq(sorted(tel_answer("/nve/ports")), ["0", "1"], "/nve/ports entries")
        eq(tel_list("/nve/ports"), e.json("show", "ports"), "/nve/ports (as nvectl --json)")

    @t.check("telemetry_neighbours")
    def _():
        eq(tel_list("/nve/neighbours"), e.json("show", "neighbours"), "/nve/neighbours (as nvectl --json)")

    # ---- error paths: exit codes and messages ----
    def failing(words, rc_want, err_want, opts=(), prefix=None):
        rc, out, err = e.ctl(*words, opts=opts, prefix=prefix)
        eq(out, "", "stdout of nvectl %s" % " ".join(list(opts) + list(words)))
        if isinstance(err_want, str):
            eq(err, err_want, "stderr")
        else:
            expect(err_want.search(err), "stderr %r does not match /%s/" % (err, err_want.pattern))
        eq(rc, rc_want, "exit code of nvectl %s (stderr %r)" % (" ".join(list(opts) + list(words)), err))

    @t.check("error_unknown_command")
    def _():
        failing(["frobnicate", "now"], 2, "nvectl: unknown command frobnicate now (try: help, or ?)\n")
        failing(["show", "frobs"], 2, "nvectl: unknown command show frobs (try: help, or ?)\n")

    # Issue 13, CLI ergonomics: words may be abbreviated as in birdc and
    # vppctl, an ambiguous abbreviation says which commands it could be, and
    # "?" lists what can follow.
    @t.check("abbreviations")
    def _():
        eq(e.text("sh", "cou"), e.text("show", "counters"), "nvectl sh cou")
        eq(e.text("sh", "ver"), e.text("show", "version"), "nvectl sh ver")
        eq(e.json("sh", "port", "st", "0")[0]["port"], 0, "nvectl -j sh port st 0")
        eq(e.json("sh", "port")[0]["name"], "fabric", "nvectl -j sh port (is show ports)")
        failing(["sh", "co"], 2, "nvectl: ambiguous: show config, show counters (type more of it)\n")
        failing(["sh", "route"], 2, "nvectl: ambiguous: show routes, show route-table (type more of it)\n")

    @t.check("question_mark_help")
    def _():
        rows = [r for r in nved_command_table() or [] if r[0].startswith("show port")]
        expect(len(rows) == 3, "command table rows for show port*: %r" % rows)
        eq(e.text("show", "port", "?"), help_text(rows), "nvectl show port ?")
        eq(e.text("sh", "port?"), help_text(rows), "nvectl sh port?")
        failing(["frob", "?"], 2, "nvectl: no command begins with frob (try: help)\n")

    @t.check("error_bad_address")
    def _():
        failing(["route", "add", "vn", "0", "10.1.1.300", "tunnel", "1.2.3.4"], 2,
                "nvectl: '10.1.1.300' is not an IPv4 or IPv6 address\n")
        failing(["route", "add", "vn", "0", "10.1.1.30", "tunnel", "1.2.3"], 2,
                "nvectl: '1.2.3' is not an NVE address\n")
        # Issue 13: these were "installed".
        failing(["route", "add", "vn", "0", "10.1.1.30", "tunnel", "224.0.0.1"], 2,
                "nvectl: '224.0.0.1' is a multicast address, not an NVE's address\n")
        failing(["route", "add", "vn", "0", "10.1.1.30", "tunnel", "0.0.0.0"], 2,
                "nvectl: '0.0.0.0' is an IPv4 address of network 0 (unspecified), not an NVE's address\n")
        failing(["route", "add", "vn", "0", "224.0.0.1", "local", "vms", "02:00:00:00:02:02"], 2,
                "nvectl: '224.0.0.1' is a multicast address, not a VM's address\n")
        failing(["route", "add", "vn", "0", "::", "tunnel", "2001:db8::2"], 2,
                "nvectl: '::' is the unspecified address, not a VM's address\n")

    @t.check("error_route_add_usage")
    def _():
        u = "nvectl: usage: route add vn N ADDRESS (local PORT MAC [vlan V] | tunnel NVE)\n"
        failing(["route", "add", "vn", "0", "10.1.1.30"], 2, u)
        failing(["route", "add", "vn", "0", "10.1.1.30", "local", "0", "02:00:00:00:02:02"], 2,
                "nvectl: port '0' is not an access port\n")
        failing(["route", "add", "vn", "0", "10.1.1.30", "local", "vms", "03:00:00:00:02:02"], 2,
                "nvectl: '03:00:00:00:02:02' is not a unicast MAC address\n")
        eq(e.json("show", "routes", "10.1.1.30"), [], "no route added by the failed commands")

    @t.check("error_route_del_missing")
    def _():
        failing(["route", "del", "vn", "0", "10.1.1.99"], 1, "nvectl: route vn 0 10.1.1.99: no such route\n")

    @t.check("error_show_routes_vn_not_a_number")
    def _():
        failing(["show", "routes", "vn", "abc"], 2, "nvectl: vn: expected a number 0..16777215, got 'abc'\n")

    @t.check("error_show_routes_not_an_address")
    def _():
        failing(["show", "routes", "vn", "0", "zzz"], 2,
                "nvectl: usage: show routes [vn N] [ADDRESS] [page CURSOR N] | summary: 'zzz' is not an address\n")

    @t.check("error_worker_out_of_range")
    def _():
        failing(["show", "counters", "worker", "7"], 2, "nvectl: worker: expected a number 0..0, got '7'\n")

    @t.check("error_usage_of_show_commands")
    def _():
        failing(["show", "counters", "workers"], 2, "nvectl: usage: show counters [worker N]\n")
        failing(["show", "port", "xstats"], 2, "nvectl: usage: show port xstats PORT\n")
        failing(["show", "route-table", "x"], 2, "nvectl: usage: show route-table\n")
        failing(["set", "log", "level", "loud"], 2, "nvectl: unknown log level 'loud'\n")

    @t.check("read_only_refuses_route_add")
    def _():
        before = e.json("show", "route-table")["version"]
        failing(["route", "add", "vn", "0", "10.1.1.50", "tunnel", "198.51.100.7"], 1,
                "nvectl: 'route add' changes state: refused in read-only mode (-r)\n", opts=("-r",))
        failing(["clear", "counters"], 1,
                "nvectl: 'clear counters' changes state: refused in read-only mode (-r)\n", opts=("--read-only",))
        eq(e.json("show", "routes", "10.1.1.50"), [], "route after a refused route add")
        eq(e.json("show", "route-table")["version"], before, "table version after a refused route add")
        eq(e.json("show", "counters")["counters"]["rx_packets"], n_in, "rx_packets after a refused clear")

    @t.check("read_only_show_counters")
    def _():
        rc, out, err = e.ctl("show", "counters", opts=("-r",))
        eq((rc, err), (0, ""), "nvectl -r show counters: exit code, stderr")
        eq(out, want_counters_text, "nvectl -r show counters")

    @t.check("error_daemon_not_running")
    def _():
        p = "nvcli-none-%d" % os.getpid()
        # What happened, then what to try: the prefix, and the nveds running.
        failing(["show", "counters"], 3, re.compile(
            r"^nvectl: daemon unreachable: cannot connect to /var/run/dpdk/%s/nved\.sock: No such file or "
            r"directory\nnvectl: is nved running\? .*give -p PREFIX .*sockets found: .*-p %s.*\n$"
            % (re.escape(p), re.escape(e.prefix))), prefix=p)
        failing(["show", "counters"], 3, re.compile(r"^nvectl: daemon unreachable: cannot connect to "
                                                    r"/nonexistent/nved\.sock: No such file or directory\n"
                                                    r"nvectl: is nved running\?"),
                opts=("-s", "/nonexistent/nved.sock"))
        # Interactive mode against a daemon that is not there: no prompt, exit 3.
        rc, out, err = e.ctl(prefix=p)
        eq((rc, out), (3, ""), "nvectl -p %s (interactive) exit code and stdout (stderr %r)" % (p, err))
        expect("is nved running?" in err, "interactive nvectl without a daemon: %r" % err)

    @t.check("finds_the_only_nved")
    def _():
        import glob
        found = glob.glob("/var/run/dpdk/*/nved.sock")
        r = subprocess.run([e.nvectl, "show", "version"], stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=CMD_TIMEOUT_S)
        if os.path.exists("/var/run/dpdk/rte/nved.sock") or len(found) != 1:
            # Another nved (or one's leftover socket) is here: the default rules.
            expect(r.returncode != 0 or "rte" in found[0], "nvectl without -p with sockets %r: %r" % (found, r))
            return
        eq((r.returncode, r.stdout.startswith("nved ")), (0, True),
           "nvectl show version without -p, the only nved running (%s): %r" % (found[0], r))

    @t.check("error_bad_cli_option")
    def _():
        failing(["show", "counters"], 2, re.compile(r"--bogus"), opts=("--bogus",))
        failing(["show", "counters"], 2, re.compile(r"--timeout|-t"), opts=("-t", "0"))
        failing(["show", "version"], 2, re.compile(r"--daemon|-d|nvad"), opts=("-d", "nobody"))

    @t.check("cli_help_option")
    def _():
        rc, out, err = e.ctl(opts=("--help",))
        eq(rc, 0, "nvectl --help exit code")
        for opt in ("--file-prefix", "--json", "--read-only", "--socket", "--timeout", "--daemon"):
            expect(opt in out, "nvectl --help does not mention %s:\n%s" % (opt, out))

    # ---- the socket protocol, directly ----
    def proto(payload, want, what, **kw):
        eq(e.request(payload, **kw), want, what)

    @t.check("socket_garbage")
    def _():
        proto(b"\x00\xff\xfe garbage \x01\n", {"ok": False, "error": "request is not JSON", "usage": True},
              "binary garbage")

    @t.check("socket_not_json")
    def _():
        proto(b"show counters\n", {"ok": False, "error": "request is not JSON", "usage": True}, "a non-JSON line")
        proto(b'{"command": "show counters"\n', {"ok": False, "error": "request is not JSON", "usage": True},
              "truncated JSON")

    @t.check("socket_no_command")
    def _():
        want = {"ok": False, "error": 'request has no "command" string', "usage": True}
        proto(b'{"args": ["worker", "0"]}\n', want, "object without command")
        proto(b'{"command": 5}\n', want, "command not a string")
        proto(b'["show counters"]\n', want, "a list")

    @t.check("socket_bad_args")
    def _():
        want = {"ok": False, "error": '"args" must be a list of strings', "usage": True}
        proto(b'{"command": "show counters", "args": "worker 0"}\n', want, "args a string")
        proto(b'{"command": "show counters", "args": ["worker", 0]}\n', want, "args with a number")

    @t.check("socket_unknown_command")
    def _():
        proto(b'{"command": "frob"}\n', {"ok": False, "error": "unknown command 'frob' (try: help)", "usage": True},
              "unknown command")

    @t.check("socket_no_newline_times_out")
    def _():
        # the server gives a client 2 s for its line, without blocking others
        t0 = time.monotonic()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(e.sock)
            s.sendall(b'{"command": "show ver')
            mid = e.ctl("show", "version", opts=("-t", "1000"))
            eq(mid[0], 0, "nvectl show version while another client's line is incomplete (stderr %r)" % mid[2])
            data = ctl_client.read_answer(s)
        except socket.timeout:
            raise Fail("no answer within 5 s")
        finally:
            s.close()
        took = time.monotonic() - t0
        eq(json.loads(data), {"ok": False, "error": "no request line within 2 s", "usage": False},
           "request without newline, socket kept open")
        expect(1.5 <= took < 4, "answer after %.1f s, expected about 2 s" % took)

    @t.check("socket_request_at_eof")
    def _():
        j = e.request(b'{"command": "show version"}', shut_write=True)
        eq(j.get("ok"), True, "request ended by EOF instead of a newline: %s" % short(j))

    @t.check("socket_request_too_large")
    def _():
        big = b'{"command": "show version", "pad": "' + b"x" * 70000 + b'"}\n'
        proto(big, {"ok": False, "error": "request too large", "usage": False}, "70 kB request")

    @t.check("socket_valid_request")
    def _():
        j = e.request(b'{"command": "show route-table"}\n')
        eq(sorted(j), ["data", "ok", "text"], "answer keys")
        eq(j["ok"], True, "ok")
        eq(j["data"], e.json("show", "route-table"), "data (as nvectl --json)")
        ago = re.compile(r"\(\d+\.\d{3}s ago\)")  # the age of the last update moves on between the two
        eq(ago.sub("(ago)", j["text"]), ago.sub("(ago)", e.text("show", "route-table")), "text (as nvectl)")
        j = e.request(b'{"command": "show", "args": ["counters", "worker", "0"]}\n')
        eq([j.get("ok"), j.get("data", {}).get("worker")], [True, 0], "words split between command and args")

    @t.check("socket_read_only_refused_by_server")
    def _():
        before = e.json("show", "route-table")["version"]
        req = {"command": "route add", "args": ["vn", "0", "10.1.1.60", "tunnel", "198.51.100.7"], "read_only": True}
        proto((json.dumps(req) + "\n").encode(),
              {"ok": False, "error": "'route add' changes state: refused in read-only mode", "usage": False},
              "route add with read_only true")
        proto(b'{"command": "clear counters", "read_only": true}\n',
              {"ok": False, "error": "'clear counters' changes state: refused in read-only mode", "usage": False},
              "clear counters with read_only true")
        eq(e.json("show", "routes", "10.1.1.60"), [], "route after the refused request")
        eq(e.json("show", "route-table")["version"], before, "table version after the refused request")
        eq(e.json("show", "counters")["counters"]["rx_packets"], n_in, "counters after the refused clear")
        j = e.request(b'{"command": "show version", "read_only": true}\n')
        eq(j.get("ok"), True, "a read-only request for show version")

    # ---- interactive mode ----
    home = os.path.join(e.tmp, "home")
    os.makedirs(home, exist_ok=True)
    pty_env = {"HOME": home, "TERM": "dumb", "INPUTRC": "/dev/null", "PATH": "/usr/bin:/bin", "LANG": "C"}
    hist = os.path.join(home, ".nvectl_history")
    counters_on_tty = want_counters_text.replace("\n", "\r\n")

    @t.check("interactive_completion_and_command")
    def _():
        s = PtySession([e.nvectl, "-p", e.prefix], pty_env)
        try:
            s.expect("nved> ", "prompt")
            s.send(b"show rou\t")
            s.expect("show route", "TAB after 'show rou'")
            s.send(b"\t\t")  # ambiguous: the next TABs list the candidates
            listing = s.expect(re.compile(r"\r\n(.*)\r\nnved> show route"), "candidates after TAB TAB")
            cands = re.search(r"\r\n(.*)\r\nnved> show route$", listing).group(1).split()
            eq(cands, ["route-table", "routes"], "completion candidates of 'show route'")
            s.send(b"\x15show port x\t")  # Ctrl-U, then a unique completion
            s.expect("show port xstats ", "TAB after 'show port x'")
            # Arguments the daemon knows: port names (issue 13).
            s.send(b"f\t")
            s.expect("fabric ", "TAB after 'show port xstats f' (a port name)")
            s.send(b"\x15show counters\r")
            s.expect("show counters\r\n", "echo of show counters")
            out = s.expect("nved> ", "show counters output and the next prompt")
            expect(counters_on_tty in out, "show counters output %r does not contain %r" % (out, counters_on_tty))
            s.send(b"quit\r")
            eq(s.wait_exit(), 0, "exit status after quit")
        finally:
            s.close()

    @t.check("interactive_history_file")
    def _():
        try:
            with open(hist) as f:
                lines = f.read().splitlines()
        except OSError as err:
            raise Fail("no history file %s: %s" % (hist, err))
        expect("show counters" in lines, "history %s: %r has no 'show counters'" % (hist, lines))
        state["hist"] = lines

    @t.check("interactive_history_recall")
    def _():
        lines = state.get("hist")
        expect(lines and "show counters" in lines, "no history to recall")
        ups = len(lines) - max(i for i, ln in enumerate(lines) if ln == "show counters")
        s = PtySession([e.nvectl, "-p", e.prefix], pty_env)
        try:
            s.expect("nved> ", "prompt")
            s.send(b"\x1b[A" * ups)  # Up-arrow back to 'show counters'
            s.expect("show counters", "line recalled by %d x Up" % ups)
            s.send(b"\r")
            s.expect("\r\n", "end of the recalled line")
            out = s.expect("nved> ", "output of the recalled line and the next prompt")
            expect(counters_on_tty in out, "recalled show counters output %r does not contain %r"
                   % (out, counters_on_tty))
            s.send(b"\x04")  # Ctrl-D on an empty line
            eq(s.wait_exit(), 0, "exit status after Ctrl-D")
        finally:
            s.close()
        with open(hist) as f:
            eq(f.read().splitlines()[-1], "show counters", "last history line after the recall")

    @t.check("interactive_read_only_prompt")
    def _():
        s = PtySession([e.nvectl, "-r", "-p", e.prefix], pty_env)
        try:
            s.expect("nved(ro)> ", "read-only prompt")
            s.send(("route del vn 0 %s\r" % LOCAL_VM4).encode())
            s.expect("route del vn 0 %s\r\n" % LOCAL_VM4, "echo of route del")
            out = s.expect("nved(ro)> ", "refusal and the next prompt")
            expect("nvectl: 'route del' changes state: refused in read-only mode (-r)" in out,
                   "no refusal in %r" % out)
            s.send(b"quit\r")
            expect(s.wait_exit() is not None, "nvectl -r did not exit after quit")
        finally:
            s.close()
        eq(len(e.json("show", "routes", LOCAL_VM4)), 1, "route %s after a refused interactive route del" % LOCAL_VM4)

    # ---- set log level, help ----
    @t.check("set_log_level")
    def _():
        eq(e.text("set", "log", "level", "debug"), "log level debug\n", "set log level debug")
        eq(e.json("set", "log", "level", "warn"), {}, "set log level warn --json")

    @t.check("help")
    def _():
        got = e.text("help")
        lines = got.splitlines()
        known = HELP_KNOWN.splitlines()
        eq([ln for ln in lines if ln in known], known, "help: the lines of the commands this test knows, in order")
        table = nved_command_table()
        expect(table and len(table) >= len(known), "cannot read nved's table from control/ctl/command_table.cc")
        eq(got, help_text(table), "help (one line per entry of control/ctl/command_table.cc)")
        eq(e.json("help"), {}, "help --json")

    # ---- clear counters (also resets port statistics) ----
    @t.check("clear_counters")
    def _():
        eq(e.text("clear", "counters"), "counters cleared\n", "clear counters")
        eq(e.json("clear", "counters"), {}, "clear counters --json")

    @t.check("counters_after_clear")
    def _():
        eq(e.text("show", "counters"), "%-34s%20d\n" % ("drops (all reasons)", 0), "show counters after clear")
        check_counter_json(e.json("show", "counters"), {}, "show counters --json after clear")
        check_counter_json(e.json("show", "counters", "worker", "0"), {}, "show counters worker 0 --json after clear")

    @t.check("port_stats_after_clear")
    def _():
        # the first show since the clear: no interval yet
        check_stats_json(e.json("show", "port", "stats", "all"), [stats_json(0, 0, 0, 0, 0), stats_json(1, 0, 0, 0, 0)],
                         True, "show port stats all --json after clear")
        lines_match(e.text("show", "port", "stats", "all"), port_block(0, 0, 0, 0, 0) + port_block(1, 0, 0, 0, 0),
                    "show port stats all after clear")
        eq(e.json("show", "port", "xstats", "1").get("tx_good_packets"), 0, "port 1 tx_good_packets after clear")

    @t.check("workers_and_metrics_after_clear")
    def _():
        w = e.json("show", "workers")[0]
        eq([w["rx_packets"], w["tx_packets"]], [0, 0], "show workers rx/tx after clear")
        text = e.text("show", "metrics")
        for ln in ('nve_packets_total{worker="0",outcome="rx_packets"} 0',
                   'nve_packets_total{worker="0",outcome="encap_ipv4_in_ipv4"} 0',
                   'nve_port_rx_packets_total{port="0",name="fabric",role="fabric"} 0',
                   'nve_port_tx_bytes_total{port="1",name="vms",role="access"} 0'):
            expect(ln in text.splitlines(), "show metrics after clear has no line %r" % ln)
        eq(e.json("show", "routes", MOVED_VM)[0]["hits"], N_MOVED, "route hits (not counters) after clear")

    # ---- last: a malformed request must not take nved down ----
    @t.check("socket_non_boolean_read_only")
    def _():
        before = e.json("show", "route-table")["version"]
        data = e.raw(b'{"command": "clear counters", "read_only": "yes"}\n')
        alive = e.ctl("show", "version", opts=("-t", "2000"))
        if alive[0] != 0:
            state["nved_died"] = "socket_non_boolean_read_only"
        expect(alive[0] == 0, "nved stopped answering after {\"command\": \"clear counters\", \"read_only\": \"yes\"}"
               " (answer %r; nvectl show version: exit %d, %r); nved log:\n%s"
               % (data, alive[0], alive[2].strip(), nved_log_tail(e, 3)))
        try:
            j = json.loads(data)
        except ValueError:
            raise Fail("answer is not JSON: %r" % data)
        eq(j.get("ok"), False, "ok for a non-boolean read_only")
        eq(e.json("show", "route-table")["version"], before, "table version")

    return state


# --------------------------------------------------------------------------

def on_sigterm(_signum, _frame):
    raise Terminated()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nved", required=True, help="path of the nved binary")
    ap.add_argument("--nvectl", required=True, help="path of the nvectl binary")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    args.nved, args.nvectl = os.path.abspath(args.nved), os.path.abspath(args.nvectl)
    for p in (args.nved, args.nvectl):
        if not os.access(p, os.X_OK):
            sys.exit("test_nvectl.py: %s is not an executable" % p)
    signal.signal(signal.SIGTERM, on_sigterm)

    t0 = time.monotonic()
    t_start_ns = time.time_ns()
    t = Results()
    prefix = "nvcli%d" % os.getpid()
    tmp = tempfile.mkdtemp(prefix="nvcli_", dir="/tmp")
    e = Env(args, prefix, tmp)
    proc = None
    state = {}
    interrupted = False
    try:
        with open(os.path.join(tmp, "nved.yaml"), "w") as f:
            f.write(CONFIG_TEXT)
        frames = make_frames()
        in0, in1 = os.path.join(tmp, "in0.pcap"), os.path.join(tmp, "in1.pcap")
        write_pcap(in0, frames)
        write_pcap(in1, [])
        proc = start_nved(e, in0, in1)
        ready = []

        @t.check("nved_ready")
        def _():
            wait_ready(e, proc)
            ready.append(True)

        if ready:
            state = run_checks(t, e, frames, t_start_ns)
    except (KeyboardInterrupt, Terminated):
        interrupted = True
        print("interrupted", flush=True)
    finally:
        if proc is not None:
            was_running = proc.poll() is None
            rc, secs, killed = stop_nved(proc)
            if not interrupted:
                if state.get("nved_died"):
                    t.skip("nved_stops_on_sigterm", "nved had already stopped (status %d, see %s)"
                           % (rc, state["nved_died"]))
                elif not was_running:
                    t.fail("nved_stops_on_sigterm", "nved had already exited with status %d; log:\n%s"
                           % (rc, nved_log_tail(e, 5)))
                elif killed:
                    t.fail("nved_stops_on_sigterm", "nved ignored SIGTERM for %d s and was killed" % STOP_TIMEOUT_S)
                elif rc != 0:
                    t.fail("nved_stops_on_sigterm", "nved exited with status %d after SIGTERM; log:\n%s"
                           % (rc, nved_log_tail(e, 5)))
                else:
                    t.ok("nved_stops_on_sigterm")
        shutil.rmtree("/var/run/dpdk/%s" % prefix, ignore_errors=True)
        if (t.failed or interrupted or args.keep) and os.path.isdir(tmp):
            print("(files kept in %s)" % tmp, flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("(%.1f s)" % (time.monotonic() - t0), flush=True)
    failed = t.failed + (1 if interrupted else 0)
    print("%d passed, %d failed%s" % (t.passed, failed, ", %d skipped" % t.skipped if t.skipped else ""),
          flush=True)
    if interrupted:
        return 130
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
