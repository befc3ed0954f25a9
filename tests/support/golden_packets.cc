#include "tests/support/golden_packets.h"

#include <stdexcept>
#include <string>

namespace nvmove::dp::testbed {

// Eth/IPv4(ttl 10, DF, tos 0xb9)/UDP from the fabric to a moved VM.
const char *const kV4In =
    "0200000000010200000000fe080045b90028004d40000a1129afcb0071070a00000904d2005000141e4968656c6c6f2d6e766d6f7665";

// IPv4-in-IPv4 from 198.51.100.2 to us, outer ECT(1), inner ECT(0) to the
// local VM 10.0.0.5.
const char *const kDecapIn =
    "0200000000010200000000fe0800450100350001000040048e8cc6336402c00002014502002100010000141160bdcb0071070a0000"
    "0500090009000d4ac07a7a7a7a7a";

namespace {

const char *const kV4Out =
    "0200000000fe020000000001080045b9003c0000400040044dcec0000201c633640245b90028004d400009112aafcb0071070a000009"
    "04d2005000141e4968656c6c6f2d6e766d6f7665";

const char *const kV6In =
    "0200000000010200000000fe86dd62a00000000b110520010db8009900000000000000000007fd000000000000000000000000000"
    "0090fa00035000b003e616263";
const char *const kV6Out =
    "0200000000fe02000000000186dd62ad0a3e0033294020010db800000000000000000000000120010db80000000000000000"
    "0000000262a00000000b110420010db8009900000000000000000007fd0000000000000000000000000000090fa00035000b"
    "003e616263";

// The inner packet of kDecapIn as delivered: TTL decremented, ECT(1) from the
// outer header (RFC 6040), to the VM's MAC from the access port's.
const char *const kDecapOut =
    "02000000010102000000000208004501002100010000131161becb0071070a00000500090009000d4ac07a7a7a7a7a";

// Issue 14, tenants: the same tunnel to VN 5's endpoint 192.0.2.5 reaches
// VN 5's VM at the same address (kVn5VmMac), never VN 0's.
const char *const kDecapToVn5 =
    "0200000000010200000000fe0800450100350001000040048e88c6336402c00002054502002100010000141160bdcb0071070a0000"
    "0500090009000d4ac07a7a7a7a7a";
const char *const kDecapToVn5Out =
    "02000000050502000000000208004501002100010000131161becb0071070a00000500090009000d4ac07a7a7a7a7a";

// Issue 14, CVE-2020-10136: the same tunnel from 203.0.113.9, outside tunnel.peers.
const char *const kDecapFromStranger =
    "0200000000010200000000fe0800450100350001000040047cb8cb007109c00002014502002100010000141160bdcb0071070a0000"
    "0500090009000d4ac07a7a7a7a7a";

// Outer CE over an inner Not-ECT (tos 0x00, checksum adjusted): RFC 6040 drops it.
const char *const kCeOnNotEct =
    "0200000000010200000000fe0800450300350001000040048e8ac6336402c00002014500002100010000141160bfcb0071070a0000"
    "0500090009000d4ac07a7a7a7a7a";

// who-has 192.0.2.1 tell 192.0.2.254, padded to 60 bytes, and the reply.
const char *const kArpRequest =
    "ffffffffffff0200000000fe08060001080006040001"
    "0200000000fec00002fe000000000000c0000201000000000000000000000000000000000000";
const char *const kArpReply = "0200000000fe02000000000108060001080006040002020000000001c00002010200000000fec00002fe";

const GoldenPacket kGoldenPackets[] = {
    {"encap_ipv4", "IPv4 to a moved VM: IPv4-in-IPv4 to 198.51.100.2", 0, kV4In, 0, kV4Out,
     Counter::encap_ipv4_in_ipv4},
    {"encap_ipv6", "IPv6 to a moved VM: IPv6-in-IPv6 to 2001:db8::2, flow label from the inner flow", 0, kV6In, 0,
     kV6Out, Counter::encap_ipv6_in_ipv6},
    {"decap_ipv4", "IPv4-in-IPv4 from a peer NVE to the local VM, ECN combined", 0, kDecapIn, 1, kDecapOut,
     Counter::delivered_local},
    {"decap_vn5", "the same tunnel to the VN 5 endpoint: VN 5's VM at the same address", 0, kDecapToVn5, 1,
     kDecapToVn5Out, Counter::delivered_local},
    {"decap_stranger", "a tunnel from a host outside tunnel.peers: dropped", 0, kDecapFromStranger, -1, nullptr,
     Counter::drop_decap_unknown_peer},
    {"decap_ce_not_ect", "outer CE over an inner Not-ECT: dropped (RFC 6040)", 0, kCeOnNotEct, -1, nullptr,
     Counter::drop_decap_ecn_ce_not_ect},
    {"arp_reply", "ARP request for this NVE's address: answered", 0, kArpRequest, 0, kArpReply,
     Counter::arp_replied},
};

int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  throw std::invalid_argument(std::string("not a hex digit: ") + c);
}

}  // namespace

std::span<const GoldenPacket> golden_packets() { return kGoldenPackets; }

std::string hex(const uint8_t *p, size_t n) {
  static const char *d = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (size_t i = 0; i < n; i++) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

std::vector<uint8_t> unhex(std::string_view hex) {
  if (hex.size() % 2) throw std::invalid_argument("odd number of hex digits");
  std::vector<uint8_t> out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) out.push_back(static_cast<uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  return out;
}

}  // namespace nvmove::dp::testbed
