#!/usr/bin/env bash
# Runs nved on the embedded example: pcap ports, no NIC, no hugepages.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/nved-example.XXXXXX)
/usr/bin/python3 - "$work" <<'PY'
import sys
from scapy.all import Ether, IP, IPv6, UDP, Raw, wrpcap
d = sys.argv[1]
gw, fab = "02:00:00:00:00:fe", "02:70:63:61:70:00"
pk = [Ether(src=gw, dst=fab) / IP(src="203.0.113.7", dst=dst) / UDP(sport=1234, dport=80) / Raw(b"in flight")
      for dst in ("10.0.0.5", "10.0.0.9", "10.0.0.10", "10.9.9.9")]
pk.append(Ether(src=gw, dst=fab) / IPv6(src="2001:db8:99::7", dst="fd00::9") / UDP(sport=1, dport=2) / Raw(b"v6"))
for p in pk:
    p.time = 0
wrpcap(f"{d}/in-fabric.pcap", pk)
wrpcap(f"{d}/in-vms.pcap", [])
PY
build/control/nved/nved -l 0,1 --no-huge -m 256 --no-pci --file-prefix "nvex$$" \
  --vdev "net_pcap0,rx_pcap=$work/in-fabric.pcap,tx_pcap=$work/out-fabric.pcap" \
  --vdev "net_pcap1,rx_pcap=$work/in-vms.pcap,tx_pcap=$work/out-vms.pcap" \
  -- -c scripts/example/nved.yaml --exit-when-idle 500 --log-level warn
echo "fabric port output:"; tshark -r "$work/out-fabric.pcap" 2>/dev/null
echo "access port output:"; tshark -r "$work/out-vms.pcap" 2>/dev/null
echo "files in $work"
