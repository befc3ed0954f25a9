#!/usr/bin/python3
"""testpmd-style traffic tests for nved.

Every folder tests/traffic/NNN_name/ is one scenario:

  test.yaml        ports: N (DPDK ports, port 0 = fabric), description, and
                   counters: {name: exact value}; every other counter in the
                   JSON counters must be 0
  nved.yaml        nved's configuration
  in-<i>.pcap      what port i receives (one file per port, maybe empty)
  expect-<i>.pcap  what port i must send, packet by packet, byte for byte
  gen.py           regenerates the pcaps (scapy, see lib/nvtraffic.py)

For each scenario nved runs on net_pcap ports until idle, then its output
pcaps and counters are compared with the expectation and, with --tshark,
every output frame is dissected by tshark with checksum validation: any
malformed frame, error-level expert item or bad checksum fails the scenario.

A scenario whose test.yaml has `steps:` interleaves sending packets with
nvectl commands and counter checks while nved runs (stepped.py).

Usage: /usr/bin/python3 tests/traffic/run.py --nved build/control/nved/nved
           --nvectl build/control/nvectl/nvectl [--tshark] [scenario ...]
A scenario may be named by folder name (001_local_delivery_ipv4), number
(001) or name without the number (local_delivery_ipv4).
"""

import argparse
import difflib
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile

import yaml

import stepped

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO_RE = re.compile(r"^(\d{3})_([A-Za-z0-9_]+)$")
NVED_TIMEOUT_S = 60
TSHARK_TIMEOUT_S = 120
IDLE_MS = 300
MAX_REPORTED_DIFFS = 4  # per port

# Any of these in an output frame fails the scenario. Wireshark rates a bad
# ICMP/ICMPv6 checksum only a warning, hence the checksum group term.
TSHARK_FILTER = '_ws.expert.severity >= "Error" || _ws.malformed || _ws.expert.group == "Checksum"'
TSHARK_PREFS = ["-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                "-o", "tcp.check_checksum:TRUE"]

TEST_YAML_KEYS = {"ports", "description", "counters", "steps", "nvad"}


class Fail(Exception):
    """A scenario failed; the message says why."""


class Terminated(BaseException):
    """SIGTERM: stop like Ctrl-C (cleanup runs, nved is killed)."""


# --------------------------------------------------------------------------
# pcap files (read and written here, so raw bytes never go through a
# dissector)
# --------------------------------------------------------------------------

def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise Fail("%s: not a pcap file (%d bytes)" % (path, len(data)))
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise Fail("%s: not a pcap file (magic %s)" % (path, magic.hex()))
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0xFFFF
    if linktype != 1:
        raise Fail("%s: link type %d, expected 1 (Ethernet)" % (path, linktype))
    frames = []
    off = 24
    while off < len(data):
        if off + 16 > len(data):
            raise Fail("%s: truncated record header after packet %d" % (path, len(frames)))
        _sec, _frac, caplen, wirelen = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        if off + caplen > len(data):
            raise Fail("%s: packet %d cut short" % (path, len(frames)))
        if caplen != wirelen:
            raise Fail("%s: packet %d captured %d of %d bytes" % (path, len(frames), caplen, wirelen))
        frames.append(data[off:off + caplen])
        off += caplen
    return frames


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for fr in frames:
            f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)))
            f.write(fr)


# --------------------------------------------------------------------------
# Describing packets
# --------------------------------------------------------------------------

_scapy = None


def scapy_ether():
    global _scapy
    if _scapy is None:
        import logging
        logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
        import scapy.all  # noqa: F401  slow; binds every layer (IPv6, ARP, SCTP...) for dissection
        from scapy.layers.l2 import Ether
        _scapy = Ether
    return _scapy


def show2(frame):
    """scapy show2() of a frame, long lines shortened."""
    if len(frame) < 14:
        return ["<%d bytes, shorter than an Ethernet header: %s>" % (len(frame), frame.hex())]
    try:
        text = scapy_ether()(frame).show2(dump=True)
    except Exception as e:  # a dissector bug must not hide the real failure
        return ["<scapy could not dissect: %s>" % e]
    lines = []
    for ln in text.rstrip("\n").split("\n"):
        lines.append(ln if len(ln) <= 110 else ln[:107] + "...")
    return lines


def hexrows(frame, rows):
    out = []
    for r in rows:
        chunk = frame[r * 16:r * 16 + 16]
        out.append("%04x  %s" % (r * 16, " ".join("%02x" % b for b in chunk)))
    return out


def describe_diff(port, idx, got, exp):
    first = next((i for i in range(min(len(got), len(exp))) if got[i] != exp[i]), min(len(got), len(exp)))
    lines = ["port %d packet %d differs: expected %d bytes, got %d bytes; first difference at offset %d (0x%x)"
             % (port, idx, len(exp), len(got), first, first)]
    nrows = (max(len(got), len(exp)) + 15) // 16
    diff_rows = [r for r in range(nrows) if got[r * 16:r * 16 + 16] != exp[r * 16:r * 16 + 16]]
    shown = diff_rows[:8]
    for r in shown:
        lines.append("  expected " + hexrows(exp, [r])[0])
        lines.append("  got      " + hexrows(got, [r])[0])
    if len(diff_rows) > len(shown):
        lines.append("  ... %d more differing 16-byte rows" % (len(diff_rows) - len(shown)))
    e_show, g_show = show2(exp), show2(got)
    lines.append("  field diff (scapy show2, - expected, + got):")
    for ln in difflib.unified_diff(e_show, g_show, lineterm="", n=1):
        if ln.startswith(("---", "+++")):
            continue
        lines.append("    " + ln)
    lines.append("  expected (show2):")
    lines += ["    " + ln for ln in e_show]
    lines.append("  got (show2):")
    lines += ["    " + ln for ln in g_show]
    return lines


def compare_port(port, got, exp):
    problems = []
    n = max(len(got), len(exp))
    for i in range(n):
        if i < len(got) and i < len(exp) and got[i] == exp[i]:
            continue
        if len(problems) >= MAX_REPORTED_DIFFS:
            problems.append(["port %d: more differences after packet %d not shown (expected %d packets, got %d)"
                             % (port, i, len(exp), len(got))])
            break
        if i >= len(got):
            problems.append(["port %d packet %d missing (expected %d packets, got %d):" % (port, i, len(exp), len(got))]
                            + ["    " + ln for ln in show2(exp[i])])
        elif i >= len(exp):
            problems.append(["port %d packet %d unexpected (expected %d packets, got %d):" % (port, i, len(exp), len(got))]
                            + ["    " + ln for ln in show2(got[i])])
        else:
            problems.append(describe_diff(port, i, got[i], exp[i]))
    return problems


# --------------------------------------------------------------------------
# tshark
# --------------------------------------------------------------------------

def tshark_flagged(pcap):
    """[(frame number, expert messages)] of frames tshark finds broken."""
    cmd = ["tshark", "-n", "-r", pcap] + TSHARK_PREFS + [
        "-Y", TSHARK_FILTER, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=;",
        "-e", "frame.number", "-e", "_ws.expert.message", "-e", "_ws.col.Protocol"]
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TSHARK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise Fail("tshark did not finish within %d s on %s" % (TSHARK_TIMEOUT_S, pcap))
    if r.returncode != 0:
        err = "\n".join(ln for ln in r.stderr.decode(errors="replace").splitlines()
                        if "Running as user" not in ln and "could be dangerous" not in ln)
        raise Fail("tshark failed (exit %d) on %s: %s" % (r.returncode, pcap, err.strip()))
    out = []
    for ln in r.stdout.decode(errors="replace").splitlines():
        if not ln.strip():
            continue
        parts = ln.split("\t")
        out.append((int(parts[0]), " | ".join(p for p in parts[1:] if p)))
    return out


def tshark_self_test(tmp):
    """Proves the tshark check can fail: one good frame, then a bad IPv4
    header checksum, a bad UDP checksum and a bad ICMP checksum."""
    def csum(b):
        s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        return ~s & 0xFFFF

    def ipv4(proto, l4):
        h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64, proto, 0,
                                  bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])))
        h[10:12] = struct.pack("!H", csum(bytes(h)))
        return bytes(h) + l4

    eth = bytes.fromhex("020000000002020000000001") + b"\x08\x00"
    pseudo = bytes([10, 0, 0, 1, 10, 0, 0, 2, 0, 17, 0, 12])
    udp = bytearray(struct.pack("!HHHH", 1000, 2000, 12, 0) + b"abcd")
    udp[6:8] = struct.pack("!H", csum(pseudo + bytes(udp)))
    icmp = bytearray(struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"abcd")
    icmp[2:4] = struct.pack("!H", csum(bytes(icmp)))
    good = eth + ipv4(17, bytes(udp))
    bad_ip = bytearray(good)
    bad_ip[14 + 10] ^= 0x5A
    bad_udp = bytearray(good)
    bad_udp[14 + 20 + 6] ^= 0x5A
    bad_icmp = bytearray(eth + ipv4(1, bytes(icmp)))
    bad_icmp[14 + 20 + 2] ^= 0x5A
    path = os.path.join(tmp, "tshark-self-test.pcap")
    write_pcap(path, [good, eth + ipv4(1, bytes(icmp)), bytes(bad_ip), bytes(bad_udp), bytes(bad_icmp)])
    flagged = sorted(n for n, _ in tshark_flagged(path))
    if flagged != [3, 4, 5]:
        raise Fail("tshark flags frames %s of the self-test capture, expected [3, 4, 5] "
                   "(good UDP, good ICMP, bad IPv4/UDP/ICMP checksums): the check would not catch errors"
                   % flagged)


# --------------------------------------------------------------------------
# One scenario
# --------------------------------------------------------------------------

def load_test_yaml(sdir):
    path = os.path.join(sdir, "test.yaml")
    try:
        with open(path) as f:
            t = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        raise Fail("cannot read test.yaml: %s" % e)
    if not isinstance(t, dict):
        raise Fail("test.yaml: expected a mapping")
    unknown = set(t) - TEST_YAML_KEYS
    if unknown:
        raise Fail("test.yaml: unknown keys %s" % sorted(unknown))
    ports = t.get("ports")
    if not isinstance(ports, int) or isinstance(ports, bool) or not 1 <= ports <= 16:
        raise Fail("test.yaml: ports must be a number 1..16, got %r" % (ports,))
    counters = t.get("counters") or {}
    if not isinstance(counters, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
            for k, v in counters.items()):
        raise Fail("test.yaml: counters must map counter names to whole numbers")
    nvad = t.get("nvad", False)
    if not isinstance(nvad, bool) or (nvad and not t.get("steps")):
        raise Fail("test.yaml: nvad must be true or false, and true only with steps")
    return ports, counters, t.get("steps"), nvad


def dpdk_runtime_dirs(prefix):
    bases = ["/var/run/dpdk"] if os.geteuid() == 0 else []
    if os.environ.get("XDG_RUNTIME_DIR"):
        bases.append(os.path.join(os.environ["XDG_RUNTIME_DIR"], "dpdk"))
    bases.append("/tmp/dpdk")
    return [os.path.join(b, prefix) for b in bases]


def run_nved(nved, name, sdir, tmp, nports):
    prefix = "nvtt_%s_%d" % (name, os.getpid())
    cmd = [nved, "-l", "0,1", "--no-huge", "-m", "256", "--no-pci", "--file-prefix", prefix,
           "--log-level", "warn"]
    for i in range(nports):
        cmd += ["--vdev", "net_pcap%d,rx_pcap=%s,tx_pcap=%s"
                % (i, os.path.join(sdir, "in-%d.pcap" % i), os.path.join(tmp, "out-%d.pcap" % i))]
    cmd += ["--", "-c", os.path.join(sdir, "nved.yaml"), "--exit-when-idle", str(IDLE_MS),
            "--counters-json", os.path.join(tmp, "counters.json")]
    log_path = os.path.join(tmp, "nved.log")
    with open(os.path.join(tmp, "command"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    proc = None
    try:
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            try:
                rc = proc.wait(timeout=NVED_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                raise Fail("nved did not exit within %d s (log: %s)" % (NVED_TIMEOUT_S, log_path))
    finally:
        # Whatever happened (timeout, exception, Ctrl-C): kill it by PID, reap it.
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        for d in dpdk_runtime_dirs(prefix):
            shutil.rmtree(d, ignore_errors=True)
    if rc != 0:
        with open(log_path, "rb") as f:
            tail = f.read().decode(errors="replace").strip().splitlines()[-8:]
        raise Fail("nved exited with status %d; last lines of %s:\n    %s" % (rc, log_path, "\n    ".join(tail)))


def check_counters(tmp, want):
    path = os.path.join(tmp, "counters.json")
    try:
        with open(path) as f:
            totals = json.load(f)["counters"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise Fail("cannot read counters from %s: %s" % (path, e))
    problems = []
    for k in sorted(want):
        if k not in totals:
            problems.append("%s: no such counter in nved's totals" % k)
        elif totals[k] != want[k]:
            problems.append("%s = %d, expected %d" % (k, totals[k], want[k]))
    for k in sorted(totals):
        if k not in want and totals[k] != 0:
            problems.append("%s = %d, expected 0 (not listed in test.yaml)" % (k, totals[k]))
    return problems


def run_scenario(args, name, sdir):
    ports, want, steps, nvad = load_test_yaml(sdir)
    inputs = [] if steps else ["in-%d.pcap" % i for i in range(ports)]
    for f in ["nved.yaml"] + inputs + ["expect-%d.pcap" % i for i in range(ports)]:
        if not os.path.isfile(os.path.join(sdir, f)):
            raise Fail("missing %s (run gen.py?)" % f)
    if steps and not args.nvectl:
        raise Fail("a scenario with steps needs --nvectl")
    if nvad and not args.nvad:
        raise Fail("a scenario with nvad: true needs --nvad")
    if "," in sdir:
        raise Fail("scenario path %s contains a comma, which DPDK's --vdev cannot take" % sdir)
    tmp = tempfile.mkdtemp(prefix="nvtt_%s_" % name, dir="/tmp")
    try:
        if steps:
            try:
                stepped.run(args, name, sdir, tmp, ports, steps, nvad)
            except stepped.StepFail as e:
                raise Fail(str(e))
        else:
            run_nved(args.nved, name, sdir, tmp, ports)
        problems = []
        c = check_counters(tmp, want)
        if c:
            problems.append(["counters:"] + ["    " + x for x in c])
        outs = []
        for i in range(ports):
            out = os.path.join(tmp, "out-%d.pcap" % i)
            if not os.path.isfile(out):
                problems.append(["port %d: nved wrote no %s" % (i, out)])
                continue
            got = read_pcap(out)
            exp = read_pcap(os.path.join(sdir, "expect-%d.pcap" % i))
            problems += compare_port(i, got, exp)
            outs += [(i, k, fr) for k, fr in enumerate(got)]
        if args.tshark and outs:
            merged = os.path.join(tmp, "all-outputs.pcap")
            write_pcap(merged, [fr for _, _, fr in outs])
            for num, msg in tshark_flagged(merged):
                port, k, _ = outs[num - 1]
                problems.append(["tshark: port %d packet %d: %s" % (port, k, msg)])
    except Fail as e:
        raise Fail("%s\n    (files kept in %s)" % (e, tmp))
    except BaseException:
        print("    (scenario files kept in %s)" % tmp, flush=True)
        raise
    if problems:
        lines = [ln for p in problems for ln in p]
        raise Fail("\n    ".join(lines) + "\n    (outputs kept in %s)" % tmp)
    shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------

def discover():
    found = []
    for d in sorted(os.listdir(HERE)):
        m = SCENARIO_RE.match(d)
        if m and os.path.isdir(os.path.join(HERE, d)):
            found.append(d)
    return found


def select(all_names, wanted):
    if not wanted:
        return all_names
    chosen = []
    for w in wanted:
        w = w.rstrip("/").split("/")[-1]
        hits = [n for n in all_names if n == w or n[:3] == w or n[4:] == w]
        if not hits:
            sys.exit("run.py: no scenario named '%s' (have: %s)" % (w, ", ".join(all_names)))
        chosen += [h for h in hits if h not in chosen]
    return chosen


def on_sigterm(_signum, _frame):
    raise Terminated()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nved", required=True, help="path of the nved binary")
    ap.add_argument("--nvectl", help="path of the nvectl binary (scenarios with steps)")
    ap.add_argument("--nvad", help="path of the nvad binary (scenarios with nvad: true)")
    ap.add_argument("--tshark", action="store_true", help="also dissect every output frame with tshark")
    ap.add_argument("scenarios", nargs="*", help="scenario folders to run (default: all)")
    args = ap.parse_args()
    args.nved = os.path.abspath(args.nved)
    if args.nvectl:
        args.nvectl = os.path.abspath(args.nvectl)
    if not os.access(args.nved, os.X_OK):
        sys.exit("run.py: %s is not an executable" % args.nved)
    signal.signal(signal.SIGTERM, on_sigterm)

    names = select(discover(), args.scenarios)
    passed = failed = 0
    try:
        if args.tshark:
            if shutil.which("tshark") is None:
                sys.exit("run.py: --tshark given but tshark is not installed")
            tmp = tempfile.mkdtemp(prefix="nvtt_tshark_", dir="/tmp")
            try:
                # Not a scenario: reported only when it fails (then counted).
                tshark_self_test(tmp)
                shutil.rmtree(tmp, ignore_errors=True)
            except Fail as e:
                print("FAIL tshark_self_test: %s (files in %s)" % (e, tmp), flush=True)
                failed += 1
        for name in names:
            try:
                run_scenario(args, name, os.path.join(HERE, name))
                print("PASS %s" % name, flush=True)
                passed += 1
            except Fail as e:
                print("FAIL %s: %s" % (name, e), flush=True)
                failed += 1
            except Exception as e:  # a bug here must not hide the other scenarios
                print("FAIL %s: runner error %s: %s" % (name, type(e).__name__, e), flush=True)
                failed += 1
    except (KeyboardInterrupt, Terminated):
        print("interrupted", flush=True)
        print("%d passed, %d failed" % (passed, failed + 1), flush=True)
        return 130
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
