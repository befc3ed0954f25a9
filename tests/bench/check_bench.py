#!/usr/bin/python3
"""Runs a benchmark binary briefly and checks that its figures mean something.

A smoke run that only proves the binary did not crash can pass while the
benchmark measures nothing (a zero rate, a route table that rejected every
route, packets dropped instead of forwarded). This checks, from the
benchmark's own output:
  - every RESULT line named by --expect (a regular expression) is present;
  - every RESULT value is a finite number above zero (names matching
    --may-be-negative excepted: a reader's rate dip can be negative);
  - no '# WARNING' line (the fast path counts drops and warns);
  - with --min-processed N, '# process_burst packets: M' has M >= N.
Exit 77 from the benchmark (skipped: e.g. one core for a two-worker run) is
passed on.

Usage: check_bench.py [--expect RE]... [--min-processed N] -- BINARY ARGS...
"""

import argparse
import math
import re
import subprocess
import sys


def main():
    argv = sys.argv[1:]
    if "--" not in argv:
        sys.exit("usage: check_bench.py [--expect RE]... [--min-processed N] -- BINARY ARGS...")
    split = argv.index("--")
    ap = argparse.ArgumentParser()
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--min-processed", type=int, default=0)
    ap.add_argument("--may-be-negative", default=r"dip")
    args = ap.parse_args(argv[:split])
    cmd = argv[split + 1:]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    out = r.stdout.decode(errors="replace")
    print(out, end="")
    if r.returncode == 77:
        return 77
    problems = []
    if r.returncode != 0:
        problems.append("exit status %d" % r.returncode)
    results = {}
    for m in re.finditer(r"^RESULT (\S+) (\S+)", out, re.M):
        try:
            results[m.group(1)] = float(m.group(2))
        except ValueError:
            problems.append("RESULT %s is not a number: %r" % (m.group(1), m.group(2)))
    for name, value in results.items():
        if not math.isfinite(value):
            problems.append("RESULT %s = %r is not finite" % (name, value))
        elif value <= 0 and not re.search(args.may_be_negative, name):
            problems.append("RESULT %s = %r: a benchmark that measured nothing" % (name, value))
    for want in args.expect:
        if not any(re.fullmatch(want, name) for name in results):
            problems.append("no RESULT matching %r (have: %s)" % (want, ", ".join(sorted(results)) or "none"))
    for line in re.findall(r"^# WARNING.*$", out, re.M):
        problems.append(line)
    if args.min_processed:
        m = re.search(r"^# process_burst packets: (\d+)", out, re.M)
        if not m or int(m.group(1)) < args.min_processed:
            problems.append("process_burst packets %s < %d" % (m.group(1) if m else "missing", args.min_processed))
    for p in problems:
        print("CHECK FAILED: %s" % p)
    print("bench check: %d RESULT lines, %s" % (len(results), "FAILED" if problems else "OK"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
