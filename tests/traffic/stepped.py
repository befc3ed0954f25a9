"""Traffic scenarios with steps: packets, then a change, then packets again.

A scenario whose test.yaml has `steps:` runs nved on net_pcap ports that read
live from veth interfaces in a network namespace of its own (rx_iface_in)
and write what they send to pcap files, as the plain scenarios do. Each step
is one of:

  - send: K          inject in-K-<i>.pcap on port i (every port with such a
                     file), then wait until nved has received them all and
                     its counters have settled
  - cli: WORDS       run `nvectl WORDS` against this nved; it must succeed
    output: TEXT     (optional) and print exactly this
    fails: true      (optional) it must fail instead (exit status 1 or 2)
  - counters: {...}  these totals, now (a subset: others are not checked)
  - cli: WORDS       (any cli step) with
    until: REGEX     runs again until its output matches (within 10 s):
                     for what happens asynchronously, like a notification
  - peer: WORDS      like cli, against the peer NVE (below); output, fails
                     and until apply too

`nvad: true` in test.yaml: the nved under test registers its VMs with a
real nvad, and a second, real nved is there to take them over (the peer
NVE, 198.51.100.2, its ports reading empty pcaps). The runner appends the
agent section to a copy of the scenario's nved.yaml (agent 127.0.0.11, the
peer's 127.0.0.12, nvad 127.0.0.1, on the namespace's loopback, fresh keys).
A VM that the peer activates (`peer: vm activate ...`) has moved: nvad sends
the move notification to the nved under test, whose agent installs the
tunnel, exactly as in production. nvad and the peer are stopped by PID on
every path.

At the end nved is stopped with SIGTERM, and the outputs, counters and tshark
are checked exactly as for a plain scenario: expect-<i>.pcap holds port i's
whole output in order, so the packets before and after each change are
compared byte for byte.

Injection: the runner writes every frame of a pcap with one AF_PACKET socket
on the sender end of the veth (run inside the namespace by this same file,
`python3 stepped.py --inject IFACE PCAP`). IPv6 is disabled on both ends so
the kernel adds nothing of its own.
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time

READY_TIMEOUT_S = 15
SETTLE_TIMEOUT_S = 10
STOP_TIMEOUT_S = 10
STEP_KEYS = {"send", "cli", "peer", "output", "fails", "until", "counters"}
UNTIL_TIMEOUT_S = 10
NVAD_ADDR, AGENT_ADDR, PEER_AGENT_ADDR, PROTOCOL_PORT = "127.0.0.1", "127.0.0.11", "127.0.0.12", 61434
PEER_NVE = "198.51.100.2"


class StepFail(Exception):
    pass


def sh(*cmd, check=True):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    if check and r.returncode != 0:
        raise StepFail("%s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stdout.decode(errors="replace").strip()))
    return r


def validate_steps(steps, nvad):
    if not isinstance(steps, list) or not steps:
        raise StepFail("test.yaml: steps must be a non-empty list")
    for i, s in enumerate(steps):
        if not isinstance(s, dict) or not set(s) <= STEP_KEYS:
            raise StepFail("test.yaml: step %d: expected one of send, cli, counters (got %r)" % (i + 1, s))
        kinds = [k for k in ("send", "cli", "peer", "counters") if k in s]
        if len(kinds) != 1:
            raise StepFail("test.yaml: step %d: exactly one of send, cli, peer, counters" % (i + 1))
        if ("output" in s or "fails" in s or "until" in s) and "cli" not in s and "peer" not in s:
            raise StepFail("test.yaml: step %d: output/fails/until belong to a cli or peer step" % (i + 1))
        if "peer" in s and not nvad:
            raise StepFail("test.yaml: step %d: a peer step needs nvad: true" % (i + 1))


class Bed:
    """A namespace with one veth pair per port: p<i> for nved, s<i> to send."""

    def __init__(self, nports):
        self.ns = "nvtt%d" % os.getpid()
        self.nports = nports

    def __enter__(self):
        sh("ip", "netns", "add", self.ns)
        try:
            self.ip("link", "set", "lo", "up")
            for i in range(self.nports):
                self.ip("link", "add", "p%d" % i, "type", "veth", "peer", "name", "s%d" % i)
                for end in ("p%d" % i, "s%d" % i):
                    sh("ip", "netns", "exec", self.ns, "sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % end)
                    self.ip("link", "set", end, "up")
        except BaseException:
            self.__exit__()
            raise
        return self

    def ip(self, *args):
        return sh("ip", "-n", self.ns, *args)

    def __exit__(self, *exc):
        sh("ip", "netns", "del", self.ns, check=False)


def nvectl_json(e, *words):
    r = subprocess.run([e.nvectl, "-s", e.sock, "-j", "-t", "5000"] + list(words), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    if r.returncode != 0:
        raise StepFail("nvectl %s: exit %d: %s" % (" ".join(words), r.returncode, r.stderr.decode().strip()))
    return json.loads(r.stdout)


def totals(e):
    return nvectl_json(e, "show", "counters")["counters"]


class Env:
    pass


def count_frames(path):
    from run import read_pcap  # the runner's reader, so both agree on the format
    return len(read_pcap(path)) if os.path.isfile(path) else 0


def wait_ready(e, proc, log_path):
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StepFail("nved exited with status %d at start; log %s" % (proc.returncode, log_path))
        if os.path.exists(e.sock):
            try:
                totals(e)
                return
            except StepFail:
                pass
        time.sleep(0.1)
    raise StepFail("nved did not answer within %d s; log %s" % (READY_TIMEOUT_S, log_path))


def settle(e, want_rx):
    """Waits until nved received want_rx packets in all and its counters
    stopped moving (the worker handles a burst whole before the next poll)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    last = None
    while time.monotonic() < deadline:
        now = totals(e)
        if now.get("rx_packets") == want_rx and now == last:
            return now
        last = now
        time.sleep(0.05)
    raise StepFail("nved's counters did not settle at rx_packets = %d within %d s (last: %s)"
                   % (want_rx, SETTLE_TIMEOUT_S, {k: v for k, v in (last or {}).items() if v}))


def run_steps(e, sdir, steps, bed):
    sent = 0
    for n, step in enumerate(steps, 1):
        where = "step %d (%s)" % (n, ", ".join("%s: %s" % kv for kv in step.items()))
        if "send" in step:
            k = step["send"]
            batch = 0
            for i in range(bed.nports):
                pcap = os.path.join(sdir, "in-%s-%d.pcap" % (k, i))
                frames = count_frames(pcap)
                if not frames:
                    continue
                sh("ip", "netns", "exec", bed.ns, sys.executable, os.path.abspath(__file__), "--inject", "s%d" % i,
                   pcap)
                batch += frames
            if not batch:
                raise StepFail("%s: no in-%s-<port>.pcap with packets (run gen.py?)" % (where, k))
            sent += batch
            settle(e, sent)
        elif "cli" in step or "peer" in step:
            words = (step.get("cli") or step["peer"]).split()
            sock = e.sock if "cli" in step else e.peer_sock
            deadline = time.monotonic() + UNTIL_TIMEOUT_S
            while True:
                r = subprocess.run([e.nvectl, "-s", sock, "-t", "5000"] + words, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
                out = r.stdout.decode(errors="replace")
                if "until" not in step or re.search(step["until"], out) or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            if "until" in step and not re.search(step["until"], out):
                raise StepFail("%s: output never matched /%s/ within %d s; last %r"
                               % (where, step["until"], UNTIL_TIMEOUT_S, out))
            if step.get("fails"):
                if r.returncode == 0:
                    raise StepFail("%s: succeeded, expected a failure; output %r" % (where, out))
            elif r.returncode != 0:
                raise StepFail("%s: exit %d: %s" % (where, r.returncode, r.stderr.decode(errors="replace").strip()))
            if "output" in step and out != step["output"]:
                raise StepFail("%s: output %r, expected %r" % (where, out, step["output"]))
        else:
            now = totals(e)
            wrong = {k: now.get(k) for k, v in step["counters"].items() if now.get(k) != v}
            if wrong:
                raise StepFail("%s: counters now %s" % (where, wrong))


def write_secret(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def agent_section(tmp, listen, keys):
    return """agent:
  nvad: %s
  nvad_port: %d
  listen: %s
  listen_port: %d
  key_file: %s
  retransmit_initial_ms: 200
  retransmit_max_ms: 2000
""" % (NVAD_ADDR, PROTOCOL_PORT, listen, PROTOCOL_PORT, keys)


def write_control_plane(sdir, tmp):
    """nvad's configuration and keys, the nved under test's configuration
    with its agent, and the peer NVE's; returns the nved configuration path."""
    key_a, key_b = secrets.token_hex(32), secrets.token_hex(32)
    write_secret(os.path.join(tmp, "nvad.keys"), "%s 1 %s\n%s 1 %s\n" % (AGENT_ADDR, key_a, PEER_AGENT_ADDR, key_b))
    write_secret(os.path.join(tmp, "a.keys"), "%s 1 %s\n" % (NVAD_ADDR, key_a))
    write_secret(os.path.join(tmp, "peer.keys"), "%s 1 %s\n" % (NVAD_ADDR, key_b))
    with open(os.path.join(sdir, "nved.yaml")) as f:
        mine = f.read()
    nve_line = re.search(r"^nve:\s*\{(.*)\}", mine, re.M)
    own = re.findall(r"ipv[46]:\s*\"?([0-9a-fA-F.:]+)", nve_line.group(1)) if nve_line else []
    if not own:
        raise StepFail("nvad: true needs nve: {ipv4: ..., ipv6: ...} on one line in nved.yaml (nvad's peer endpoints)")
    with open(os.path.join(tmp, "nvad.yaml"), "w") as f:
        f.write("""listen: {addresses: [%s], port: %d}
key_file: %s
db_path: %s
notifications: {initial_timeout: 200ms, max_timeout: 2s, retries: 6}
peers:
  - {address: %s, endpoints: [%s]}
  - {address: %s, endpoints: [%s]}
log: {level: info}
""" % (NVAD_ADDR, PROTOCOL_PORT, os.path.join(tmp, "nvad.keys"), os.path.join(tmp, "nvad.db"), AGENT_ADDR,
           ", ".join('"%s"' % a for a in own), PEER_AGENT_ADDR, PEER_NVE))
    config = os.path.join(tmp, "nved.yaml")
    with open(config, "w") as f:
        f.write(mine.rstrip("\n") + "\n" + agent_section(tmp, AGENT_ADDR, os.path.join(tmp, "a.keys")))
    with open(os.path.join(tmp, "peer.yaml"), "w") as f:
        f.write("""ports:
  - {name: fabric, role: fabric, port_id: 0}
  - {name: vms, role: access, port_id: 1}
nve: {ipv4: %s}
fabric_gateway: {mac: "02:00:00:00:00:fe"}
default_action: drop
route_table: {capacity: 1024}
workers: {mbufs: 2047, idle_sleep_us: 1000}
""" % PEER_NVE + agent_section(tmp, PEER_AGENT_ADDR, os.path.join(tmp, "peer.keys")))
    return config


def start_control_plane(args, e, bed, tmp, procs):
    """nvad, then the peer NVE; both in the scenario's namespace."""
    log_path = os.path.join(tmp, "nvad.log")
    with open(log_path, "wb") as log:
        procs["nvad"] = subprocess.Popen(["ip", "netns", "exec", bed.ns, args.nvad, "-c", os.path.join(tmp, "nvad.yaml"),
                                          "--ctl-socket", os.path.join(tmp, "nvad.sock")],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while "listening on" not in open(log_path, errors="replace").read():
        if procs["nvad"].poll() is not None or time.monotonic() > deadline:
            raise StepFail("nvad did not start (status %s); log %s" % (procs["nvad"].poll(), log_path))
        time.sleep(0.05)
    empty = os.path.join(tmp, "peer-empty.pcap")
    with open(empty, "wb") as f:
        f.write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
    e.peer_sock = os.path.join(tmp, "peer.sock")
    cmd = ["ip", "netns", "exec", bed.ns, args.nved, "-l", "0,1", "--no-huge", "-m", "256", "--no-pci",
           "--file-prefix", e.peer_prefix, "--log-level", "warn"]
    for i in range(2):
        cmd += ["--vdev", "net_pcap%d,rx_pcap=%s,tx_pcap=%s" % (i, empty, os.path.join(tmp, "peer-out-%d.pcap" % i))]
    cmd += ["--", "-c", os.path.join(tmp, "peer.yaml"), "--ctl-socket", e.peer_sock]
    peer_log = os.path.join(tmp, "peer.log")
    with open(peer_log, "wb") as log:
        procs["peer"] = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    peer = Env()
    peer.nvectl, peer.sock = e.nvectl, e.peer_sock
    wait_ready(peer, procs["peer"], peer_log)


def run(args, name, sdir, tmp, nports, steps, nvad=False):
    """Runs a stepped scenario; nved's outputs and counters JSON land in tmp
    as for a plain scenario. Raises StepFail."""
    validate_steps(steps, nvad)
    e = Env()
    e.nvectl = args.nvectl
    e.sock = os.path.join(tmp, "nved.sock")
    e.peer_prefix = "nvtt_%s_peer_%d" % (name, os.getpid())
    config = write_control_plane(sdir, tmp) if nvad else os.path.join(sdir, "nved.yaml")
    procs = {}
    prefix = "nvtt_%s_%d" % (name, os.getpid())
    log_path = os.path.join(tmp, "nved.log")
    with Bed(nports) as bed:
        cmd = ["ip", "netns", "exec", bed.ns, args.nved, "-l", "0,1", "--no-huge", "-m", "256", "--no-pci",
               "--file-prefix", prefix, "--log-level", "warn"]
        for i in range(nports):
            cmd += ["--vdev", "net_pcap%d,rx_iface_in=p%d,tx_pcap=%s" % (i, i, os.path.join(tmp, "out-%d.pcap" % i))]
        cmd += ["--", "-c", config, "--ctl-socket", e.sock,
                "--counters-json", os.path.join(tmp, "counters.json")]
        with open(os.path.join(tmp, "command"), "w") as f:
            f.write(" ".join(cmd) + "\n")
        proc = None
        try:
            if nvad:
                start_control_plane(args, e, bed, tmp, procs)
            with open(log_path, "wb") as log:
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            wait_ready(e, proc, log_path)
            run_steps(e, sdir, steps, bed)
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                raise StepFail("nved ignored SIGTERM for %d s" % STOP_TIMEOUT_S)
            if rc != 0:
                raise StepFail("nved exited with status %d; log %s" % (rc, log_path))
        finally:
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
            for p in procs.values():  # the peer NVE and nvad: SIGTERM, then SIGKILL
                if p.poll() is None:
                    p.terminate()
                    try:
                        p.wait(timeout=STOP_TIMEOUT_S)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()
            from run import dpdk_runtime_dirs  # the runner's list, so both clean up alike
            for d in dpdk_runtime_dirs(prefix) + (dpdk_runtime_dirs(e.peer_prefix) if nvad else []):
                shutil.rmtree(d, ignore_errors=True)


def inject(iface, pcap):
    """Writes every frame of pcap on iface (run inside the namespace)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from run import read_pcap
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for frame in read_pcap(pcap):
        s.send(frame)
    s.close()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--inject":
        inject(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: stepped.py --inject IFACE PCAP (used by run.py)")
