#!/usr/bin/python3
"""End-to-end test of RX IPv4 checksum offload with a PMD that implements it.

    sudo /usr/bin/python3 tests/e2e/rx_checksum_offload_test.py [--nved PATH] [--nvectl PATH]

nved runs in a namespace of its own with a net_tap access port (the tap PMD
verifies IPv4 header checksums and sets RTE_MBUF_F_RX_IP_CKSUM_GOOD/BAD) and a
net_null fabric port. scapy, in the same namespace, writes frames to the tap
interface: 5 with a correct header checksum, 3 with a wrong one, all to a
destination without a host route (so forwarded to the fabric gateway).

Checks: `show ports --json` reports rx_ipv4_cksum_offload for the tap port;
forwarded_default counts exactly the 5 good frames and drop_ipv4_bad_checksum
exactly the 3 bad ones. nved is stopped by PID on every path.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import vm_namespace_test as base  # noqa: E402  (preflight, helpers)

N_GOOD, N_BAD = 5, 3
SENDER = r"""
import sys
from scapy.all import Ether, IP, UDP, Raw, sendp
iface, mac, n_good, n_bad = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def frame(**ip):
    return Ether(dst=mac, src="02:00:00:00:aa:01") / IP(src="10.1.1.1", dst="10.200.0.1", **ip) / \
        UDP(sport=4000, dport=4001) / Raw(b"rx-offload")
sendp([frame() for _ in range(n_good)] + [frame(chksum=0x1234) for _ in range(n_bad)],
      iface=iface, verbose=False)
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nved", default=os.path.join(base.REPO, "build", "control", "nved", "nved"))
    ap.add_argument("--nvectl", default=os.path.join(base.REPO, "build", "control", "nvectl", "nvectl"))
    args = ap.parse_args()
    if not base.preflight([("nved", args.nved), ("nvectl", args.nvectl)]):
        return 1
    pid = os.getpid()
    ns, tap, prefix = "nvo%d" % pid, "nvo%dt" % pid, "nvo%d" % pid
    tmp = tempfile.mkdtemp(prefix="nved-rxoff-")
    cfg = os.path.join(tmp, "nved.yaml")
    with open(cfg, "w") as f:
        f.write("ports:\n"
                "  - {name: vms, role: access, port_id: 0}\n"
                "  - {name: fabric, role: fabric, port_id: 1}\n"
                "nve: {ipv4: 192.0.2.1}\n"
                "fabric_gateway: {mac: \"02:00:00:00:00:fe\"}\n"
                "route_table: {capacity: 1024, max_nves: 16}\n"
                "workers: {mbufs: 4095}\n")
    nved = None
    failed = []
    try:
        base.sh("ip", "netns", "add", ns)
        nved_log = open(os.path.join(tmp, "nved.log"), "w")
        nved = subprocess.Popen(
            ["ip", "netns", "exec", ns, args.nved, "-l", "0,1", "--no-huge", "-m", "256", "--no-pci",
             "--file-prefix=" + prefix, "--vdev=net_tap0,iface=" + tap, "--vdev=net_null1,no-rx=1",
             "--", "-c", cfg, "--log-level", "info"], stdout=nved_log, stderr=subprocess.STDOUT)
        ctl = [args.nvectl, "-p", prefix]

        def up():
            if nved.poll() is not None:
                raise RuntimeError("nved exited (%s):\n%s" % (nved.returncode, base.read(nved_log.name)))
            return subprocess.run(ctl + ["show", "version"], capture_output=True).returncode == 0
        if not base.wait_until(up, 15):
            raise RuntimeError("nved not answering:\n" + base.read(nved_log.name))
        base.sh("ip", "netns", "exec", ns, "ip", "link", "set", tap, "up")
        ports = json.loads(subprocess.run(ctl + ["--json", "show", "ports"], capture_output=True,
                                          text=True, check=True).stdout)
        access = [p for p in ports if p["name"] == "vms"][0]
        if access["driver"] != "net_tap" or not access["rx_ipv4_cksum_offload"]:
            failed.append("tap port does not report RX IPv4 checksum offload: %s" % access)
        r = subprocess.run(["ip", "netns", "exec", ns, base.PYTHON, "-c", SENDER, tap, access["mac"],
                            str(N_GOOD), str(N_BAD)], capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("scapy sender failed: %s%s" % (r.stdout, r.stderr))

        def counters():
            out = subprocess.run(ctl + ["--json", "show", "counters"], capture_output=True, text=True, check=True)
            return json.loads(out.stdout)["counters"]
        base.wait_until(lambda: counters().get("forwarded_default", 0) + counters().get(
            "drop_ipv4_bad_checksum", 0) >= N_GOOD + N_BAD, 5)
        c = counters()
        got = (c.get("forwarded_default", 0), c.get("drop_ipv4_bad_checksum", 0))
        print("forwarded_default %d (expected %d), drop_ipv4_bad_checksum %d (expected %d)" % (
            got[0], N_GOOD, got[1], N_BAD))
        if got != (N_GOOD, N_BAD):
            failed.append("counters %s, expected %s" % (got, (N_GOOD, N_BAD)))
    except Exception as e:  # noqa: BLE001  (reported as a failure, cleanup below)
        failed.append("error: %s" % e)
    finally:
        if nved is not None and nved.poll() is None:
            nved.terminate()
            try:
                nved.wait(10)
            except subprocess.TimeoutExpired:
                nved.kill()
                nved.wait()
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    if failed:
        print("logs kept in %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failed:
        print("FAIL: " + f)
    print("%d passed, %d failed" % (0 if failed else 1, 1 if failed else 0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
