// Small reads and rewrites of a classified packet's header fields (own-address
// tests, TTL/hop limit, TOS, re-framing) that several pipeline stages share.
#pragma once

#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <cstring>

#include "dataplane/checksum.h"
#include "dataplane/ip_validate.h"
#include "dataplane/mbuf_chain.h"
#include "dataplane/packet_meta.h"
#include "dataplane/route_entry.h"
#include "dataplane/settings.h"

namespace nvmove::dp {

inline constexpr uint8_t kIcmpTimeExceeded = 11, kIcmpUnreach = 3, kIcmpFragNeeded = 4;
inline constexpr uint8_t kIcmp6TooBig = 2, kIcmp6TimeExceeded = 3;
inline constexpr uint8_t kIcmp6EchoRequest = 128, kIcmp6EchoReply = 129, kIcmp6Ns = 135, kIcmp6Na = 136;

inline bool is_own_v4(const DataplaneSettings &s, const void *addr) {
  uint32_t a, o;
  std::memcpy(&a, addr, 4);
  std::memcpy(&o, s.own_v4, 4);
  return s.has_v4 && a == o;
}

// 6-byte compare without a libc call.
inline bool mac_equal(const uint8_t *a, const uint8_t *b) {
  uint32_t a4, b4;
  uint16_t a2, b2;
  std::memcpy(&a4, a, 4);
  std::memcpy(&b4, b, 4);
  std::memcpy(&a2, a + 4, 2);
  std::memcpy(&b2, b + 4, 2);
  return ((a4 ^ b4) | uint32_t(a2 ^ b2)) == 0;
}
inline bool is_own_v6(const DataplaneSettings &s, const void *addr) {
  return s.has_v6 && addr6_equal(load_addr6(addr), load_addr6(s.own_v6));
}

// Whether `addr` is one of this NVE's endpoints and, if so, the VN whose
// packets a tunnel to it carries: nve.ipv4/ipv6 carry fabric_vn's, each
// virtual_networks address its own VN's. Exceptional traffic only (the
// common path compares the main address alone; the route table sends the
// rest here through kRouteOwn entries).
inline bool own_endpoint(const DataplaneSettings &s, uint8_t family, const uint8_t *addr, uint32_t &vn) {
  if (family == kFamilyV4 ? is_own_v4(s, addr) : is_own_v6(s, addr)) {
    vn = s.fabric_vn;
    return true;
  }
  const size_t len = family == kFamilyV4 ? 4 : 16;
  for (uint16_t i = 0; i < s.n_vn_endpoints; i++) {
    const VnEndpoint &e = s.vn_endpoints[i];
    if (e.family == family && std::memcmp(e.addr, addr, len) == 0) {
      vn = e.vn;
      return true;
    }
  }
  return false;
}

inline bool own_endpoint(const DataplaneSettings &s, uint8_t family, const uint8_t *addr) {
  uint32_t vn;
  return own_endpoint(s, family, addr, vn);
}

// Whether `src` is in the configured tunnel.peers prefixes: tunnels are
// decapsulated only from known NVEs (RFC 6169 3, CVE-2020-10136: otherwise
// any host on the fabric can inject packets into a tenant's VM or use the NVE
// as a relay). classify.cc also accepts the NVEs learnt from nvad. A handful
// of prefixes: a scan is enough.
inline bool tunnel_peer_allowed(const DataplaneSettings &s, uint8_t family, const uint8_t *src) {
  IpAddress a;
  a.family = family;
  std::memcpy(a.bytes.data(), src, family == kFamilyV4 ? 4 : 16);
  for (uint16_t i = 0; i < s.n_tunnel_peers; i++)
    if (s.tunnel_peers[i].contains(a)) return true;
  return false;
}

inline uint8_t ttl_of(const PacketMeta &pm) {
  return pm.family == kFamilyV4 ? reinterpret_cast<const rte_ipv4_hdr *>(pm.l3)->time_to_live
                                : reinterpret_cast<const rte_ipv6_hdr *>(pm.l3)->hop_limits;
}

inline void dec_ttl(const PacketMeta &pm) {
  if (pm.family == kFamilyV4) ipv4_dec_ttl(reinterpret_cast<rte_ipv4_hdr *>(pm.l3));
  else reinterpret_cast<rte_ipv6_hdr *>(pm.l3)->hop_limits--;
}

inline uint8_t tos_of(const PacketMeta &pm) {
  return pm.family == kFamilyV4 ? reinterpret_cast<const rte_ipv4_hdr *>(pm.l3)->type_of_service
                                : ipv6_tclass(reinterpret_cast<const rte_ipv6_hdr *>(pm.l3));
}

// Sets the frame to start `l2` bytes before pm.l3 and end with the IP packet
// (dropping any Ethernet padding, or a chain's segments past it). Returns
// the new frame start or nullptr.
inline uint8_t *reframe(rte_mbuf *m, const PacketMeta &pm, uint16_t l2) {
  uint8_t *start = pm.l3 - l2;
  if (__builtin_expect(start < static_cast<uint8_t *>(m->buf_addr), 0)) return nullptr;
  set_frame(m, start, uint32_t{l2} + pm.l3_len);
  return start;
}

}  // namespace nvmove::dp
