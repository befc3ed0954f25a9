#!/usr/bin/python3
"""nvad on an etcd that wants TLS and client certificates (issue 18, as etcd
runs in production): certificates made here with the openssl command (a CA,
etcd's server certificate for 127.0.0.1, nvad's client certificate), one etcd
member with --client-cert-auth.

  1. Configuration mistakes are exit 2 with the key named: a TLS file that is
     not there, cert_file without key_file, TLS files with an http endpoint.
  2. nvad with store.etcd.tls (ca_file, cert_file, key_file): elected, a
     registration accepted and stored in etcd.
  3. nvad with the CA but no client certificate: up, not serving, says why
     (show cluster), a registration answered 130; never a crash.
  4. nvad-migrate over TLS: with --cacert/--cert/--key it copies, without
     --cert it fails with exit 1.

Every process is stopped by PID on every path.
"""
import argparse
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from etcd_support import Etcd, free_port, main as run_test, nvad_json, wait_until, write_key_file  # noqa: E402

NVAD, NVE = "127.0.0.41", "127.0.0.42"
KEY = "ef" * 32


class Test:
    def __init__(self, args, tmp, procs, res):
        self.args, self.tmp = args, tmp
        self.procs, self.start, self.stop, self.check = procs, procs.start, procs.stop, res.check
        self.etcd = Etcd(procs, tmp, members=1, tls={
            "ca": self.path("ca.pem"), "server_cert": self.path("server.pem"), "server_key": self.path("server.key"),
            "client_cert": self.path("nvad.pem"), "client_key": self.path("nvad.key")})
        self.endpoint = self.etcd.endpoint(0)
        self.port = free_port(socket.SOCK_DGRAM)
        self.prefix = "/tls-%d/nvad/" % os.getpid()

    def path(self, name):
        return os.path.join(self.tmp, name)

    def openssl(self, *words):
        subprocess.run(["openssl"] + list(words), cwd=self.tmp, check=True, capture_output=True, timeout=30)

    def make_certificates(self):
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        self.openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=nvmove test CA")
        for name, usage in (("server", "serverAuth,clientAuth"), ("nvad", "clientAuth")):
            self.openssl("req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name)
            with open(self.path(name + ".ext"), "w") as f:
                f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=%s\n" % usage)
            self.openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                         "-out", name + ".pem", "-days", "1", "-extfile", name + ".ext")
        for f in ("nvad.key", "server.key", "ca.key"):
            os.chmod(self.path(f), 0o600)

    def config(self, name, endpoint=None, tls=None):
        write_key_file(self.path("nvad.keys"), [NVE], KEY)
        write_key_file(self.path("nve.keys"), [NVAD], KEY)
        tls_line = ("    tls: {%s}\n" % ", ".join("%s: %s" % kv for kv in tls.items())) if tls else ""
        with open(self.path(name), "w") as f:
            f.write("listen: {addresses: [%s], port: %d}\nkey_file: %s\n"
                    "store:\n  backend: etcd\n  etcd:\n    endpoints: [%s]\n    prefix: \"%s\"\n    timeout: 500ms\n%s"
                    "cluster: {name: tls, lease_ttl: 2s}\n" % (
                        NVAD, self.port, self.path("nvad.keys"), endpoint or self.endpoint, self.prefix, tls_line))
        return self.path(name)

    def nvad_check(self, config):
        return subprocess.run([self.args.nvad, "-c", config, "--check"], capture_output=True, text=True, timeout=30)

    def nvad(self, *words):
        return nvad_json(self.args.nvectl, self.path("nvad.sock"), *words)

    def register(self, vm):
        return subprocess.run([self.args.nve_register, "--nvad", NVAD, "--port", str(self.port), "--from", NVE,
                               "--keys", self.path("nve.keys"), "--endpoint", NVE, "--vm", vm,
                               "--mac", "02:00:00:00:20:01", "--addr", "10.2.0.1"],
                              capture_output=True, text=True, timeout=30)


def run(t):
    t.make_certificates()
    full = {"ca_file": t.path("ca.pem"), "cert_file": t.path("nvad.pem"), "key_file": t.path("nvad.key")}

    # 1. Mistakes.
    missing = t.nvad_check(t.config("missing.yaml", tls=dict(full, ca_file=t.path("nowhere.pem"))))
    half = t.nvad_check(t.config("half.yaml", tls={"cert_file": full["cert_file"]}))
    plain = t.nvad_check(t.config("plain.yaml", endpoint="http://127.0.0.1:1", tls=full))
    t.check("mistakes", missing.returncode == 2 and "store.etcd.tls.ca_file" in missing.stderr and
            half.returncode == 2 and "go together" in half.stderr and plain.returncode == 2 and "not https" in plain.stderr,
            "missing file: exit %d %r; cert without key: exit %d %r; http endpoint: exit %d %r" % (
                missing.returncode, missing.stderr.strip()[-70:], half.returncode, half.stderr.strip()[-60:],
                plain.returncode, plain.stderr.strip()[-60:]))

    if not t.check("etcd", t.etcd.start_all(), "one member at %s, client certificates required" % t.endpoint):
        return

    # 2. With the client certificate.
    t.start("nvad", [t.args.nvad, "-c", t.config("tls.yaml", tls=full), "--ctl-socket", t.path("nvad.sock")])
    serving = wait_until(lambda: (t.nvad("show", "cluster") or {}).get("serving"), 15)
    r = t.register("vm-tls")
    keys = t.etcd.keys(t.prefix + "bindings/")
    t.check("tls", serving is True and r.returncode == 0 and len(keys) == 1,
            "elected over TLS: %s; registration: %s; binding keys in etcd: %s" % (serving, r.stdout.strip(), keys))
    t.stop("nvad")

    # 3. Without it: etcd refuses the handshake.
    t.start("nvad", [t.args.nvad, "-c", t.config("nocert.yaml", tls={"ca_file": full["ca_file"]}),
                     "--ctl-socket", t.path("nvad.sock")])
    status = wait_until(lambda: (lambda s: s if s and s.get("last_error") else None)(t.nvad("show", "cluster")), 15) or {}
    r = t.register("vm-refused")
    alive = t.procs.alive("nvad")
    t.check("no client certificate", alive and status.get("serving") is False and r.returncode == 1 and "130" in r.stdout,
            "nvad up: %s; role %s, error %r; registration: %s" % (
                alive, status.get("role"), (status.get("last_error") or "")[:100], r.stdout.strip()))
    t.stop("nvad")

    # 4. nvad-migrate over TLS (an empty store: the connection is the point).
    open(t.path("empty.db"), "wb").close()
    base = [t.args.nvad_migrate, "--sqlite", t.path("empty.db"), "--etcd", t.endpoint, "--prefix", "/tls-migrated/"]
    ok = subprocess.run(base + ["--cacert", full["ca_file"], "--cert", full["cert_file"], "--key", full["key_file"]],
                        capture_output=True, text=True, timeout=60)
    refused = subprocess.run(base + ["--cacert", full["ca_file"]], capture_output=True, text=True, timeout=60)
    t.check("migrate", ok.returncode == 0 and refused.returncode == 1,
            "with the certificate: exit %d (%s); without: exit %d (%s)" % (
                ok.returncode, (ok.stdout + ok.stderr).strip()[:80], refused.returncode, refused.stderr.strip()[:80]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for a in ("--nvad", "--nvectl", "--nvad-migrate", "--nve-register"):
        ap.add_argument(a, required=True)
    args = ap.parse_args()
    return run_test(lambda tmp, procs, res: run(Test(args, tmp, procs, res)), "nvtls-",
                    tools=("etcd", "etcdctl", "openssl"), show_logs=("nvad", "etcd-m0"))


if __name__ == "__main__":
    sys.exit(main())
