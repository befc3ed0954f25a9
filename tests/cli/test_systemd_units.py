#!/usr/bin/python3
"""The systemd units `meson install` installs (scripts/systemd/*.service.in,
configured by scripts/meson.build) start the binaries it installs, and pass
`systemd-analyze verify`.

Usage: test_systemd_units.py --bindir PREFIX/BINDIR --unit UNIT=BUILT_BINARY [--unit ...]

For each unit: its ExecStart runs BINDIR/<binary name> (where `meson
install` puts the binary); then a copy whose ExecStart runs the built binary
instead (nothing is installed on this machine) must pass `systemd-analyze
verify` (directives, capabilities, sandboxing options, the command line).
A unit naming a user must not need an account nobody creates: nvad's uses
DynamicUser. Prints PASS/FAIL per check and "N passed, M failed".
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--unit", action="append", required=True, help="UNIT_FILE=BUILT_BINARY")
    args = ap.parse_args()
    if not shutil.which("systemd-analyze"):
        print("SKIP: systemd-analyze is not installed")
        return 77
    passed = failed = 0
    tmp = tempfile.mkdtemp(prefix="nvunits_")
    try:
        for spec in args.unit:
            unit, built = spec.split("=", 1)
            name = os.path.basename(unit)
            with open(unit) as f:
                text = f.read()
            problems = []
            m = re.search(r"^ExecStart=(\S+)", text, re.M)
            want = os.path.join(args.bindir, os.path.basename(built))
            if not m or m.group(1) != want:
                problems.append("ExecStart runs %s, meson install puts the binary at %s"
                                % (m.group(1) if m else "nothing", want))
            if "@" in text:
                problems.append("unsubstituted @VARIABLE@ left: %s" % re.findall(r"@\w+@", text))
            user = re.search(r"^User=(\S+)", text, re.M)
            if user and user.group(1) != "root" and not re.search(r"^DynamicUser=yes", text, re.M):
                problems.append("User=%s needs an account that nothing creates (use DynamicUser=yes)" % user.group(1))
            copy = os.path.join(tmp, name)
            with open(copy, "w") as f:
                f.write(text.replace(want, built) if m else text)
            r = subprocess.run(["systemd-analyze", "verify", copy], capture_output=True, text=True, timeout=60)
            if r.returncode != 0 or r.stderr.strip():
                problems.append("systemd-analyze verify: exit %d: %s" % (r.returncode, r.stderr.strip()))
            if problems:
                failed += 1
                print("FAIL %s: %s" % (name, "; ".join(problems)), flush=True)
            else:
                passed += 1
                print("PASS %s: runs %s, systemd-analyze verify clean" % (name, want), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
