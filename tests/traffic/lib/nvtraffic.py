"""Independent model of what nved must send, for the traffic tests.

Every scenario's gen.py builds its input frames with scapy and computes the
frames nved must send with the functions here. They follow the RFCs and the
documented nved behaviour (tunnel header fields, flow label hash, ICMP error
layout, DPDK's IPv4 fragmentation), working on raw bytes so that nothing is
taken from nved's own output:

  * RFC 791 / 8200   forwarding: TTL / hop limit minus one, IPv4 header
                     checksum recomputed from scratch
  * RFC 2003 / 2473  IPv4-in-IPv4, IPv6-in-IPv6 (and 4-in-6, 6-in-4)
  * RFC 6040         ECN: copied at encapsulation, combined at decapsulation
  * RFC 6438         outer IPv6 flow label from the inner flow (CRC-32C)
  * RFC 792 / 1191   ICMP Time Exceeded, Fragmentation Needed (quote =
                     IP header + 8 bytes)
  * RFC 4443         ICMPv6 Time Exceeded, Packet Too Big (quote up to the
                     minimum MTU)
  * RFC 791 3.1      fragmentation: 8-byte aligned fragment data, copied
                     options repeated in every fragment (DPDK 22.11
                     rte_ipv4_fragment_packet)

All pcaps are written with timestamp 0 so that regenerating them gives the
same bytes.
"""

import glob
import importlib.util
import os
import struct

from scapy.layers.inet import IP
from scapy.layers.inet6 import (IPv6, ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, ICMPv6PacketTooBig,
                                ICMPv6TimeExceeded, in6_chksum)
from scapy.layers.l2 import ARP
from scapy.packet import Packet, Raw
from scapy.utils import RawPcapWriter, checksum

# --------------------------------------------------------------------------
# The test bed: addresses every scenario's nved.yaml uses.
# --------------------------------------------------------------------------

FABRIC = 0  # DPDK port 0 is always the fabric port


def port_mac(i):
    """MAC address of net_pcap port i (DPDK's pcap PMD: 02:70:63:61:70:0i)."""
    return "02:70:63:61:70:%02x" % i


GW_MAC = "02:00:00:00:00:fe"   # fabric_gateway.mac (static)
NVE4 = "192.0.2.1"             # nve.ipv4: this NVE's underlay addresses
NVE6 = "2001:db8::1"           # nve.ipv6

# NVEs the moved VMs now live behind.
PEER_NVE4 = "198.51.100.2"
PEER_NVE6 = "2001:db8::2"
# An NVE that still believes the VMs are here and tunnels to us.
OLD_NVE4 = "198.51.100.3"
OLD_NVE6 = "2001:db8::3"

# Local VMs on the access port "vms" (port 1).
VM_A_MAC, VM_A4, VM_A6 = "02:00:00:00:01:01", "10.0.0.5", "fd00::5"
VM_B_MAC, VM_B4, VM_B6 = "02:00:00:00:01:02", "10.0.0.6", "fd00::6"
# Moved VMs: behind PEER_NVE4 (IPv4 underlay) and PEER_NVE6 (IPv6 underlay).
MOVED_V4NVE_4, MOVED_V4NVE_6 = "10.0.0.9", "fd00::9"
MOVED_V6NVE_4, MOVED_V6NVE_6 = "10.0.0.10", "fd00::10"
# Hosts nved has no route for (behind the fabric gateway).
REMOTE4, REMOTE6 = "10.1.0.7", "fd01::7"

# ECN codepoints (RFC 3168).
NOT_ECT, ECT1, ECT0, CE = 0, 1, 2, 3
ECN_NAMES = {NOT_ECT: "Not-ECT", ECT1: "ECT(1)", ECT0: "ECT(0)", CE: "CE"}

ETH_IPV4, ETH_IPV6, ETH_ARP, ETH_VLAN = 0x0800, 0x86DD, 0x0806, 0x8100


# --------------------------------------------------------------------------
# Small byte helpers
# --------------------------------------------------------------------------

def payload(n, seed=0):
    """n deterministic payload bytes."""
    return bytes((seed * 31 + i * 7 + (i >> 8)) & 0xFF for i in range(n))


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def inet_csum(data):
    """Internet checksum (RFC 1071) of data, as the 16-bit value to store."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_version(ip):
    return ip[0] >> 4


def ipv4_ihl(ip):
    return (ip[0] & 0xF) * 4


def ip_len(ip):
    """Length of the IP packet according to its header."""
    if ip_version(ip) == 4:
        return struct.unpack("!H", ip[2:4])[0]
    return 40 + struct.unpack("!H", ip[4:6])[0]


def ipv4_fix_checksum(b):
    """Recomputes the IPv4 header checksum of bytearray b in place."""
    ihl = ipv4_ihl(b)
    b[10:12] = b"\0\0"
    b[10:12] = struct.pack("!H", inet_csum(bytes(b[:ihl])))
    return b


def tos_of(ip):
    """IPv4 TOS byte or IPv6 traffic class."""
    if ip_version(ip) == 4:
        return ip[1]
    return ((ip[0] & 0xF) << 4) | (ip[1] >> 4)


def set_tos(ip, tos):
    b = bytearray(ip)
    if ip_version(b) == 4:
        b[1] = tos
        ipv4_fix_checksum(b)
    else:
        b[0] = 0x60 | (tos >> 4)
        b[1] = ((tos & 0xF) << 4) | (b[1] & 0xF)
    return bytes(b)


def ecn_of(ip):
    return tos_of(ip) & 3


def set_ecn(ip, ecn):
    return set_tos(ip, (tos_of(ip) & ~3) | ecn)


def dec_ttl(ip):
    """The packet as a router forwards it: TTL / hop limit one less."""
    b = bytearray(ip)
    if ip_version(b) == 4:
        assert b[8] > 1
        b[8] -= 1
        ipv4_fix_checksum(b)
    else:
        assert b[7] > 1
        b[7] -= 1
    return bytes(b)


def ipv4_df(ip):
    return bool(ip[6] & 0x40)


def ip_src(ip):
    return ip[12:16] if ip_version(ip) == 4 else ip[8:24]


# --------------------------------------------------------------------------
# Ethernet framing
# --------------------------------------------------------------------------

def l2(dst, src, ethertype, vlan_tci=None):
    """Ethernet header, with an 802.1Q tag when vlan_tci is not None."""
    h = mac_bytes(dst) + mac_bytes(src)
    if vlan_tci is not None:
        h += struct.pack("!HH", ETH_VLAN, vlan_tci)
    return h + struct.pack("!H", ethertype)


def ethertype_for(ip):
    return ETH_IPV4 if ip_version(ip) == 4 else ETH_IPV6


def parse_frame(frame):
    """(dst MAC bytes, src MAC bytes, VLAN TCI or None, ethertype, L3 bytes)."""
    dst, src = frame[0:6], frame[6:12]
    et = struct.unpack("!H", frame[12:14])[0]
    if et == ETH_VLAN:
        tci, et = struct.unpack("!HH", frame[14:18])
        return dst, src, tci, et, frame[18:]
    return dst, src, None, et, frame[14:]


def frame_ip(frame):
    """The IP packet of a frame, without Ethernet padding."""
    ip = parse_frame(frame)[4]
    return ip[:ip_len(ip)]


def as_bytes(p):
    return bytes(p) if isinstance(p, (Packet, bytes, bytearray)) else p


def from_gw(ip_pkt):
    """A frame the fabric gateway sends to nved's fabric port."""
    b = as_bytes(ip_pkt)
    return l2(port_mac(FABRIC), GW_MAC, ethertype_for(b)) + b


def from_vm(ip_pkt, vm_mac=VM_A_MAC, port=1, vlan_tci=None):
    """A frame a VM sends to nved's access port (its default gateway)."""
    b = as_bytes(ip_pkt)
    return l2(port_mac(port), vm_mac, ethertype_for(b), vlan_tci) + b


def pad60(frame):
    """Ethernet minimum frame (without FCS): pads to 60 bytes."""
    return frame + b"\0" * max(0, 60 - len(frame))


# --------------------------------------------------------------------------
# Forwarding outcomes
# --------------------------------------------------------------------------

def deliver(ip_rx, vm_mac, port=1, vlan_tci=None):
    """Local delivery of a received IP packet to a VM (TTL - 1)."""
    ip = dec_ttl(ip_rx)
    return l2(vm_mac, port_mac(port), ethertype_for(ip), vlan_tci) + ip


def to_gateway(ip_rx):
    """No host route, default_action forward: to the fabric gateway."""
    ip = dec_ttl(ip_rx)
    return l2(GW_MAC, port_mac(FABRIC), ethertype_for(ip)) + ip


# --------------------------------------------------------------------------
# RFC 6438 flow label: CRC-32C (Castagnoli), init 0, no final inversion
# --------------------------------------------------------------------------

def crc32c(data, crc=0):
    """Bitwise reflected CRC-32C (polynomial 0x82F63B78), no pre/post xor."""
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc


# Self-check against the published CRC-32C check value (with the usual
# 0xFFFFFFFF pre and post inversion): CRC-32C("123456789") = 0xE3069283.
assert crc32c(b"123456789", 0xFFFFFFFF) ^ 0xFFFFFFFF == 0xE3069283


def flow_label(inner):
    """Outer IPv6 flow label for an inner packet: CRC-32C over inner source,
    inner destination, 4 'ports' bytes (first 4 bytes of TCP/UDP/SCTP of an
    unfragmented packet, else zero), protocol as 4 bytes; low 20 bits."""
    ports = b"\0\0\0\0"
    if ip_version(inner) == 4:
        ihl = ipv4_ihl(inner)
        proto = inner[9]
        frag = struct.unpack("!H", inner[6:8])[0] & 0x3FFF  # MF + offset
        addrs = inner[12:20]
        if frag == 0 and proto in (6, 17, 132):
            ports = inner[ihl:ihl + 4]
    else:
        proto = inner[6]
        addrs = inner[8:40]
        if proto in (6, 17, 132):
            ports = inner[40:44]
    return crc32c(addrs + ports + bytes([proto, 0, 0, 0])) & 0xFFFFF


# --------------------------------------------------------------------------
# RFC 6040 decapsulation: Figure 4 of the RFC, written out as a table.
# Rows: arriving inner; columns: arriving outer. (new inner ECN or None =
# drop, and whether the combination is one to log.)
# --------------------------------------------------------------------------

RFC6040_DECAP = {
    NOT_ECT: {NOT_ECT: (NOT_ECT, False), ECT0: (NOT_ECT, True), ECT1: (NOT_ECT, True), CE: (None, True)},
    ECT0:    {NOT_ECT: (ECT0, False),    ECT0: (ECT0, False),   ECT1: (ECT1, False),   CE: (CE, False)},
    ECT1:    {NOT_ECT: (ECT1, False),    ECT0: (ECT1, False),   ECT1: (ECT1, False),   CE: (CE, False)},
    CE:      {NOT_ECT: (CE, False),      ECT0: (CE, False),     ECT1: (CE, True),      CE: (CE, False)},
}


# --------------------------------------------------------------------------
# Encapsulation
# --------------------------------------------------------------------------

class Fabric:
    """The fabric side of one nved run: tunnel settings and the outer IPv4
    identification counter (one worker: 1, 2, 3... for non-DF outer packets).
    """

    def __init__(self, mtu=1500, ttl=64, dscp=None):
        self.mtu = mtu
        self.ttl = ttl
        self.dscp = dscp  # None = copy the inner DSCP
        self.last_id = 0

    def outer_tos(self, inner):
        tos = tos_of(inner)
        if self.dscp is None:
            return tos                     # DSCP and ECN copied
        return (self.dscp << 2) | (tos & 3)  # DSCP by policy, ECN copied

    def overhead(self, nve):
        return 40 if ":" in nve else 20

    def encap(self, inner, nve):
        """Frame leaving the fabric port with `inner` (already forwarded, i.e.
        TTL decremented) tunnelled to `nve`."""
        inner = bytes(inner)
        proto = 4 if ip_version(inner) == 4 else 41
        tos = self.outer_tos(inner)
        if ":" in nve:
            outer = IPv6(version=6, tc=tos, fl=flow_label(inner), plen=len(inner), nh=proto,
                         hlim=self.ttl, src=NVE6, dst=nve)
        else:
            # RFC 2003 3.1: DF copied from the inner IPv4 header; IPv6 inside
            # IPv4 (RFC 4213 3.2, static MTU): DF clear.
            df = proto == 4 and ipv4_df(inner)
            if df:
                ident = 0  # RFC 6864: atomic datagram
            else:
                self.last_id = (self.last_id + 1) & 0xFFFF
                ident = self.last_id
            outer = IP(version=4, ihl=5, tos=tos, len=20 + len(inner), id=ident,
                       flags="DF" if df else 0, frag=0, ttl=self.ttl, proto=proto,
                       src=NVE4, dst=nve)
        ip = bytes(outer / Raw(inner))
        return l2(GW_MAC, port_mac(FABRIC), ethertype_for(ip)) + ip

    def tunnel(self, inner_rx, nve):
        """Frames for a received packet whose destination moved to `nve`:
        forwarded (TTL - 1), fragmented first if it is an IPv4 packet without
        DF that does not fit the tunnel MTU."""
        inner = dec_ttl(inner_rx)
        limit = self.mtu - self.overhead(nve)
        if len(inner) <= limit:
            return [self.encap(inner, nve)]
        assert ip_version(inner) == 4 and not ipv4_df(inner), "too big: expect an ICMP error instead"
        return [self.encap(f, nve) for f in fragment_ipv4(inner, limit)]

    def too_big_mtu(self, nve, family):
        """MTU value nved reports for packets that do not fit the tunnel."""
        m = self.mtu - self.overhead(nve)
        return m if family == 4 else max(1280, m)


# --------------------------------------------------------------------------
# IPv4 fragmentation as DPDK 22.11 rte_ipv4_fragment_packet does it
# --------------------------------------------------------------------------

def _ipv4_copied_options_header(hdr):
    """Header for the second and later fragments: only options with the copy
    flag (RFC 791), padded with EOL to a 4-byte multiple."""
    opts = hdr[20:]
    out = b""
    i = 0
    while i < len(opts):
        t = opts[i]
        if t == 1:  # NOP: dropped
            i += 1
            continue
        if t == 0:  # EOL
            break
        ln = opts[i + 1] if i + 1 < len(opts) else 0
        if ln < 2 or ln > len(opts) - i:
            break
        if t & 0x80:
            out += opts[i:i + ln]
        i += ln
    out += b"\0" * (-len(out) % 4)
    b = bytearray(hdr[:20]) + out
    b[0] = 0x40 | (len(b) // 4)
    return bytes(b)


def fragment_ipv4(ip, mtu_size):
    """Fragments of IPv4 packet `ip` (no DF) for an MTU of mtu_size bytes:
    each fragment's data is frag_size = floor8(mtu_size - original header
    length) bytes except the last; the first fragment keeps the whole header,
    the others only the copied options; header checksums recomputed."""
    ip = bytes(ip)
    hlen = ipv4_ihl(ip)
    data = ip[hlen:ip_len(ip)]
    frag_size = (mtu_size - hlen) // 8 * 8
    flags_off = struct.unpack("!H", ip[6:8])[0]
    assert not flags_off & 0x4000
    hdr = ip[:hlen]
    out = []
    pos = 0
    while pos < len(data):
        chunk = data[pos:pos + frag_size]
        last = pos + len(chunk) >= len(data)
        h = bytearray(hdr)
        fo = (flags_off + (pos >> 3)) | (0 if last else 0x2000)
        h[6:8] = struct.pack("!H", fo)
        h[2:4] = struct.pack("!H", len(h) + len(chunk))
        ipv4_fix_checksum(h)
        out.append(bytes(h) + chunk)
        if pos == 0 and (flags_off & 0x1FFF) == 0 and hlen > 20:
            hdr = _ipv4_copied_options_header(hdr)
        pos += len(chunk)
    return out


# --------------------------------------------------------------------------
# ICMP errors (sent back out the ingress port, toward the previous hop)
# --------------------------------------------------------------------------

ICMP_TIME_EXCEEDED, ICMP_UNREACH, ICMP_FRAG_NEEDED = 11, 3, 4
ICMP6_TOO_BIG, ICMP6_TIME_EXCEEDED = 2, 3


def icmp_error(frame_rx, in_port, icmp_type, code=0, mtu=0):
    """ICMP/ICMPv6 error about received frame `frame_rx` (the packet as
    received, TTL not decremented) that nved sends out port `in_port`."""
    _dst, src_mac, tci, _et, l3 = parse_frame(frame_rx)
    ip = l3[:ip_len(l3)]
    if ip_version(ip) == 4:
        # RFC 792: IP header + first 64 bits of the datagram's data.
        quote = ip[:ipv4_ihl(ip) + 8]
        rest = b"\0\0" + struct.pack("!H", mtu) if mtu else b"\0\0\0\0"  # RFC 1191
        icmp = bytearray(bytes([icmp_type, code, 0, 0]) + rest + quote)
        icmp[2:4] = struct.pack("!H", inet_csum(bytes(icmp)))
        out = bytes(IP(version=4, ihl=5, tos=0xC0, id=0, flags=0, frag=0, ttl=64, proto=1,
                       src=NVE4, dst=IP(ip).src) / Raw(bytes(icmp)))
    else:
        # RFC 4443 2.4(c): as much of the packet as fits the minimum MTU.
        quote = ip[:1280 - 40 - 8]
        if icmp_type == ICMP6_TOO_BIG:
            msg = ICMPv6PacketTooBig(code=code, mtu=mtu)
        else:
            msg = ICMPv6TimeExceeded(code=code)
        out = bytes(IPv6(tc=0, fl=0, hlim=64, nh=58, src=NVE6, dst=IPv6(ip).src) / msg / Raw(quote))
    return l2(mac_str(src_mac), port_mac(in_port), ethertype_for(out), tci) + out


# --------------------------------------------------------------------------
# Answers nved gives itself: ARP, Neighbour Advertisement, echo reply
# --------------------------------------------------------------------------

def mac_str(b):
    return ":".join("%02x" % x for x in b)


def arp_reply(frame_rx, port):
    """RFC 826 reply to an ARP request, from the port's MAC, sent back to the
    requester; the reply is exactly L2 header + 28 bytes (no padding)."""
    _dst, src_mac, tci, et, l3 = parse_frame(frame_rx)
    assert et == ETH_ARP
    req = ARP(l3[:28])
    rep = ARP(hwtype=1, ptype=0x0800, hwlen=6, plen=4, op=2, hwsrc=port_mac(port), psrc=req.pdst,
              hwdst=req.hwsrc, pdst=req.psrc)
    return l2(mac_str(src_mac), port_mac(port), ETH_ARP, tci) + bytes(rep)


def nd_advert(frame_rx, port):
    """RFC 4861 7.2.4 Neighbour Advertisement answering a Neighbour
    Solicitation for one of our addresses: Router, Solicited (not for DAD),
    Override, target link-layer address option; to the solicitation's
    source, or to all-nodes (ff02::1, MAC 33:33:00:00:00:01 per RFC 2464)
    for DAD (source ::)."""
    _dst, src_mac, tci, et, l3 = parse_frame(frame_rx)
    ns = IPv6(l3[:ip_len(l3)])
    target = ns.payload.tgt
    dad = ns.src == "::"
    na = (IPv6(tc=0, fl=0, hlim=255, src=target, dst="ff02::1" if dad else ns.src)
          / ICMPv6ND_NA(R=1, S=0 if dad else 1, O=1, tgt=target)
          / ICMPv6NDOptDstLLAddr(lladdr=port_mac(port)))
    dst_mac = "33:33:00:00:00:01" if dad else mac_str(src_mac)
    return l2(dst_mac, port_mac(port), ETH_IPV6, tci) + bytes(na)


def echo_reply(frame_rx, port):
    """Echo reply (RFC 792 / RFC 4443 4.2) to an echo request addressed to us:
    addresses swapped, TTL / hop limit 64, type 0 / 129, same identifier,
    sequence and data, checksums recomputed; Ethernet back to the sender."""
    _dst, src_mac, tci, _et, l3 = parse_frame(frame_rx)
    ip = bytearray(l3[:ip_len(l3)])
    if ip_version(ip) == 4:
        ihl = ipv4_ihl(ip)
        ip[12:16], ip[16:20] = ip[16:20], ip[12:16]
        ip[8] = 64
        ipv4_fix_checksum(ip)
        icmp = ip[ihl:]
        assert icmp[0] == 8
        icmp[0] = 0
        icmp[2:4] = b"\0\0"
        icmp[2:4] = struct.pack("!H", inet_csum(bytes(icmp)))
        ip[ihl:] = icmp
    else:
        assert ip[6] == 58 and ip[40] == 128
        ip[8:24], ip[24:40] = ip[24:40], ip[8:24]
        ip[7] = 64
        ip[40] = 129
        ip[42:44] = b"\0\0"
        hdr = IPv6(bytes(ip[:40]))
        ip[42:44] = struct.pack("!H", in6_chksum(58, hdr, bytes(ip[40:])))
    return l2(mac_str(src_mac), port_mac(port), ethertype_for(ip), tci) + bytes(ip)


# --------------------------------------------------------------------------
# Writing a scenario
# --------------------------------------------------------------------------

def _write_pcap(path, frames):
    w = RawPcapWriter(path, linktype=1, snaplen=65535)
    w.write_header(None)
    for f in frames:
        w.write_packet(as_bytes(f), sec=0, usec=0)  # every packet's time = 0
    w.close()


def scenario(name):
    """Another scenario's gen.py as a module (its packets and expected
    frames), for a scenario that sends the same packets another way; the
    gen.py writes its pcaps only when run itself."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", name, "gen.py")
    spec = importlib.util.spec_from_file_location("scenario_" + name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_scenario(folder, nports, inputs, expects):
    """Writes in-<i>.pcap and expect-<i>.pcap for every port 0..nports-1 into
    folder (an empty pcap for a port with no packets). inputs / expects map a
    port number to a list of frames (bytes or scapy packets)."""
    for old in glob.glob(os.path.join(folder, "in-*.pcap")) + glob.glob(os.path.join(folder, "expect-*.pcap")):
        os.remove(old)
    for ports in (inputs, expects):
        bad = [p for p in ports if not 0 <= p < nports]
        assert not bad, "port numbers %s outside 0..%d" % (bad, nports - 1)
    for i in range(nports):
        _write_pcap(os.path.join(folder, "in-%d.pcap" % i), inputs.get(i, []))
        _write_pcap(os.path.join(folder, "expect-%d.pcap" % i), expects.get(i, []))


def write_stepped_scenario(folder, nports, sends, expects):
    """For a scenario with steps (test.yaml `steps:`): writes in-<K>-<i>.pcap
    for each `send: K` step and port i that receives in it, and
    expect-<i>.pcap with port i's whole output. sends maps a step name K to
    {port: frames}; expects maps a port to its frames in order."""
    for old in glob.glob(os.path.join(folder, "in-*.pcap")) + glob.glob(os.path.join(folder, "expect-*.pcap")):
        os.remove(old)
    for k, inputs in sends.items():
        for p, frames in inputs.items():
            assert 0 <= p < nports and frames, "step %s: port %d, %d frames" % (k, p, len(frames))
            _write_pcap(os.path.join(folder, "in-%s-%d.pcap" % (k, p)), frames)
    for i in range(nports):
        _write_pcap(os.path.join(folder, "expect-%d.pcap" % i), expects.get(i, []))
