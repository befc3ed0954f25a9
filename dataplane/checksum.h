// Checksum helpers: incremental updates (RFC 1624) so a TTL or ECN change does
// not recompute the whole header.
#pragma once

#include <rte_byteorder.h>
#include <rte_ip.h>

#include <bit>
#include <cstdint>

namespace nvmove::dp {

// Updates a one's complement checksum (network order) for a 16-bit word that
// changed from old_w to new_w (both network order).
inline uint16_t csum_update16(uint16_t csum, uint16_t old_w, uint16_t new_w) {
  uint32_t s = static_cast<uint16_t>(~csum) + static_cast<uint16_t>(~old_w) + new_w;
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

inline uint16_t fold_csum(uint32_t s) {
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

inline uint16_t load16(const void *p) {
  uint16_t v;
  __builtin_memcpy(&v, p, 2);
  return v;
}

// Decrements the IPv4 TTL (the caller guarantees TTL > 0) and patches the
// checksum without reading the old word back: the (TTL, protocol) word as
// loaded on a little-endian CPU drops by exactly 1, so RFC 1624 eqn. 3,
// HC' = ~(~HC + ~m + m'), becomes ~(~HC + 0xfffe) (one's complement sums are
// byte-order independent, RFC 1071). One fold suffices: the sum is at most
// 0x1fffd. Storing the TTL byte and reloading the word would also stall on
// store-to-load forwarding (it did: a quarter of the fast path's time).
static_assert(std::endian::native == std::endian::little, "ipv4_dec_ttl assumes little-endian loads");
inline void ipv4_dec_ttl(rte_ipv4_hdr *ip) {
  ip->time_to_live = static_cast<uint8_t>(ip->time_to_live - 1);
  uint32_t s = static_cast<uint16_t>(~ip->hdr_checksum) + 0xfffeu;
  s = (s & 0xffff) + (s >> 16);
  ip->hdr_checksum = static_cast<uint16_t>(~s);
}

// Sets the IPv4 TOS byte and patches the header checksum.
inline void ipv4_set_tos(rte_ipv4_hdr *ip, uint8_t tos) {
  const uint16_t old_w = load16(&ip->version_ihl);
  uint8_t nb[2] = {ip->version_ihl, tos};
  uint16_t new_w;
  __builtin_memcpy(&new_w, nb, 2);
  __builtin_memcpy(&ip->version_ihl, &new_w, 2);
  ip->hdr_checksum = csum_update16(ip->hdr_checksum, old_w, new_w);
}

inline uint8_t ipv6_tclass(const rte_ipv6_hdr *ip6) {
  return static_cast<uint8_t>(rte_be_to_cpu_32(ip6->vtc_flow) >> 20);
}

inline void ipv6_set_tclass(rte_ipv6_hdr *ip6, uint8_t tc) {
  const uint32_t v = rte_be_to_cpu_32(ip6->vtc_flow);
  ip6->vtc_flow = rte_cpu_to_be_32((v & 0xf00fffffu) | (uint32_t{tc} << 20));
}

}  // namespace nvmove::dp
