"""What the nvad-on-etcd end-to-end tests share (issue 18): their processes,
stopped by PID on every path; their results; an etcd cluster on loopback
(plain or TLS with client certificates); key files; the run of a test with
its scratch directory, kept only when something failed.

log() and wait_until() are vm_namespace_test's, as in the other e2e tests.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vm_namespace_test as base  # noqa: E402  (log, wait_until)

log, wait_until = base.log, base.wait_until


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nvad_json(nvectl, socket_path, *words):
    """nvad's JSON answer to `nvectl -d nvad WORDS`, or None if it gave none."""
    r = subprocess.run([nvectl, "-d", "nvad", "-s", socket_path, "--json"] + list(words),
                       capture_output=True, text=True, timeout=30)
    try:
        return json.loads(r.stdout) if r.returncode == 0 else None
    except ValueError:
        return None


def write_key_file(path, peers, key):
    """One line per peer with the same key, mode 0600 as nvad and nved want."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.writelines("%s 1 %s\n" % (peer, key) for peer in peers)


class Procs:
    """Every process a test starts, by name, its output in <tmp>/<name>.log."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = {}

    def start(self, name, argv):
        out = open(os.path.join(self.tmp, name + ".log"), "ab")
        self.procs[name] = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        return self.procs[name]

    def stop(self, name, sig=signal.SIGTERM):
        """Signals the process and waits (10 s, then SIGKILL); its exit code."""
        p = self.procs.get(name)
        if p and p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode if p else None

    def alive(self, name):
        p = self.procs.get(name)
        return p is not None and p.poll() is None

    def log_tail(self, name, n=15):
        try:
            with open(os.path.join(self.tmp, name + ".log"), errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop_all(self):
        for name in list(self.procs):
            self.stop(name)


class Results:
    def __init__(self):
        self.passed, self.failed = 0, 0

    def check(self, name, ok, detail):
        log("%s %s: %s" % ("PASS" if ok else "FAIL", name, detail))
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok

    def ok(self):
        return self.failed == 0 and self.passed > 0


class Etcd:
    """`members` etcd members on loopback, each with its own ports and data
    directory. With `tls` (a dict of PEM paths: ca, server_cert, server_key,
    client_cert, client_key) the client URLs are https and members require
    client certificates (--client-cert-auth); etcdctl here presents the
    client's."""

    def __init__(self, procs, tmp, members=3, tls=None):
        self.procs, self.tmp, self.tls = procs, tmp, tls
        self.members = [{"name": "m%d" % i, "client": free_port(), "peer": free_port()} for i in range(members)]
        self.token = "nvmove-%d" % os.getpid()

    def endpoint(self, i):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.members[i]["client"])

    def endpoints(self):
        return [self.endpoint(i) for i in range(len(self.members))]

    def start(self, i):
        m = self.members[i]
        cluster = ",".join("%s=http://127.0.0.1:%d" % (x["name"], x["peer"]) for x in self.members)
        argv = ["etcd", "--name", m["name"], "--data-dir", os.path.join(self.tmp, "etcd-" + m["name"]),
                "--listen-client-urls", self.endpoint(i), "--advertise-client-urls", self.endpoint(i),
                "--listen-peer-urls", "http://127.0.0.1:%d" % m["peer"],
                "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % m["peer"],
                "--initial-cluster", cluster, "--initial-cluster-token", self.token,
                "--initial-cluster-state", "new", "--log-level", "warn"]
        if self.tls:
            argv += ["--cert-file", self.tls["server_cert"], "--key-file", self.tls["server_key"],
                     "--client-cert-auth", "--trusted-ca-file", self.tls["ca"]]
        self.procs.start("etcd-" + m["name"], argv)

    def start_all(self, timeout=30):
        """Every member started; True once each says it is healthy."""
        for i in range(len(self.members)):
            self.start(i)
        return wait_until(lambda: all(self.healthy(i) for i in range(len(self.members))), timeout)

    def kill(self, i):
        self.procs.stop("etcd-" + self.members[i]["name"], signal.SIGKILL)

    def etcdctl(self, *words, endpoints=None):
        argv = ["etcdctl", "--endpoints", ",".join(endpoints or self.endpoints())]
        if self.tls:
            argv += ["--cacert", self.tls["ca"], "--cert", self.tls["client_cert"], "--key", self.tls["client_key"]]
        return subprocess.run(argv + list(words), env=dict(os.environ, ETCDCTL_API="3"),
                              capture_output=True, text=True, timeout=10)

    def healthy(self, i):
        return self.etcdctl("endpoint", "health", endpoints=[self.endpoint(i)]).returncode == 0

    def keys(self, prefix):
        return self.etcdctl("get", "--prefix", prefix, "--keys-only").stdout.split()


def main(run, tmp_prefix, tools=("etcd", "etcdctl"), show_logs=()):
    """Runs run(tmp, procs, res) in a scratch directory; every process is
    stopped by PID whatever happens; on a failure the logs named in
    `show_logs` are printed and the directory is kept. Exit status 0 when
    every check passed."""
    for tool in tools:
        if not shutil.which(tool):
            print("%s is not installed (scripts/setup.sh installs it)" % tool)
            return 1
    tmp = tempfile.mkdtemp(prefix=tmp_prefix, dir="/tmp")
    procs, res = Procs(tmp), Results()
    try:
        run(tmp, procs, res)
    except Exception as e:  # a broken step is a failure with its reason, never a hang or a stray process
        res.check("test", False, "%s: %s" % (type(e).__name__, e))
    finally:
        if res.failed:
            for name in show_logs:
                if name in procs.procs:
                    log("%s log (last lines):\n%s" % (name, procs.log_tail(name)))
        procs.stop_all()
    if res.failed:
        log("logs kept in %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    log("%d passed, %d failed" % (res.passed, res.failed))
    return 0 if res.ok() else 1
