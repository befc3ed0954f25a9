// Tunnel encapsulation: copy the NVE's precomputed outer header in front of the
// inner IP packet and fix up what depends on the packet (VPP's rewrite, then
// fixup). RFC 2003 (IPv4 in IPv4), RFC 2473 (IPv6 in IPv6), RFC 6040 (ECN,
// normal mode: the inner ECN field, CE included, is copied to the outer).
#pragma once

#include <rte_byteorder.h>
#include <nmmintrin.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include "dataplane/checksum.h"
#include "dataplane/route_entry.h"
#include "dataplane/settings.h"

namespace nvmove::dp {

// IPv6 outer flow label (RFC 6438): CRC32C over the inner addresses, the
// first 4 bytes of TCP/UDP/SCTP (ports) when the packet is not a fragment,
// and the protocol. docs/protocol.md gives the exact byte order.
inline uint32_t inner_flow_label(const uint8_t *l3, uint8_t family, uint16_t l3_len) {
  uint32_t h;
  uint32_t ports = 0;
  uint32_t proto;
  if (family == kFamilyV4) {
    const auto *ip = reinterpret_cast<const rte_ipv4_hdr *>(l3);
    const uint32_t ihl = (ip->version_ihl & 0xf) * 4u;
    proto = ip->next_proto_id;
    const bool fragment = (ip->fragment_offset & rte_cpu_to_be_16(0x3fff)) != 0;
    if (!fragment && (proto == 6 || proto == 17 || proto == 132) && ihl + 4 <= l3_len)
      __builtin_memcpy(&ports, l3 + ihl, 4);
    h = _mm_crc32_u32(0, ip->src_addr);
    h = _mm_crc32_u32(h, ip->dst_addr);
  } else {
    const auto *ip6 = reinterpret_cast<const rte_ipv6_hdr *>(l3);
    proto = ip6->proto;
    if ((proto == 6 || proto == 17 || proto == 132) && 40u + 4 <= l3_len)
      __builtin_memcpy(&ports, l3 + 40, 4);
    // Source then destination address, 8 bytes at a time (memcpy: the
    // header need not be 8-byte aligned).
    h = 0;
    for (int i = 0; i < 4; i++) {
      uint64_t w;
      __builtin_memcpy(&w, l3 + 8 + 8 * i, 8);
      h = static_cast<uint32_t>(_mm_crc32_u64(h, w));
    }
  }
  h = _mm_crc32_u32(h, ports);
  h = _mm_crc32_u32(h, proto);
  return h & 0xfffffu;
}

// The inner header's TOS / traffic class as the outer header should carry it:
// DSCP copied or set by policy, ECN always copied.
inline uint8_t outer_tos(uint8_t inner_tos, int16_t dscp_set) {
  return dscp_set < 0 ? inner_tos : static_cast<uint8_t>((dscp_set << 2) | (inner_tos & 3));
}

struct EncapInput {
  uint8_t *l3;          // inner IP header (TTL already decremented)
  uint16_t l3_len;      // inner length
  uint8_t inner_family;
  uint8_t tos;          // outer TOS / traffic class
  bool df;              // IPv4 outer: set DF
  uint32_t flow_label;  // IPv6 outer
};

// Copies the template's 34 (IPv4 outer) or 54 (IPv6 outer) bytes with
// fixed-size, overlapping 16-byte moves: a variable-length rte_memcpy cost
// more than the rest of the encapsulation together.
inline void copy_outer_template(uint8_t *hdr, const TunnelTemplate &t) {
  if (t.outer_family == kFamilyV4) {
    __builtin_memcpy(hdr, t.hdr, 32);
    __builtin_memcpy(hdr + 18, t.hdr + 18, 16);
  } else {
    __builtin_memcpy(hdr, t.hdr, 48);
    __builtin_memcpy(hdr + 38, t.hdr + 38, 16);
  }
}

// Writes template + fixups at `hdr` (= inner L3 - t.hdr_len).
// ip_id: next IPv4 identification for non-DF outer packets.
__attribute__((always_inline)) inline void write_outer(uint8_t *hdr, const TunnelTemplate &t,
                                                       const EncapInput &in, uint16_t &ip_id,
                                                       bool hw_cksum, rte_mbuf *m) {
  copy_outer_template(hdr, t);
  const uint8_t proto = in.inner_family == kFamilyV4 ? IPPROTO_IPIP : IPPROTO_IPV6;
  if (t.outer_family == kFamilyV4) {
    auto *ip = reinterpret_cast<rte_ipv4_hdr *>(hdr + 14);
    const uint16_t tot = rte_cpu_to_be_16(static_cast<uint16_t>(in.l3_len + sizeof(rte_ipv4_hdr)));
    // RFC 6864: an atomic datagram (DF) needs no unique ID.
    const uint16_t id = in.df ? 0 : rte_cpu_to_be_16(++ip_id);
    const uint16_t frag = in.df ? rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG) : 0;
    ip->type_of_service = in.tos;
    ip->total_length = tot;
    ip->packet_id = id;
    ip->fragment_offset = frag;
    ip->next_proto_id = proto;
    if (hw_cksum) {
      ip->hdr_checksum = 0;
      m->l2_len = 14;
      m->l3_len = sizeof(rte_ipv4_hdr);
      m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
    } else {
      // Template sum of the constant words plus the words just written, each
      // as loaded from memory (rte_raw_cksum's convention).
      const uint32_t s = t.ipv4_csum_partial + (uint32_t{in.tos} << 8) + tot + id + frag +
                         (uint32_t{proto} << 8);
      ip->hdr_checksum = fold_csum(s);
    }
  } else {
    auto *ip6 = reinterpret_cast<rte_ipv6_hdr *>(hdr + 14);
    ip6->vtc_flow = rte_cpu_to_be_32((6u << 28) | (uint32_t{in.tos} << 20) | in.flow_label);
    ip6->payload_len = rte_cpu_to_be_16(in.l3_len);
    ip6->proto = proto;
  }
}

}  // namespace nvmove::dp
