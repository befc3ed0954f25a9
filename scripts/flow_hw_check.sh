#!/usr/bin/env bash
# rte_flow hardware check (issue 17; docs/sriov.md section 6): does this NIC
# steer nved's control traffic to a queue of its own? Starts nved on one
# port with ports[].flow.control_queue: auto, prints `nvectl show flows`,
# sends ARP requests and ICMP echoes to nved's address from a kernel
# interface on the same wire, and reads what the control thread received
# from its control queue (its row in `show workers`) before and after.
# Verdict:
#   PASS       every control rule is in the NIC and the control queue took
#              the ARP and echo packets; the control thread answered them
#   SOFTWARE   the NIC (or driver) did not take the rules: nved runs the
#              software path, and it answered them (exit 2)
#   FAIL       nved did not answer, or the steering did not do what the rules
#              say (exit 1)
#
#   sudo scripts/flow_hw_check.sh --dev 0000:3b:02.0 --ip 192.0.2.1/24 --peer-iface ens1f1
#        [--peer-ip 192.0.2.254] [--lcores 0,1] [--count 5] [--isolate]
#        [--nved PATH] [--nvectl PATH] [--keep]
#
# --dev: a PCI address (given to EAL with -a) or a vdev ("net_tap0,iface=t0",
# given with --vdev: how the suite runs it on machines without a NIC).
# --peer-iface: the kernel's interface on the wire toward the port (another
# port of the NIC cabled back, the PF, or a tap's own netdev); the script
# adds --peer-ip to it while it runs and removes it after.
# Stops nved by PID on every path.
set -u
cd "$(dirname "$0")/.."
NVED=$PWD/build/control/nved/nved NVECTL=$PWD/build/control/nvectl/nvectl
DEV="" IP="" PEER_IF="" PEER_IP="" LCORES=0,1 COUNT=5 ISOLATE=false KEEP=0
usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 64; }
while [ $# -gt 0 ]; do
  case $1 in
    --dev) DEV=$2; shift 2 ;;
    --ip) IP=$2; shift 2 ;;
    --peer-iface) PEER_IF=$2; shift 2 ;;
    --peer-ip) PEER_IP=$2; shift 2 ;;
    --lcores) LCORES=$2; shift 2 ;;
    --count) COUNT=$2; shift 2 ;;
    --isolate) ISOLATE=true; shift ;;
    --nved) NVED=$2; shift 2 ;;
    --nvectl) NVECTL=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) usage ;;
  esac
done
[ -n "$DEV" ] && [ -n "$IP" ] && [ -n "$PEER_IF" ] || usage
ADDR=${IP%/*} LEN=${IP#*/}
[ "$LEN" = "$IP" ] && LEN=24
if [ -z "$PEER_IP" ]; then  # the last host address of the NVE's /24 (or what --peer-ip says)
  PEER_IP=${ADDR%.*}.254
  [ "$PEER_IP" = "$ADDR" ] && PEER_IP=${ADDR%.*}.253
fi
W=$(mktemp -d /tmp/nvflowcheck.XXXXXX) PREFIX=nvflowchk$$ PID="" ADDED=0
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && { for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done; kill -9 "$PID" 2>/dev/null; }
  [ "$ADDED" = 1 ] && ip addr del "$PEER_IP/$LEN" dev "$PEER_IF" 2>/dev/null
  if [ "$KEEP" = 1 ]; then echo "files kept in $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT; trap 'exit 130' INT TERM

case $DEV in
  net_*) EALDEV=(--no-huge -m 512 --no-pci --vdev "$DEV") ;;
  *) EALDEV=(-a "$DEV") ;;  # a NIC: hugepages (VFIO wants physical addresses without an IOMMU in VA mode)
esac
cat > "$W/nved.yaml" <<EOF2
ports:
  - {name: fabric, role: fabric, port_id: 0, flow: {control_queue: auto, isolate: $ISOLATE}}
nve: {ipv4: $ADDR}
fabric_gateway: {ipv4: $PEER_IP}
default_action: drop
route_table: {capacity: 1024}
workers: {mbufs: 8191, idle_sleep_us: 100}
EOF2
"$NVED" -l "$LCORES" --file-prefix "$PREFIX" "${EALDEV[@]}" -- -c "$W/nved.yaml" \
  --log-level info > "$W/nved.log" 2>&1 &
PID=$!
CTL=("$NVECTL" -p "$PREFIX" -t 3000)
for _ in $(seq 100); do "${CTL[@]}" show version >/dev/null 2>&1 && break; kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
if ! "${CTL[@]}" show version >/dev/null 2>&1; then
  echo "FAIL: nved did not start:"; tail -20 "$W/nved.log"; exit 1
fi
grep -E 'rte_flow' "$W/nved.log" | sed 's/^/  log: /'
echo "== nvectl show flows"; "${CTL[@]}" show flows
ip link set "$PEER_IF" up
ip addr add "$PEER_IP/$LEN" dev "$PEER_IF" 2>/dev/null && ADDED=1

# What the control thread received from its control queues: its row in
# show workers (role "control"; none when it serves no control queue).
control_rx() { "${CTL[@]}" -j show workers | /usr/bin/python3 -c '
import json, sys
print(sum(r["rx_packets"] for r in json.load(sys.stdin) if r.get("role") == "control"))'; }
BEFORE=$(control_rx)
# ARP requests and ICMP echoes from the peer, with the replies counted.
/usr/bin/python3 - "$PEER_IF" "$PEER_IP" "$ADDR" "$COUNT" > "$W/replies" 2>"$W/scapy.err" <<'PY'
import sys
from scapy.all import ARP, Ether, ICMP, IP, conf, get_if_hwaddr, srp1
conf.verb = 0
iface, src, dst, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
mine = get_if_hwaddr(iface)
arp = mac = None
got_arp = got_echo = 0
for _ in range(n):
    arp = srp1(Ether(dst="ff:ff:ff:ff:ff:ff", src=mine) / ARP(op=1, hwsrc=mine, psrc=src, pdst=dst),
               iface=iface, timeout=1)
    if arp is not None and arp.haslayer(ARP) and arp[ARP].op == 2:
        got_arp += 1
        mac = arp[ARP].hwsrc
for i in range(n):
    if mac is None:
        break
    r = srp1(Ether(dst=mac, src=mine) / IP(src=src, dst=dst) / ICMP(id=0x4e56, seq=i), iface=iface, timeout=1)
    if r is not None and r.haslayer(ICMP) and r[ICMP].type == 0:
        got_echo += 1
print(got_arp, got_echo)
PY
AFTER=$(control_rx)
read -r GOT_ARP GOT_ECHO < "$W/replies" || { GOT_ARP=0 GOT_ECHO=0; }
echo "== control thread's RX from its control queue: $BEFORE before, $AFTER after"
echo "== replies: ARP $GOT_ARP/$COUNT, echo $GOT_ECHO/$COUNT"
STATUS=$("${CTL[@]}" -j show flows | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); print(r[0]["port_status"] if r else "")')
CQ=$(echo "$STATUS" | sed -n 's/^control traffic on RX queue \([0-9]*\),.*/\1/p')
if [ "$GOT_ARP" != "$COUNT" ] || [ "$GOT_ECHO" != "$COUNT" ]; then
  echo "FAIL: nved answered $GOT_ARP ARP and $GOT_ECHO echo of $COUNT each ($STATUS)"
  [ -s "$W/scapy.err" ] && sed 's/^/  scapy: /' "$W/scapy.err" | tail -5
  exit 1
fi
if [ -z "$CQ" ]; then
  echo "SOFTWARE: $STATUS; nved answered every ARP and echo on the software path"
  exit 2
fi
DELTA=$(( ${AFTER:-0} - ${BEFORE:-0} ))
if [ "$DELTA" -ge $((2 * COUNT)) ]; then
  echo "PASS: control traffic steered to RX queue $CQ: the control thread received $DELTA packets for the $((2 * COUNT)) ARP and echo sent, and answered them"
  exit 0
fi
echo "FAIL: the rules are installed but the control thread received $DELTA packets from RX queue $CQ for the $((2 * COUNT)) sent"
exit 1
