// The XDP program (drivers/xdp/nve_xdp.bpf.c) beside the DPDK pipeline, on
// the same packets and the same routes (the test bed's). For every packet:
//  - XDP forwards it (XDP_TX, XDP_REDIRECT): the DPDK path's output, byte for
//    byte, on the same port, and the same counters moved;
//  - XDP drops it: the DPDK path drops it too, on the same counter;
//  - XDP hands it to the kernel (XDP_PASS): untouched, only rx_packets
//    counted;
// and wherever XDP and the DPDK path part ways, the case must be one
// docs/xdp.md lists (kDocumented). Any other difference fails. The program
// runs through bpf_prog_test_run_opts: no NIC.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <sched.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/burst_pipeline.h"
#include "dataplane/classify.h"
#include "dataplane/tunnel_template.h"
#include "drivers/xdp/xdp_fragments.h"
#include "drivers/xdp/xdp_program.h"
#include "drivers/xdp/xdp_routes.h"
#include "tests/support/dataplane_testbed.h"
#include "tests/support/golden_packets.h"

using namespace nvmove;
using namespace nvmove::dp;
using drivers::XdpProgram;

namespace {

constexpr uint32_t kLoopback = 1;  // port 0 (the fabric) "receives" on lo

// Where the two paths part ways, by case: docs/xdp.md's table.
const std::map<std::string, std::string> kDocumented = {
    {"arp_reply", "ARP: the kernel"},
    {"nd_solicit", "ND: the kernel"},
    {"no_route", "no host route: the kernel's routing table (the DPDK path: the fabric gateway)"},
    {"no_route_v6", "no host route: the kernel's routing table"},
    {"options", "IPv4 options with a host route: dropped (drop_ipv4_options), the DPDK path forwards them"},
    {"options_no_route", "IPv4 options without a host route: the kernel"},
    {"decap_inner_options", "IPv4 options out of a tunnel: dropped (drop_ipv4_options), the DPDK path forwards them"},
    {"decap_no_route", "out of a tunnel without a host route: dropped (drop_no_route), never to the kernel"},
};

std::string hex(const std::vector<uint8_t> &v) { return testbed::hex(v.data(), v.size()); }

void fix_checksum(std::vector<uint8_t> &f) {
  auto *ip = reinterpret_cast<rte_ipv4_hdr *>(f.data() + 14);
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
}

// kV4In (Eth/IPv4/UDP from the fabric to the moved 10.0.0.9) edited.
std::vector<uint8_t> v4(uint8_t last_octet, uint8_t ttl, bool df, uint8_t tos) {
  std::vector<uint8_t> f = testbed::unhex(testbed::kV4In);
  auto *ip = reinterpret_cast<rte_ipv4_hdr *>(f.data() + 14);
  reinterpret_cast<uint8_t *>(&ip->dst_addr)[3] = last_octet;
  ip->time_to_live = ttl;
  ip->fragment_offset = df ? rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG) : 0;
  ip->type_of_service = tos;
  fix_checksum(f);
  return f;
}

template <typename Edit>
std::vector<uint8_t> edited(std::vector<uint8_t> f, Edit edit, bool fix = true) {
  edit(f, reinterpret_cast<rte_ipv4_hdr *>(f.data() + 14));
  if (fix) fix_checksum(f);
  return f;
}

// Frames built field by field (the IPv6 and cross-family cases).
using Bytes = std::vector<uint8_t>;

Bytes cat(Bytes a, const Bytes &b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Bytes eth(const MacAddress &dst, const MacAddress &src, uint16_t type, const Bytes &payload) {
  Bytes f(dst.begin(), dst.end());
  f.insert(f.end(), src.begin(), src.end());
  f.push_back(static_cast<uint8_t>(type >> 8));
  f.push_back(static_cast<uint8_t>(type));
  return cat(f, payload);
}
// From the gateway to the fabric port (port 0), as the fabric delivers.
Bytes from_fabric(uint16_t type, const Bytes &payload) { return eth(testbed::kFabricMac, testbed::kGwMac, type, payload); }

Bytes udp(uint16_t sport, uint16_t dport, const std::string &data) {
  const uint16_t len = static_cast<uint16_t>(8 + data.size());
  Bytes u = {static_cast<uint8_t>(sport >> 8), static_cast<uint8_t>(sport), static_cast<uint8_t>(dport >> 8),
             static_cast<uint8_t>(dport), static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len), 0x12, 0x34};
  return cat(u, Bytes(data.begin(), data.end()));
}

Bytes ip6(const char *src, const char *dst, uint8_t next, uint8_t hops, uint8_t tclass, const Bytes &payload,
          uint32_t label = 0) {
  Bytes h(40, 0);
  const uint32_t vtc = 6u << 28 | uint32_t{tclass} << 20 | label;
  for (int i = 0; i < 4; i++) h[i] = static_cast<uint8_t>(vtc >> (24 - 8 * i));
  h[4] = static_cast<uint8_t>(payload.size() >> 8);
  h[5] = static_cast<uint8_t>(payload.size());
  h[6] = next;
  h[7] = hops;
  std::memcpy(h.data() + 8, testbed::addr(src).bytes.data(), 16);
  std::memcpy(h.data() + 24, testbed::addr(dst).bytes.data(), 16);
  return cat(h, payload);
}

Bytes ip4(const char *src, const char *dst, uint8_t proto, uint8_t ttl, uint8_t tos, const Bytes &payload,
          bool df = true) {
  Bytes h(20, 0);
  const uint16_t tot = static_cast<uint16_t>(20 + payload.size());
  h[0] = 0x45;
  h[1] = tos;
  h[2] = static_cast<uint8_t>(tot >> 8);
  h[3] = static_cast<uint8_t>(tot);
  h[5] = 7;  // ID 7
  h[6] = df ? 0x40 : 0;
  h[8] = ttl;
  h[9] = proto;
  std::memcpy(h.data() + 12, testbed::addr(src).bytes.data(), 4);
  std::memcpy(h.data() + 16, testbed::addr(dst).bytes.data(), 4);
  auto *ip = reinterpret_cast<rte_ipv4_hdr *>(h.data());
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  return cat(h, payload);
}

// A correspondent's IPv6 datagram to `dst` (hop limit, traffic class).
Bytes v6(const char *dst, uint8_t hops = 64, uint8_t tclass = 0) {
  return ip6("2001:db8:99::7", dst, 17, hops, tclass, udp(4000, 53, "abcdefgh"), 0x12345);
}
Bytes v4_to(const char *dst, uint8_t ttl = 64, uint8_t tos = 0) {
  return ip4("203.0.113.7", dst, 17, ttl, tos, udp(4000, 53, "abcdefgh"));
}

struct Case {
  std::string name;
  uint16_t in_port;
  std::vector<uint8_t> frame;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const auto &g : testbed::golden_packets()) out.push_back({g.name, g.in_port, testbed::unhex(g.input)});
  out.push_back({"local_v4", 0, v4(5, 10, true, 0)});           // 10.0.0.5, the local VM
  out.push_back({"encap_v4_no_df", 0, v4(9, 64, false, 0x02)}); // an ID from the counter, ECT(0)
  out.push_back({"encap_v4_ce", 0, v4(9, 2, true, 0x03)});      // CE copied (RFC 6040 normal mode)
  auto padded = v4(9, 64, true, 0);
  padded.insert(padded.end(), 10, 0xee);                         // Ethernet padding: trimmed
  out.push_back({"padded", 0, padded});
  out.push_back({"bad_length", 0, edited(v4(9, 64, true, 0), [](auto &, auto *ip) { ip->total_length = rte_cpu_to_be_16(400); })});
  out.push_back({"bad_checksum", 0, edited(v4(9, 64, true, 0), [](auto &, auto *ip) { ip->hdr_checksum ^= 0x0101; }, false)});
  out.push_back({"bad_source", 0, edited(v4(9, 64, true, 0), [](auto &, auto *ip) { ip->src_addr = rte_cpu_to_be_32(0x7f000001); })});
  out.push_back({"multicast", 0, edited(v4(9, 64, true, 0), [](auto &, auto *ip) { ip->dst_addr = rte_cpu_to_be_32(0xe0000005); })});
  out.push_back({"not_for_us", 0, edited(v4(9, 64, true, 0), [](auto &f, auto *) { f[5] = 0x77; })});
  out.push_back({"bad_version", 0, edited(v4(9, 64, true, 0), [](auto &, auto *ip) { ip->version_ihl = 0x65; })});
  out.push_back({"options", 0, edited(v4(9, 64, true, 0), [](auto &f, auto *ip) {
                   ip->version_ihl = 0x46;  // 4 bytes of options (NOPs) before the UDP header
                   f.insert(f.begin() + 34, {1, 1, 1, 0});
                   ip = reinterpret_cast<rte_ipv4_hdr *>(f.data() + 14);
                   ip->total_length = rte_cpu_to_be_16(rte_be_to_cpu_16(ip->total_length) + 4);
                 })});
  out.push_back({"ttl_1", 0, v4(9, 1, true, 0)});
  out.push_back({"no_route", 0, v4(77, 64, true, 0)});
  auto big = v4(9, 64, true, 0);  // 1481-byte IP packet: 1501 with the outer header
  big.resize(14 + 1481, 0x5a);
  out.push_back({"too_big_df", 0, edited(big, [](auto &, auto *ip) { ip->total_length = rte_cpu_to_be_16(1481); })});
  auto fits = v4(9, 64, true, 0);  // 1480: exactly the tunnel MTU once encapsulated
  fits.resize(14 + 1480, 0x5a);
  out.push_back({"mtu_exactly", 0, edited(fits, [](auto &, auto *ip) { ip->total_length = rte_cpu_to_be_16(1480); })});
  // A tunnel from a known NVE to us for the moved 10.0.0.9: tunnelled on
  // (re-encapsulation).
  out.push_back({"decap_reencap", 0, edited(testbed::unhex(testbed::kDecapIn), [](auto &f, auto *) {
                   auto *in = reinterpret_cast<rte_ipv4_hdr *>(f.data() + 34);
                   reinterpret_cast<uint8_t *>(&in->dst_addr)[3] = 9;
                   in->hdr_checksum = 0;
                   in->hdr_checksum = rte_ipv4_cksum(in);
                 })});
  // From the VM behind the access port to the moved 10.0.0.9: tunnelled out
  // of the fabric port (a redirect).
  out.push_back({"from_vm", 1, edited(v4(9, 64, true, 0), [](auto &f, auto *ip) {
                   std::memcpy(f.data(), testbed::kAccessMac.data(), 6);
                   std::memcpy(f.data() + 6, testbed::kVmMac.data(), 6);
                   ip->src_addr = rte_cpu_to_be_32(0x0a000005);
                 })});

  // IPv6, and every pair of families (test bed: fd00::5 local, fd00::9,
  // fd00::10 and 10.0.0.10 toward 2001:db8::2; fd00::11 toward 198.51.100.2
  // added by the fixture).
  const uint16_t kV6 = 0x86dd, kV4 = 0x0800;
  out.push_back({"local_v6", 0, from_fabric(kV6, v6("fd00::5"))});
  out.push_back({"encap_v6_in_v6", 0, from_fabric(kV6, v6("fd00::10", 64, 0xb9))});  // DSCP 46, ECT(1)
  out.push_back({"encap_v6_ce", 0, from_fabric(kV6, v6("fd00::10", 2, 0x03))});
  out.push_back({"encap_v4_in_v6", 0, from_fabric(kV4, v4_to("10.0.0.10", 64, 0x02))});
  out.push_back({"encap_v6_in_v4", 0, from_fabric(kV6, v6("fd00::11"))});
  Bytes tcp6 = ip6("2001:db8:99::8", "fd00::9", 6, 64, 0, Bytes{0x9c, 0x40, 0x01, 0xbb, 1, 2, 3, 4, 5, 6, 7, 8, 0x50, 0x02, 0, 0, 0, 0, 0, 0});
  out.push_back({"encap_v6_tcp", 0, from_fabric(kV6, tcp6)});  // the ports in the flow label
  out.push_back({"encap_v6_icmp", 0, from_fabric(kV6, ip6("2001:db8:99::8", "fd00::9", 58, 64, 0, Bytes{128, 0, 0, 0, 0, 1, 0, 1}))});
  Bytes frag4 = v4_to("10.0.0.10");
  frag4[6] = 0x20;  // MF: a fragment's ports are not hashed
  auto *f4 = reinterpret_cast<rte_ipv4_hdr *>(frag4.data());
  f4->hdr_checksum = 0;
  f4->hdr_checksum = rte_ipv4_cksum(f4);
  out.push_back({"encap_v4_fragment_in_v6", 0, from_fabric(kV4, frag4)});
  Bytes padded6 = from_fabric(kV6, v6("fd00::9"));
  padded6.insert(padded6.end(), 6, 0xee);
  out.push_back({"padded_v6", 0, padded6});
  out.push_back({"hop_limit_1", 0, from_fabric(kV6, v6("fd00::9", 1))});
  out.push_back({"no_route_v6", 0, from_fabric(kV6, v6("fd00::77"))});
  Bytes big6 = ip6("2001:db8:99::7", "fd00::9", 17, 64, 0, Bytes(1441, 0x5a));  // 1481: 1521 in IPv6
  out.push_back({"too_big_v6", 0, from_fabric(kV6, big6)});
  Bytes fits6 = ip6("2001:db8:99::7", "fd00::9", 17, 64, 0, Bytes(1420, 0x5a));  // 1460 + 40 = 1500
  out.push_back({"mtu_exactly_v6", 0, from_fabric(kV6, fits6)});
  // ND for our address (a solicitation to its solicited-node group).
  out.push_back({"nd_solicit", 0, eth({0x33, 0x33, 0xff, 0, 0, 1}, testbed::kGwMac, kV6,
                                       ip6("fe80::fe", "ff02::1:ff00:1", 58, 255, 0, Bytes{135, 0, 0, 0, 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}))});
  // Malformed IPv6, each onto the DPDK path's counter.
  Bytes short6 = from_fabric(kV6, v6("fd00::9"));
  short6.resize(14 + 30);
  out.push_back({"v6_truncated", 0, short6});
  Bytes badver = from_fabric(kV6, v6("fd00::9"));
  badver[14] = 0x52;
  out.push_back({"v6_bad_version", 0, badver});
  Bytes badlen = from_fabric(kV6, v6("fd00::9"));
  badlen[19] = 200;
  out.push_back({"v6_bad_length", 0, badlen});
  out.push_back({"v6_multicast_source", 0, from_fabric(kV6, ip6("ff02::1", "fd00::9", 17, 64, 0, udp(1, 2, "x")))});
  out.push_back({"v6_loopback_source", 0, from_fabric(kV6, ip6("::1", "fd00::9", 17, 64, 0, udp(1, 2, "x")))});
  out.push_back({"v6_unspecified_source", 0, from_fabric(kV6, ip6("::", "fd00::9", 17, 64, 0, udp(1, 2, "x")))});
  out.push_back({"v6_multicast", 0, from_fabric(kV6, ip6("2001:db8:99::7", "ff05::2", 17, 64, 0, udp(1, 2, "x")))});
  out.push_back({"v6_not_for_us", 0, eth(testbed::kVmMac, testbed::kGwMac, kV6, v6("fd00::9"))});
  out.push_back({"v6_from_vm", 1, eth(testbed::kAccessMac, testbed::kVmMac, kV6,
                                      ip6("fd00::5", "fd00::9", 17, 64, 0, udp(1, 2, "from the vm")))});

  // Tunnels to our addresses (192.0.2.1, 2001:db8::1) from NVEs in
  // tunnel.peers (198.51.100.0/24, 2001:db8::/64), every pair of families.
  out.push_back({"decap_v6_in_v6", 0, from_fabric(kV6, ip6("2001:db8::2", "2001:db8::1", 41, 64, 0x01, v6("fd00::5", 9, 0x02)))});
  out.push_back({"decap_v4_in_v6", 0, from_fabric(kV6, ip6("2001:db8::2", "2001:db8::1", 4, 64, 0, v4_to("10.0.0.5", 9)))});
  out.push_back({"decap_v6_in_v4", 0, from_fabric(kV4, ip4("198.51.100.2", "192.0.2.1", 41, 64, 0x03, v6("fd00::5", 9, 0x01)))});
  out.push_back({"decap_v6_reencap", 0, from_fabric(kV6, ip6("2001:db8::3", "2001:db8::1", 41, 64, 0, v6("fd00::9", 9)))});
  out.push_back({"decap_v6_reencap_v4", 0, from_fabric(kV6, ip6("2001:db8::3", "2001:db8::1", 4, 64, 0, v4_to("10.0.0.9", 9)))});
  out.push_back({"decap_v4_reencap_v6", 0, from_fabric(kV4, ip4("198.51.100.3", "192.0.2.1", 4, 64, 0, v4_to("10.0.0.10", 9)))});
  out.push_back({"decap_v6_stranger", 0, from_fabric(kV6, ip6("2001:db9::2", "2001:db8::1", 41, 64, 0, v6("fd00::5")))});
  out.push_back({"decap_v6_ce_not_ect", 0, from_fabric(kV6, ip6("2001:db8::2", "2001:db8::1", 41, 64, 0x03, v6("fd00::5", 9, 0)))});
  out.push_back({"decap_v6_inner_bad", 0, from_fabric(kV6, ip6("2001:db8::2", "2001:db8::1", 41, 64, 0, v4_to("10.0.0.5")))});
  out.push_back({"decap_v6_inner_multicast", 0, from_fabric(kV6, ip6("2001:db8::2", "2001:db8::1", 41, 64, 0, v6("ff0e::1")))});
  out.push_back({"decap_v6_inner_truncated", 0, from_fabric(kV6, ip6("2001:db8::2", "2001:db8::1", 41, 64, 0, Bytes{0x60, 0, 0, 0}))});
  // ICMP errors (Time Exceeded, Fragmentation Needed: above and here), and
  // the packets that get none: an ICMP error, a non-first fragment.
  Bytes big_no_df = ip4("203.0.113.7", "10.0.0.9", 17, 64, 0, Bytes(1461, 0x5a), false);  // 1481 bytes
  out.push_back({"too_big_no_df", 0, from_fabric(kV4, big_no_df)});
  // Fragmented by nvxdp's slow path as the DPDK path fragments: into an
  // IPv6 tunnel (the flow label of fragments: no ports), a first fragment
  // itself (its MF stays on the last piece), the largest the test bed's
  // mbufs hold, with ECN and DSCP, and out of a tunnel (re-encapsulated).
  Bytes to_v6_nve = ip4("203.0.113.7", "10.0.0.10", 17, 64, 0x2a, udp(5, 6, std::string(1500, 'f')), false);
  out.push_back({"too_big_no_df_to_v6_nve", 0, from_fabric(kV4, to_v6_nve)});
  Bytes first_fragment = big_no_df;
  first_fragment[6] = 0x20;  // MF, offset 0
  first_fragment[10] = first_fragment[11] = 0;
  const uint16_t ck = rte_ipv4_cksum(reinterpret_cast<const rte_ipv4_hdr *>(first_fragment.data()));
  std::memcpy(first_fragment.data() + 10, &ck, 2);
  out.push_back({"too_big_no_df_first_fragment", 0, from_fabric(kV4, first_fragment)});
  out.push_back({"too_big_no_df_largest", 0, from_fabric(kV4, ip4("203.0.113.7", "10.0.0.9", 6, 9, 0x03, Bytes(1860, 0x33), false))});
  out.push_back({"too_big_no_df_reencap", 0,
                 from_fabric(kV4, ip4("198.51.100.3", "192.0.2.1", 4, 64, 0, ip4("203.0.113.7", "10.0.0.9", 17, 64, 0, Bytes(1470, 0x44), false)))});
  out.push_back({"ttl_1_about_icmp_error", 0, from_fabric(kV4, ip4("203.0.113.7", "10.0.0.9", 1, 1, 0,
                                                                    cat(Bytes{11, 0, 0xf4, 0xff, 0, 0, 0, 0}, v4_to("10.0.0.1"))))});
  Bytes frag = ip4("203.0.113.7", "10.0.0.9", 17, 1, 0, udp(1, 2, "later fragment"));
  frag[6] = 0x00;
  frag[7] = 0x10;  // offset 128 bytes: not the first fragment
  auto *fh = reinterpret_cast<rte_ipv4_hdr *>(frag.data());
  fh->hdr_checksum = 0;
  fh->hdr_checksum = rte_ipv4_cksum(fh);
  out.push_back({"ttl_1_later_fragment", 0, from_fabric(kV4, frag)});
  out.push_back({"decap_v4_ttl_1", 0, from_fabric(kV4, ip4("198.51.100.2", "192.0.2.1", 4, 64, 0, v4_to("10.0.0.5", 1)))});
  out.push_back({"options_no_route", 0, edited(v4(77, 64, true, 0), [](auto &f, auto *ip) {
                   ip->version_ihl = 0x46;
                   f.insert(f.begin() + 34, {1, 1, 1, 0});
                   ip = reinterpret_cast<rte_ipv4_hdr *>(f.data() + 14);
                   ip->total_length = rte_cpu_to_be_16(rte_be_to_cpu_16(ip->total_length) + 4);
                 })});
  Bytes inner_opts = v4_to("10.0.0.5", 9);
  inner_opts[0] = 0x46;
  inner_opts.insert(inner_opts.begin() + 20, {1, 1, 1, 0});
  inner_opts[3] += 4;
  auto *io = reinterpret_cast<rte_ipv4_hdr *>(inner_opts.data());
  io->hdr_checksum = 0;
  io->hdr_checksum = rte_ipv4_cksum(io);
  out.push_back({"decap_inner_options", 0, from_fabric(kV4, ip4("198.51.100.2", "192.0.2.1", 4, 64, 0, inner_opts))});
  out.push_back({"decap_no_route", 0, from_fabric(kV4, ip4("198.51.100.2", "192.0.2.1", 4, 64, 0, v4_to("10.0.0.77", 9)))});
  out.push_back({"decap_nested", 0, from_fabric(kV4, ip4("198.51.100.2", "192.0.2.1", 4, 64, 0,
                                                         ip4("198.51.100.2", "192.0.2.5", 4, 9, 0, v4_to("10.0.0.5", 9))))});
  // Outer ECT(1) over an inner ECT(0) that runs out of TTL: the quote carries
  // the ECN RFC 6040 gives it.
  out.push_back({"decap_v4_ttl_1_ecn", 0, from_fabric(kV4, ip4("198.51.100.2", "192.0.2.1", 4, 64, 0x01,
                                                                ip4("203.0.113.7", "10.0.0.5", 17, 1, 0x02, udp(1, 2, "ecn"))))});
  out.push_back({"decap_v6_hop_limit_1", 0, from_fabric(kV6, ip6("2001:db8::2", "2001:db8::1", 41, 64, 0, v6("fd00::5", 1)))});
  return out;
}

// Any interface of this host but lo, as the access port's "receiving"
// device: the test run transmits nothing, it only needs a device.
uint32_t another_ifindex() {
  uint32_t found = 0;
  if (struct if_nameindex *all = if_nameindex()) {
    for (auto *i = all; i->if_index != 0; i++)
      if (i->if_index != kLoopback && !found) found = i->if_index;
    if_freenameindex(all);
  }
  return found;
}

using Counts = std::vector<uint64_t>;

class XdpDifferential : public ::testing::Test {
 protected:
  void SetUp() override {
    tb_ = std::make_unique<testbed::Fixture>("xdp");
    prog_ = std::make_unique<XdpProgram>(NVE_XDP_OBJECT);
    access_if_ = another_ifindex();
    const DataplaneSettings &s = tb_->settings();
    for (uint32_t p = 0; p < 2; p++) {
      MacAddress mac;
      std::memcpy(mac.data(), s.ports[p].mac, 6);
      const uint32_t ifindex = p == 0 ? kLoopback : (access_if_ ? access_if_ : 1000);
      prog_->set_port(p, ifindex, mac, ingress_vn(s, s.ports[p]), s.ports[p].vlan);
      prog_->set_redirect(p, kLoopback);  // any device: the test run does not transmit
    }
    // The test bed's routes through the map backend; what the program does
    // not carry yet is refused with its reason.
    routes_ = std::make_unique<drivers::XdpRoutes>(*prog_, testbed::fabric(), settings_of(s));
    const auto all = testbed::routes();
    const auto res = routes_->apply(all);
    for (const auto &e : res.errors)
      EXPECT_NE(e.reason.find("not in the XDP program"), std::string::npos)
          << all[e.index].route.address.to_string() << ": " << e.reason;
    EXPECT_EQ(res.applied, all.size()) << "every test bed route, both families";
    // One more, on both paths: IPv6 inside IPv4.
    std::vector<RouteChange> more(1);
    more[0].route = {0, testbed::addr("fd00::11")};
    more[0].action = TunnelToNve{testbed::addr("198.51.100.2")};
    ASSERT_EQ(tb_->table().apply(more).applied, 1u);
    tb_->refresh_view();
    ASSERT_EQ(routes_->apply(more).applied, 1u);
  }

  static nve_xdp_settings settings_of(const DataplaneSettings &s) {
    nve_xdp_settings set{};
    set.tunnel_mtu = s.tunnel_mtu;
    set.dscp_set = s.dscp_set >= 0;
    set.dscp = static_cast<uint8_t>(s.dscp_set >= 0 ? s.dscp_set : 0);
    set.fabric_port = static_cast<uint8_t>(s.fabric_port);
    const dp::FabricParams f = testbed::fabric();
    if (s.has_v4) drivers::add_own_address(set, f.own_v4, s.fabric_vn);
    if (s.has_v6) drivers::add_own_address(set, f.own_v6, s.fabric_vn);
    drivers::set_icmp_errors(set, s.has_v4 ? f.own_v4 : IpAddress{}, s.has_v6 ? f.own_v6 : IpAddress{},
                             s.icmp_rate_per_sec, s.icmp_burst);
    drivers::set_tunnel_peers(set, std::span(s.tunnel_peers, s.n_tunnel_peers));
    set.slow_cookie[0] = 0x9e3779b9;  // (nvxdp draws it at random)
    set.slow_cookie[1] = 0x7f4a7c15;
    return set;
  }

  // Settings changed on the DPDK side: the same on the program's (the map
  // backend's routes stay).
  void write_settings() {
    routes_ = std::make_unique<drivers::XdpRoutes>(*prog_, testbed::fabric(), settings_of(tb_->settings()));
    routes_->apply(testbed::routes());
  }

  uint32_t ifindex_of(uint16_t port) const { return port == 0 ? kLoopback : access_if_; }

  Counts dpdk_counts() const {
    Counts c(kCounterCount);
    for (size_t i = 0; i < kCounterCount; i++) c[i] = tb_->ctx().counters.get(static_cast<Counter>(i));
    return c;
  }
  Counts xdp_counts() const {
    Counts c(kCounterCount);
    for (size_t i = 0; i < kCounterCount; i++) c[i] = prog_->counter(static_cast<uint32_t>(i));
    return c;
  }

  // The DPDK path: every packet it sent, (out port, bytes), in order.
  std::vector<std::pair<uint16_t, std::vector<uint8_t>>> dpdk_all(const Case &c) {
    rte_mbuf *m = tb_->mbuf(c.frame.data(), c.frame.size());
    process_burst(tb_->ctx(), c.in_port, &m, 1);
    std::vector<std::pair<uint16_t, std::vector<uint8_t>>> out;
    for (uint16_t p = 0; p < kMaxPorts; p++) {
      const OutQueue &q = tb_->ctx().out[p];
      for (uint16_t i = 0; i < q.n; i++) {
        std::vector<uint8_t> b(rte_pktmbuf_pkt_len(q.pkts[i]));
        const auto *d = static_cast<const uint8_t *>(rte_pktmbuf_read(q.pkts[i], 0, static_cast<uint32_t>(b.size()), b.data()));
        std::memcpy(b.data(), d, b.size());
        out.emplace_back(p, std::move(b));
      }
    }
    tb_->drain_outputs();
    return out;
  }
  // Its first packet, if any.
  std::optional<std::pair<uint16_t, std::vector<uint8_t>>> dpdk(const Case &c) {
    auto all = dpdk_all(c);
    if (all.empty()) return std::nullopt;
    return all.front();
  }

  // A frame the program handed to nvxdp's slow path (fragmentation): what
  // nvxdp sends for it (drivers/xdp/xdp_fragments.h, the code nvxdp runs),
  // numbered from `ip_id`, none if it cannot be sent; nullopt if it is no
  // such frame.
  std::optional<std::vector<std::vector<uint8_t>>> slow_path(const std::vector<uint8_t> &frame, uint16_t ip_id) {
    if (frame.size() < 14 || frame[12] != (NVE_XDP_SLOW_ETHERTYPE >> 8) || frame[13] != (NVE_XDP_SLOW_ETHERTYPE & 0xff))
      return std::nullopt;
    const DataplaneSettings &s = tb_->settings();
    std::string why;
    const auto output = drivers::slow_path_output(*routes_, frame, s.tunnel_mtu, s.dscp_set, ip_id, why);
    EXPECT_TRUE(output) << "nvxdp would send nothing: " << why;
    return output ? output->pieces : std::vector<std::vector<uint8_t>>{};
  }

  // One case through both; returns the XDP verdict.
  uint32_t compare(const Case &c) {
    SCOPED_TRACE(c.name);
    const Counts d0 = dpdk_counts(), x0 = xdp_counts();
    const uint16_t ip_id = tb_->ctx().next_ip_id;
    const auto all = dpdk_all(c);
    const auto want = all.empty() ? std::nullopt : std::optional(all.front());
    const auto got = prog_->run(c.frame, ifindex_of(c.in_port));
    const Counts d1 = dpdk_counts(), x1 = xdp_counts();
    const bool documented = kDocumented.count(c.name) > 0;
    auto moved = [&](const Counts &a, const Counts &b) {
      std::string s;
      for (size_t i = 0; i < a.size(); i++)
        if (b[i] != a[i] && i != static_cast<size_t>(Counter::tx_packets))  // the DPDK path counts TX at the port
          s += std::string(kCounterInfo[i].name) + "+" + std::to_string(b[i] - a[i]) + " ";
      return s;
    };
    if (got.verdict == XDP_PASS) {
      if (auto frags = slow_path(got.out, ip_id)) {  // fragmented by nvxdp: as the DPDK path, every fragment
        std::string why;
        EXPECT_FALSE(drivers::parse_slow_frame(got.out, routes_->slow_cookie() + 1, why))
            << "a frame without the cookie is nobody's";
        EXPECT_EQ(moved(x0, x1), moved(d0, d1)) << "the same counters";
        EXPECT_EQ(frags->size(), all.size()) << "as many fragments";
        for (size_t i = 0; i < std::min(frags->size(), all.size()); i++) {
          EXPECT_EQ(all[i].first, 0) << "fragment " << i << " leaves by the fabric port";
          EXPECT_EQ(hex((*frags)[i]), hex(all[i].second)) << "fragment " << i;
        }
        return got.verdict;
      }
      EXPECT_TRUE(documented) << "XDP hands it to the kernel; the DPDK path "
                              << (want ? "sends it on port " + std::to_string(want->first) : "drops it: " + moved(d0, d1));
      EXPECT_EQ(hex(got.out), hex(c.frame)) << "passed to the kernel as it came";
      EXPECT_EQ(moved(x0, x1), "rx_packets+1 ");
      return got.verdict;
    }
    if (documented) {  // dropped by XDP where the DPDK path forwards it (documented): on a named drop counter
      EXPECT_EQ(got.verdict, static_cast<uint32_t>(XDP_DROP));
      EXPECT_TRUE(want) << "the DPDK path forwards it";
      bool named = false;
      for (size_t i = 0; i < x0.size(); i++) named = named || (x1[i] != x0[i] && kCounterInfo[i].is_drop);
      EXPECT_TRUE(named) << "XDP counts the drop: " << moved(x0, x1);
      return got.verdict;
    }
    EXPECT_EQ(moved(x0, x1), moved(d0, d1)) << "the same counters";
    if (got.verdict == XDP_DROP) {
      EXPECT_FALSE(want) << "XDP drops what the DPDK path sends on port " << (want ? want->first : 0);
      return got.verdict;
    }
    EXPECT_TRUE(got.verdict == XDP_TX || got.verdict == XDP_REDIRECT) << "verdict " << got.verdict;
    if (!want) {
      ADD_FAILURE() << "XDP forwards what the DPDK path drops";
      return got.verdict;
    }
    if (got.verdict == XDP_TX) {
      EXPECT_EQ(c.in_port, want->first) << "XDP sends it back out the port it came in";
    } else {
      EXPECT_NE(c.in_port, want->first) << "XDP redirects it to another port";
    }
    EXPECT_EQ(hex(got.out), hex(want->second));
    return got.verdict;
  }

  std::unique_ptr<testbed::Fixture> tb_;
  std::unique_ptr<XdpProgram> prog_;
  std::unique_ptr<drivers::XdpRoutes> routes_;
  uint32_t access_if_ = 0;
};

}  // namespace

TEST_F(XdpDifferential, EveryPacketAsTheDpdkPathOrADocumentedDifference) {
  std::map<uint32_t, int> verdicts;
  for (const Case &c : cases()) {
    if (c.in_port == 1 && !access_if_) {  // no second device on this host: said, not silent
      std::printf("  %-18s skipped: no interface but lo to arrive on\n", c.name.c_str());
      continue;
    }
    const uint32_t v = compare(c);
    verdicts[v]++;
    std::printf("  %-18s in %u: %s\n", c.name.c_str(), c.in_port, v == XDP_TX ? "tx" : v == XDP_REDIRECT ? "redirect" : v == XDP_DROP ? "drop" : v == XDP_PASS ? "pass" : "?");
  }
  EXPECT_EQ(verdicts[XDP_TX], 26)
      << "every encapsulation and re-encapsulation, and the 7 ICMP errors: out the port they came in";
  EXPECT_GE(verdicts[XDP_REDIRECT], 7) << "local and decapsulated deliveries (and from_vm): to the other port";
  EXPECT_GE(verdicts[XDP_DROP], 20) << "the malformed ones, the packets that get no ICMP error";
  EXPECT_EQ(verdicts[XDP_PASS], 10)
      << "arp_reply, nd_solicit, options_no_route, no_route, no_route_v6, and the five too_big_no_df to nvxdp's slow path";
}

// tunnel.dscp set: the outer DSCP is the configured one, the ECN the inner's.
TEST_F(XdpDifferential, AConfiguredDscpIsWrittenAsTheDpdkPathWritesIt) {
  tb_->settings().dscp_set = 10;
  write_settings();
  EXPECT_EQ(compare({"dscp_set", 0, v4(9, 64, true, 0xb9)}), static_cast<uint32_t>(XDP_TX));
}

// The map backend: one outer header per destination NVE, shared by its
// routes and freed with the last; removal, replacement, refusals; a gateway
// whose MAC is unknown makes the program drop what it cannot address
// (drop_neighbour_unresolved, as the DPDK path).
TEST_F(XdpDifferential, TheMapBackendSharesEachNvesHeaderAndFreesItWithTheLastRoute) {
  auto tunnel = [](uint8_t last, const char *nve) {
    RouteChange c;
    c.route = {0, testbed::addr(("10.0.0." + std::to_string(last)).c_str())};
    c.action = TunnelToNve{testbed::addr(nve)};
    return c;
  };
  auto removal = [](uint8_t last) {
    RouteChange c;
    c.op = RouteChange::Op::Remove;
    c.route = {0, testbed::addr(("10.0.0." + std::to_string(last)).c_str())};
    return c;
  };
  ASSERT_EQ(routes_->nve_count(), 2u);  // 198.51.100.2 (10.0.0.9, fd00::11), 2001:db8::2 (three routes)
  std::vector<RouteChange> more = {tunnel(20, "198.51.100.2"), tunnel(21, "198.51.100.3")};
  EXPECT_TRUE(routes_->apply(more).errors.empty());
  EXPECT_EQ(routes_->nve_count(), 3u) << "10.0.0.20 shares 198.51.100.2's header";
  const auto to_21 = prog_->run(v4(21, 64, true, 0), kLoopback);  // (the DPDK side has not these routes)
  EXPECT_EQ(to_21.verdict, static_cast<uint32_t>(XDP_TX));
  ASSERT_GE(to_21.out.size(), 34u);
  EXPECT_EQ(hex(std::vector<uint8_t>(to_21.out.begin() + 30, to_21.out.begin() + 34)), "c6336403")
      << "outer destination 198.51.100.3";
  const HostRoute r21{0, testbed::addr("10.0.0.21")};
  EXPECT_EQ(routes_->find(r21)->hits, 1u) << "the program counts the ticks each route was taken in (the agent's idle timers)";
  EXPECT_EQ(prog_->run(v4(21, 64, true, 0), kLoopback).verdict, static_cast<uint32_t>(XDP_TX));
  EXPECT_LE(routes_->find(r21)->hits, 2u) << "at most once a tick";
  const auto next_tick = [] { std::this_thread::sleep_for(std::chrono::milliseconds(12)); };  // > a jiffy at HZ 100
  next_tick();

  // The gateway's MAC forgotten: no header can be addressed, the program drops.
  dp::FabricParams unknown = testbed::fabric();
  unknown.gateway_mac_v4.reset();
  routes_->set_fabric(unknown);
  const uint64_t before = prog_->counter(NVE_XDP_C_drop_neighbour_unresolved);
  const uint64_t before_unresolved = routes_->find(r21)->hits;
  EXPECT_EQ(prog_->run(v4(21, 64, true, 0), kLoopback).verdict, static_cast<uint32_t>(XDP_DROP));
  EXPECT_EQ(routes_->find(r21)->hits, before_unresolved + 1) << "taken in a later tick (dropped while unresolved)";
  EXPECT_EQ(prog_->counter(NVE_XDP_C_drop_neighbour_unresolved), before + 1);
  routes_->set_fabric(testbed::fabric());

  RouteChange v6_gone;
  v6_gone.op = RouteChange::Op::Remove;
  v6_gone.route = {0, testbed::addr("fd00::11")};
  std::vector<RouteChange> gone = {removal(9), removal(20), removal(77), v6_gone};
  const auto res = routes_->apply(gone);
  ASSERT_EQ(res.errors.size(), 1u);
  EXPECT_EQ(res.errors[0].index, 2u);
  EXPECT_EQ(res.errors[0].reason, "no such route");
  EXPECT_EQ(routes_->nve_count(), 2u) << "198.51.100.2's last route went";
  EXPECT_FALSE(routes_->find({0, testbed::addr("10.0.0.9")}));
  EXPECT_EQ(prog_->run(v4(9, 64, true, 0), kLoopback).verdict, static_cast<uint32_t>(XDP_PASS)) << "no route any more";

  RouteChange local;
  local.route = {0, testbed::addr("10.0.0.21")};
  local.action = DeliverLocal{1, testbed::kVmMac, 0};
  std::vector<RouteChange> replace = {local};
  EXPECT_TRUE(routes_->apply(replace).errors.empty());
  EXPECT_EQ(routes_->nve_count(), 1u) << "198.51.100.3's only route is local now; 2001:db8::2 stays";
  EXPECT_EQ(routes_->find({0, testbed::addr("10.0.0.21")})->action, RouteAction{local.action});
  EXPECT_EQ(routes_->find(r21)->hits, before_unresolved + 1) << "a replaced route keeps its use";
  next_tick();
  EXPECT_EQ(prog_->run(v4(21, 64, true, 0), kLoopback).verdict, static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_EQ(routes_->find(r21)->hits, before_unresolved + 2);

  RouteChange far = tunnel(22, "198.51.100.9");
  dp::FabricParams v6_only = testbed::fabric();
  v6_only.own_v4 = IpAddress{};
  routes_->set_fabric(v6_only);
  std::vector<RouteChange> refused = {far};
  const auto rv = routes_->apply(refused);
  ASSERT_EQ(rv.errors.size(), 1u);
  EXPECT_NE(rv.errors[0].reason.find("no IPv4 underlay address"), std::string::npos) << rv.errors[0].reason;
  EXPECT_FALSE(routes_->find({0, testbed::addr("10.0.0.22")})) << "refused: not written half";
}

// An IPv6 VN endpoint (virtual_networks) on both paths: a tunnel to it, of
// either family inside, is decapsulated into its VN (VN 5's VM, never VN 0's).
TEST_F(XdpDifferential, AnIpv6EndpointDecapsulatesIntoItsVn) {
  VnEndpoint &e = tb_->settings().vn_endpoints[tb_->settings().n_vn_endpoints++];
  e.vn = 5;
  e.family = kFamilyV6;
  std::memcpy(e.addr, testbed::addr("2001:db8::5").bytes.data(), 16);
  std::vector<RouteChange> own(2);
  own[0].route = {0, testbed::addr("2001:db8::5")};
  own[0].action = OwnEndpoint{5};
  own[1].route = {5, testbed::addr("fd00::5")};
  own[1].action = DeliverLocal{1, testbed::kVn5VmMac, 0};
  ASSERT_EQ(tb_->table().apply(own).applied, 2u);
  tb_->refresh_view();
  ASSERT_TRUE(routes_->apply(own).errors.empty());
  const uint16_t kV6 = 0x86dd;
  EXPECT_EQ(compare({"decap_v4_to_vn5_v6", 0, from_fabric(kV6, ip6("2001:db8::2", "2001:db8::5", 4, 64, 0, v4_to("10.0.0.5", 9)))}),
            static_cast<uint32_t>(XDP_REDIRECT));
  const auto got = prog_->run(from_fabric(kV6, ip6("2001:db8::2", "2001:db8::5", 41, 64, 0, v6("fd00::5", 9))), kLoopback);
  ASSERT_GE(got.out.size(), 6u);
  EXPECT_EQ(hex(Bytes(got.out.begin(), got.out.begin() + 6)), "020000000505") << "VN 5's VM";
}

// ICMP errors are rate-limited per CPU as the DPDK path limits them per
// worker: a burst, then drop_icmp_rate_limited (this thread pinned to one
// CPU, so the program's per-CPU bucket is one bucket).
TEST_F(XdpDifferential, IcmpErrorsAreRateLimitedAsTheDpdkPathLimitsThem) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(sched_getcpu(), &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  tb_->settings().icmp_burst = 2;
  tb_->settings().icmp_rate_per_sec = 1;
  write_settings();
  EXPECT_EQ(compare({"ttl_1_first", 0, v4(9, 1, true, 0)}), static_cast<uint32_t>(XDP_TX));
  EXPECT_EQ(compare({"ttl_1_second", 0, v4(9, 1, true, 0)}), static_cast<uint32_t>(XDP_TX));
  const uint64_t limited = prog_->counter(NVE_XDP_C_drop_icmp_rate_limited);
  EXPECT_EQ(compare({"ttl_1_third", 0, v4(9, 1, true, 0)}), static_cast<uint32_t>(XDP_DROP));
  EXPECT_EQ(prog_->counter(NVE_XDP_C_drop_icmp_rate_limited), limited + 1);
}

// VLAN access ports (test bed port 2, VLAN 100), as the DPDK path handles
// them: only the port's own tag accepted, tagged delivery to a VLAN route,
// the tag stripped into a tunnel, an ICMP error sent back tagged. Port 2
// "receives" on the interface port 1 had (the host may have no third).
TEST_F(XdpDifferential, VlanAccessPortsAsTheDpdkPath) {
  if (!access_if_) GTEST_SKIP() << "no interface but lo to arrive on";
  const DataplaneSettings &s = tb_->settings();
  MacAddress mac;
  std::memcpy(mac.data(), s.ports[2].mac, 6);
  prog_->set_port(2, access_if_, mac, ingress_vn(s, s.ports[2]), s.ports[2].vlan);
  prog_->set_redirect(2, kLoopback);
  const uint32_t kept[] = {0, 2};
  prog_->clear_ports_except(kept);  // port 1 had the same interface: frames on it are port 2's now
  std::vector<RouteChange> vlan_vm(1);
  vlan_vm[0].route = {0, testbed::addr("10.0.0.30")};
  vlan_vm[0].action = DeliverLocal{2, testbed::kVmMac, 100};
  ASSERT_EQ(tb_->table().apply(vlan_vm).applied, 1u);
  tb_->refresh_view();
  ASSERT_TRUE(routes_->apply(vlan_vm).errors.empty());

  auto tagged = [](uint16_t tci, uint16_t type, const Bytes &payload) {
    Bytes f = eth(testbed::kAccessMac, testbed::kVmMac, 0x8100, {static_cast<uint8_t>(tci >> 8), static_cast<uint8_t>(tci),
                                                                  static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type)});
    return cat(f, payload);
  };
  const uint16_t kV4 = 0x0800, kV6 = 0x86dd;
  const Bytes from_vm4 = ip4("10.0.0.30", "10.0.0.9", 17, 64, 0x02, udp(7, 8, "tagged"));
  std::map<std::string, uint32_t> want = {
      {"vlan_to_tunnel", XDP_REDIRECT}, {"vlan_pcp_to_tunnel", XDP_REDIRECT}, {"vlan_v6_to_tunnel", XDP_REDIRECT},
      {"vlan_to_vlan_vm", XDP_TX},      {"fabric_to_vlan_vm", XDP_REDIRECT},  {"vlan_ttl_1", XDP_TX},
      {"vlan_other_tag", XDP_DROP},     {"vlan_untagged", XDP_DROP},          {"vlan_truncated", XDP_DROP},
      {"fabric_tagged", XDP_DROP}};
  const std::vector<Case> cases = {
      {"vlan_to_tunnel", 2, tagged(100, kV4, from_vm4)},
      {"vlan_pcp_to_tunnel", 2, tagged(0xa000 | 100, kV4, from_vm4)},  // priority 5: still VLAN 100
      {"vlan_v6_to_tunnel", 2, tagged(100, kV6, ip6("fd00::30", "fd00::9", 17, 64, 0, udp(7, 8, "tagged v6")))},
      {"vlan_to_vlan_vm", 2, tagged(100, kV4, ip4("10.0.0.31", "10.0.0.30", 17, 64, 0, udp(7, 8, "same VLAN")))},
      {"fabric_to_vlan_vm", 0, from_fabric(kV4, v4_to("10.0.0.30"))},
      {"vlan_ttl_1", 2, tagged(100, kV4, ip4("10.0.0.30", "10.0.0.9", 17, 1, 0, udp(7, 8, "ttl 1")))},
      {"vlan_other_tag", 2, tagged(200, kV4, from_vm4)},
      {"vlan_untagged", 2, eth(testbed::kAccessMac, testbed::kVmMac, kV4, from_vm4)},
      {"vlan_truncated", 2, Bytes{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 1, 1, 0x81, 0, 0, 100}},
      {"fabric_tagged", 0, eth(testbed::kFabricMac, testbed::kGwMac, 0x8100, cat(Bytes{0, 100, 8, 0}, v4_to("10.0.0.5")))},
  };
  for (const Case &c : cases) {
    const uint32_t v = compare(c);
    std::printf("  %-20s in %u: %u\n", c.name.c_str(), c.in_port, v);
    EXPECT_EQ(v, want[c.name]) << c.name;
  }
}

// Taking over maps an earlier instance left (pinned): while the new
// instance writes its routes, a route the earlier one wrote keeps pointing
// at its NVE's header, even when the new instance's last route to that NVE
// goes before prune(): the index is not handed to another NVE meanwhile.
// prune() then removes what nobody names and frees the header.
TEST_F(XdpDifferential, ATakeoverNeverPointsAnEarlierRouteAtAnotherNve) {
  const IpAddress x = testbed::addr("198.51.100.2");  // fd00::11's NVE, written by the earlier instance
  drivers::XdpRoutes next(*prog_, testbed::fabric(), settings_of(tb_->settings()));
  next.adopt();
  ASSERT_EQ(next.nve_count(), 2u) << "198.51.100.2 and 2001:db8::2 adopted";
  std::vector<RouteChange> mine(2);
  mine[0].route = {0, testbed::addr("10.0.0.9")};
  mine[0].action = TunnelToNve{x};
  mine[1].route = {0, testbed::addr("10.0.0.9")};
  mine[1].action = DeliverLocal{1, testbed::kVmMac, 0};  // its last route to 198.51.100.2 goes
  ASSERT_TRUE(next.apply(mine).errors.empty());
  std::vector<RouteChange> other(1);
  other[0].route = {0, testbed::addr("10.0.0.40")};
  other[0].action = TunnelToNve{testbed::addr("198.51.100.7")};
  ASSERT_TRUE(next.apply(other).errors.empty());

  // fd00::11 (the earlier instance's route, not the new one's) still
  // tunnels to 198.51.100.2, not 198.51.100.7.
  const auto still = prog_->run(from_fabric(0x86dd, v6("fd00::11")), kLoopback);
  ASSERT_EQ(still.verdict, static_cast<uint32_t>(XDP_TX));
  ASSERT_GE(still.out.size(), 34u);
  EXPECT_EQ(hex(Bytes(still.out.begin() + 30, still.out.begin() + 34)), "c6336402") << "outer destination 198.51.100.2";
  const auto to_40 = prog_->run(v4(40, 64, true, 0), kLoopback);
  ASSERT_GE(to_40.out.size(), 34u);
  EXPECT_EQ(hex(Bytes(to_40.out.begin() + 30, to_40.out.begin() + 34)), "c6336407") << "outer destination 198.51.100.7";

  EXPECT_GE(next.prune(), 1u) << "fd00::11 and the other routes only the earlier instance named";
  EXPECT_EQ(prog_->run(from_fabric(0x86dd, v6("fd00::11")), kLoopback).verdict, static_cast<uint32_t>(XDP_PASS))
      << "gone after prune";
  EXPECT_EQ(next.nve_count(), 1u) << "only 198.51.100.7 is named now";
}

// show routes over the XDP maps (RouteCommands, as nved's): every route once
// in pages, whatever is added or removed between pages; a route's last use
// from the tick the program stamped.
TEST_F(XdpDifferential, TheMapBackendListsEveryRouteOnceInPagesWhateverChangesBetween) {
  auto route = [](uint32_t i) {
    RouteChange c;
    c.route = {7, testbed::addr(("10.7." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1)).c_str())};
    c.action = TunnelToNve{testbed::addr("198.51.100.2")};
    return c;
  };
  std::vector<RouteChange> batch;
  for (uint32_t i = 0; i < 3000; i++) batch.push_back(route(i));
  ASSERT_TRUE(routes_->apply(batch).errors.empty());
  const size_t before = routes_->size();
  EXPECT_EQ(routes_->list().size(), before);

  std::map<HostRoute, int> seen;
  uint64_t cursor = 0;
  size_t pages = 0;
  uint32_t added = 3000, removed = 0;
  do {
    const auto page = routes_->list_page(cursor, 100);
    EXPECT_TRUE(cursor == 0 || page.size() >= 100) << "a page before the last has what was asked";
    for (const auto &v : page) seen[v.route]++;
    // Between pages: 5 routes added, 5 of the first ones removed.
    std::vector<RouteChange> change;
    for (int k = 0; k < 5; k++) change.push_back(route(added++));
    for (int k = 0; k < 5; k++) {
      RouteChange gone = route(removed++);
      gone.op = RouteChange::Op::Remove;
      change.push_back(gone);
    }
    ASSERT_TRUE(routes_->apply(change).errors.empty());
    pages++;
  } while (cursor != 0 && pages < 1000);
  EXPECT_GT(pages, 25u);
  for (const auto &[r, n] : seen) EXPECT_EQ(n, 1) << r.address.to_string() << " listed " << n << " times";
  for (uint32_t i = removed; i < 3000; i++)
    EXPECT_EQ(seen.count(route(i).route), 1u) << route(i).route.address.to_string() << ", there throughout, missed";
  for (const auto &v : routes_->list())  // the test bed's own routes (and endpoints) too
    if (v.route.vn != 7) EXPECT_EQ(seen.count(v.route), 1u) << v.route.address.to_string();

  const HostRoute r9{0, testbed::addr("10.0.0.9")};
  EXPECT_FALSE(routes_->seconds_since_hit(*routes_->find(r9))) << "never taken yet";
  ASSERT_EQ(prog_->run(v4(9, 64, true, 0), kLoopback).verdict, static_cast<uint32_t>(XDP_TX));
  const auto ago = routes_->seconds_since_hit(*routes_->find(r9));
  ASSERT_TRUE(ago);
  EXPECT_LT(*ago, 1.0) << "taken just now";
  EXPECT_STREQ(routes_->hits_unit(), "ticks");
  bool listed = false;
  for (const auto &v : routes_->list())  // (one batched read of the map)
    if (v.route == r9) listed = v.hits == 1 && v.last_hit == routes_->find(r9)->last_hit;
  EXPECT_TRUE(listed) << "the whole listing carries the use stamps too";
}
