#!/usr/bin/python3
"""rte_flow fallback on net_tap (issue 17): the driver has rte_flow
operations, so nved gives the port a control queue and asks for its rules;
this kernel lacks TC flower, so the rules validate and then fail to be
created. nved must log and show each refusal, hand the extra queue to a
worker, and still answer ARP and echo. Runs scripts/flow_hw_check.sh, the
operator's hardware check, on the tap in a namespace of its own (the tap's
kernel side is the peer), and expects its SOFTWARE verdict (exit 2) with
every ARP and echo answered.

    sudo /usr/bin/python3 tests/cli/test_flow_fallback.py --nved P --nvectl P
"""
import argparse
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nved", required=True)
    ap.add_argument("--nvectl", required=True)
    args = ap.parse_args()
    ns = "nvflow%d" % os.getpid()
    tap = "nvft%d" % (os.getpid() % 100000)
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        r = subprocess.run(["ip", "netns", "exec", ns, "bash", os.path.join(REPO, "scripts", "flow_hw_check.sh"),
                            "--dev", "net_tap0,iface=%s" % tap, "--ip", "192.0.2.1/24", "--peer-iface", tap,
                            "--nved", os.path.abspath(args.nved), "--nvectl", os.path.abspath(args.nvectl),
                            "--count", "3"],
                           capture_output=True, text=True, timeout=120)
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)
    out = r.stdout + r.stderr
    print(out)
    checks = {
        "verdict SOFTWARE (exit 2)": r.returncode == 2 and "SOFTWARE:" in out,
        "every ARP and echo answered": "replies: ARP 3/3, echo 3/3" in out,
        "show flows lists the ARP rule as refused": any(
            line.split()[:3] == ["0", "arp", "refused"] for line in out.splitlines()),
        "the refusal logged with the PMD's reason": "rte_flow rule arp" in out and "refused by the PMD" in out,
        "the port runs without the control queue": "the port runs without the control queue" in out,
    }
    failed = [name for name, ok in checks.items() if not ok]
    for name, ok in checks.items():
        print("%-50s %s" % (name, "ok" if ok else "NO"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
