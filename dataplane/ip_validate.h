// Header validation shared by native and decapsulated packets. Each failure
// names its drop counter; Counter::kCount means the header is good.
#pragma once

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <smmintrin.h>

#include <array>

#include "dataplane/counters.h"

namespace nvmove::dp {

inline constexpr Counter kValid = Counter::kCount;

// One's complement sum of an IPv4 header is 0xffff when its checksum is right.
// The usual 20-byte header: five 32-bit words summed in a 64-bit register.
// Since 2^16 = 1 (mod 2^16 - 1), that sum is congruent to the sum of the
// header's 16-bit words, and folding with end-around carries gives 0xffff
// exactly when a nonzero sum is divisible by 0xffff: a multiply-and-compare
// divisibility test instead of four folds (against ~70 instructions for the
// generic 16-bit loop of rte_raw_cksum).
inline bool ipv4_header_checksum_ok(const uint8_t *l3, uint32_t ihl) {
  if (ihl != 20) return rte_raw_cksum(l3, ihl) == 0xffff;
  uint64_t s = 0;
  for (int i = 0; i < 5; i++) {
    uint32_t w;
    __builtin_memcpy(&w, l3 + 4 * i, 4);
    s += w;
  }
  return s % 0xffff == 0 && s != 0;
}

// Whether the received frame's IPv4 header checksum still needs checking in
// software: not when the port's RX offload found it good; a header the port
// found bad is dropped like one the software finds bad. Only for the header
// the frame arrived with, never for a decapsulated inner one.
enum class RxChecksum : uint8_t { Unknown, Good, Bad };
inline RxChecksum rx_ipv4_checksum(const rte_mbuf *m) {
  const uint64_t f = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
  return f == RTE_MBUF_F_RX_IP_CKSUM_GOOD ? RxChecksum::Good
         : f == RTE_MBUF_F_RX_IP_CKSUM_BAD ? RxChecksum::Bad
                                           : RxChecksum::Unknown;
}

// Sources a router never forwards, by first octet (RFC 1812 4.2.2.11 and
// 5.3.7): network 0 ("this network", 0.0.0.0 included), 127 (loopback), 224
// and above (multicast, reserved, limited broadcast). A table lookup is two
// instructions where the three comparisons were eight.
inline constexpr std::array<uint8_t, 256> kIpv4SourceNeverForwarded = [] {
  std::array<uint8_t, 256> t{};
  t[0] = t[127] = 1;
  for (int o = 224; o < 256; o++) t[o] = 1;
  return t;
}();

inline bool ipv4_source_never_forwarded(uint8_t first_octet) { return kIpv4SourceNeverForwarded[first_octet] != 0; }

// The header checksum is wrong: by the port's verdict when it gave one, else
// computed here.
inline bool ipv4_checksum_wrong(const uint8_t *l3, uint32_t ihl, RxChecksum rx) {
  return rx == RxChecksum::Bad || (rx == RxChecksum::Unknown && !ipv4_header_checksum_ok(l3, ihl));
}

// rx: the port's verdict on this header (Unknown for a decapsulated one). A
// header the port found bad counts as such before any other check.
inline Counter validate_ipv4(const uint8_t *l3, uint32_t avail, bool verify_csum,
                             RxChecksum rx = RxChecksum::Unknown) {
  if (verify_csum && rx == RxChecksum::Bad) return Counter::drop_ipv4_bad_checksum;
  if (avail < sizeof(rte_ipv4_hdr)) return Counter::drop_ipv4_truncated;
  const auto *ip = reinterpret_cast<const rte_ipv4_hdr *>(l3);
  if ((ip->version_ihl >> 4) != 4) return Counter::drop_ipv4_bad_version;
  const uint32_t ihl = (ip->version_ihl & 0xf) * 4u;
  if (ihl < sizeof(rte_ipv4_hdr) || ihl > avail) return Counter::drop_ipv4_bad_ihl;
  const uint32_t tot = rte_be_to_cpu_16(ip->total_length);
  if (tot < ihl || tot > avail) return Counter::drop_ipv4_bad_length;
  if (verify_csum && ipv4_checksum_wrong(l3, ihl, rx)) return Counter::drop_ipv4_bad_checksum;
  if (ipv4_source_never_forwarded(reinterpret_cast<const uint8_t *>(&ip->src_addr)[0]))
    return Counter::drop_ipv4_bad_source;
  return kValid;
}

// IPv6 address tests on one 16-byte register (a byte-wise memcmp of 16 bytes
// costs three times the instructions).
inline __m128i load_addr6(const void *p) { return _mm_loadu_si128(static_cast<const __m128i *>(p)); }
inline bool addr6_equal(__m128i a, __m128i b) { return _mm_movemask_epi8(_mm_cmpeq_epi8(a, b)) == 0xffff; }
inline bool ipv6_is_loopback(__m128i a) {  // ::1
  return addr6_equal(a, _mm_set_epi64x(static_cast<long long>(0x0100000000000000ULL), 0));
}
inline bool ipv6_is_unspecified(__m128i a) { return _mm_testz_si128(a, a); }  // ::

inline Counter validate_ipv6(const uint8_t *l3, uint32_t avail) {
  if (avail < sizeof(rte_ipv6_hdr)) return Counter::drop_ipv6_truncated;
  const auto *ip6 = reinterpret_cast<const rte_ipv6_hdr *>(l3);
  if ((l3[0] >> 4) != 6) return Counter::drop_ipv6_bad_version;
  if (sizeof(rte_ipv6_hdr) + rte_be_to_cpu_16(ip6->payload_len) > avail)
    return Counter::drop_ipv6_bad_length;
  if (ip6->src_addr[0] == 0xff || ipv6_is_loopback(load_addr6(ip6->src_addr)))
    return Counter::drop_ipv6_bad_source;
  return kValid;
}

// The unspecified address ::. Valid only as the source of a DAD Neighbour
// Solicitation, so the caller checks it after ND handling (RFC 4291 2.5.2).
inline bool ipv6_src_unspecified(const uint8_t *l3) { return ipv6_is_unspecified(load_addr6(l3 + 8)); }

inline uint16_t ipv4_len(const uint8_t *l3) {
  return rte_be_to_cpu_16(reinterpret_cast<const rte_ipv4_hdr *>(l3)->total_length);
}
inline uint16_t ipv6_len(const uint8_t *l3) {
  return static_cast<uint16_t>(sizeof(rte_ipv6_hdr) +
                               rte_be_to_cpu_16(reinterpret_cast<const rte_ipv6_hdr *>(l3)->payload_len));
}

}  // namespace nvmove::dp
