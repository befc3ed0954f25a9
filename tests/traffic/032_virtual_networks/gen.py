#!/usr/bin/python3
"""Virtual networks: the lookup key is (VN, address). Access port 2 is VN 5,
the fabric and port 1 are VN 0. The same address 10.0.0.5 / fd00::5 is VM A
in VN 0 and VM E in VN 5; 10.0.0.9 moved to different NVEs in each VN; an
address only VN 0 has (10.0.0.6) has no route from VN 5 (gateway)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from nvtraffic import *  # noqa: E402,F401,F403
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402

VM_E_MAC, VM_G_MAC, VM_G4 = "02:00:00:00:05:05", "02:00:00:00:05:07", "10.0.0.7"
VN5_NVE = "198.51.100.4"


def udp(seed):
    return UDP(sport=40000 + seed, dport=40100 + seed) / payload(30 + seed, seed)


fab = [
    from_gw(IP(src=REMOTE4, dst=VM_A4, ttl=64, id=1) / udp(1)),         # VN 0: VM A
    from_gw(IPv6(src=REMOTE6, dst=VM_A6, hlim=64) / udp(2)),            # VN 0: VM A
]
vn0 = [
    from_vm(IP(src=VM_B4, dst=VM_A4, ttl=64, id=3) / udp(3), vm_mac=VM_B_MAC),          # VM A
    from_vm(IP(src=VM_B4, dst=MOVED_V4NVE_4, ttl=64, id=4) / udp(4), vm_mac=VM_B_MAC),  # VN 0's NVE
    from_vm(IP(src=VM_B4, dst=VM_G4, ttl=64, id=5) / udp(5), vm_mac=VM_B_MAC),          # VN 5 only: gateway
]
vn5 = [
    from_vm(IP(src=VM_G4, dst=VM_A4, ttl=64, id=6) / udp(6), vm_mac=VM_G_MAC, port=2),  # VM E, same port
    from_vm(IPv6(src="fd00::7", dst=VM_A6, hlim=64) / udp(7), vm_mac=VM_G_MAC, port=2),  # VM E
    from_vm(IP(src=VM_G4, dst=MOVED_V4NVE_4, ttl=64, id=8) / udp(8), vm_mac=VM_G_MAC, port=2),  # VN 5's NVE
    from_vm(IP(src=VM_G4, dst=VM_B4, ttl=64, id=9) / udp(9), vm_mac=VM_G_MAC, port=2),  # VN 0 only: gateway
]
f = Fabric()
expect1 = [deliver(frame_ip(fab[0]), VM_A_MAC), deliver(frame_ip(fab[1]), VM_A_MAC),
           deliver(frame_ip(vn0[0]), VM_A_MAC)]
expect0 = f.tunnel(frame_ip(vn0[1]), PEER_NVE4) + [to_gateway(frame_ip(vn0[2]))]
expect2 = [deliver(frame_ip(vn5[0]), VM_E_MAC, port=2), deliver(frame_ip(vn5[1]), VM_E_MAC, port=2)]
expect0 += f.tunnel(frame_ip(vn5[2]), VN5_NVE) + [to_gateway(frame_ip(vn5[3]))]
write_scenario(HERE, 3, {0: fab, 1: vn0, 2: vn5}, {0: expect0, 1: expect1, 2: expect2})
