#include "dataplane/icmp_error.h"

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include <cstring>

#include "dataplane/checksum.h"
#include "dataplane/mbuf_chain.h"
#include "dataplane/route_entry.h"

namespace nvmove::dp {

namespace {

bool take_token(WorkerContext &ctx) {
  const DataplaneSettings &s = *ctx.settings;
  if (s.icmp_rate_per_sec == 0) return false;
  const uint64_t now = ctx.now_tsc;
  const uint64_t per_token = ctx.tsc_hz / s.icmp_rate_per_sec;
  if (ctx.icmp_last_tsc == 0) {
    ctx.icmp_tokens = s.icmp_burst;
    ctx.icmp_last_tsc = now;
  } else if (per_token > 0 && now > ctx.icmp_last_tsc) {
    const uint64_t earned = (now - ctx.icmp_last_tsc) / per_token;
    if (earned) {
      ctx.icmp_tokens = std::min<uint64_t>(s.icmp_burst, ctx.icmp_tokens + earned);
      ctx.icmp_last_tsc += earned * per_token;
    }
  }
  if (ctx.icmp_tokens == 0) return false;
  ctx.icmp_tokens--;
  return true;
}

// Writes the Ethernet (and VLAN) header back toward the packet's previous hop.
void write_reply_l2(uint8_t *p, const uint8_t *prev_hop_mac, const uint8_t *our_mac,
                    uint16_t vlan_tci, uint16_t ethertype) {
  std::memmove(p, prev_hop_mac, 6);
  std::memcpy(p + 6, our_mac, 6);
  if (vlan_tci) {
    const uint16_t tpid = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
    const uint16_t tci = rte_cpu_to_be_16(vlan_tci);
    std::memcpy(p + 12, &tpid, 2);
    std::memcpy(p + 14, &tci, 2);
    p += 4;
  }
  const uint16_t et = rte_cpu_to_be_16(ethertype);
  std::memcpy(p + 12, &et, 2);
}

}  // namespace

bool icmp_error_allowed(const PacketMeta &pm) {
  if (pm.family == kFamilyV4) {
    const auto *ip = reinterpret_cast<const rte_ipv4_hdr *>(pm.l3);
    if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK)) return false;
    const uint8_t d0 = reinterpret_cast<const uint8_t *>(&ip->dst_addr)[0];
    if (d0 >= 224) return false;
    if (ip->next_proto_id == IPPROTO_ICMP) {
      const uint32_t ihl = (ip->version_ihl & 0xf) * 4u;
      if (pm.l3_len < ihl + 1) return false;
      const uint8_t t = pm.l3[ihl];
      // Errors: unreachable 3, source quench 4, redirect 5, time exceeded 11, parameter 12.
      if (t == 3 || t == 4 || t == 5 || t == 11 || t == 12) return false;
    }
    return true;
  }
  const auto *ip6 = reinterpret_cast<const rte_ipv6_hdr *>(pm.l3);
  if (ip6->dst_addr[0] == 0xff) return false;
  if (ip6->proto == IPPROTO_ICMPV6 && pm.l3_len > 40 && pm.l3[40] < 128) return false;
  return true;
}

void send_icmp_error(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm, uint8_t type,
                     uint8_t code, uint32_t mtu, Counter sent) {
  const DataplaneSettings &s = *ctx.settings;
  if (!icmp_error_allowed(pm)) {
    rte_pktmbuf_free(m);
    return;
  }
  const bool v4 = pm.family == kFamilyV4;
  if ((v4 && !s.has_v4) || (!v4 && !s.has_v6)) return drop(ctx, m, Counter::drop_no_source_address);
  // The previous hop's MAC is in the frame as received; read it before the new
  // headers overwrite that area.
  uint8_t prev_hop[6];
  std::memcpy(prev_hop, static_cast<uint8_t *>(m->buf_addr) + pm.frame_off + 6, 6);

  const uint16_t l2 = pm.vlan_tci ? 18 : 14;
  const uint16_t ip_hdr = v4 ? sizeof(rte_ipv4_hdr) : sizeof(rte_ipv6_hdr);
  const uint16_t icmp_hdr = 8;
  uint16_t quote;
  if (v4) {
    // The IP header and the first 8 bytes of its payload (RFC 792), which is
    // what hosts need to find the socket and lower their path MTU.
    const uint16_t ihl = (pm.l3[0] & 0xf) * 4;
    quote = std::min<uint16_t>(pm.l3_len, ihl + 8);
  } else {
    // As much as fits in the IPv6 minimum MTU (RFC 4443 2.4(c)).
    quote = std::min<uint16_t>(pm.l3_len, 1280 - 40 - 8);
  }
  uint8_t *start = pm.l3 - (l2 + ip_hdr + icmp_hdr);
  if (start < static_cast<uint8_t *>(m->buf_addr)) return drop(ctx, m, Counter::drop_no_headroom);
  // The message is the headers and the quote, in one segment: its checksum
  // is computed over contiguous bytes (a chain's quote may cross into the
  // second segment when the first holds less than 1,232 bytes past pm.l3).
  set_frame(m, start, uint32_t{l2} + ip_hdr + icmp_hdr + quote);
  if (!make_contiguous(m)) return drop(ctx, m, Counter::drop_multisegment);
  if (!take_token(ctx)) return drop(ctx, m, Counter::drop_icmp_rate_limited);
  m->ol_flags = 0;

  const uint8_t *our_mac = s.ports[pm.in_port].mac;
  uint8_t *l3 = start + l2;
  uint8_t *icmp = l3 + ip_hdr;
  if (v4) {
    uint32_t orig_src;
    std::memcpy(&orig_src, pm.l3 + 12, 4);
    write_reply_l2(start, prev_hop, our_mac, pm.vlan_tci, RTE_ETHER_TYPE_IPV4);
    auto *ip = reinterpret_cast<rte_ipv4_hdr *>(l3);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->type_of_service = 0xc0;  // internetwork control
    ip->total_length = rte_cpu_to_be_16(ip_hdr + icmp_hdr + quote);
    ip->packet_id = 0;
    ip->fragment_offset = 0;
    ip->time_to_live = s.icmp_ttl;
    ip->next_proto_id = IPPROTO_ICMP;
    std::memcpy(&ip->src_addr, s.own_v4, 4);
    ip->dst_addr = orig_src;
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    icmp[0] = type;
    icmp[1] = code;
    std::memset(icmp + 2, 0, 6);
    if (mtu) {
      const uint16_t nh = rte_cpu_to_be_16(static_cast<uint16_t>(mtu));
      std::memcpy(icmp + 6, &nh, 2);
    }
    const uint16_t c = rte_raw_cksum(icmp, icmp_hdr + quote);
    const uint16_t ck = static_cast<uint16_t>(~c);
    std::memcpy(icmp + 2, &ck, 2);
  } else {
    uint8_t orig_src[16];
    std::memcpy(orig_src, pm.l3 + 8, 16);
    write_reply_l2(start, prev_hop, our_mac, pm.vlan_tci, RTE_ETHER_TYPE_IPV6);
    auto *ip6 = reinterpret_cast<rte_ipv6_hdr *>(l3);
    ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
    ip6->payload_len = rte_cpu_to_be_16(icmp_hdr + quote);
    ip6->proto = IPPROTO_ICMPV6;
    ip6->hop_limits = s.icmp_ttl;
    std::memcpy(ip6->src_addr, s.own_v6, 16);
    std::memcpy(ip6->dst_addr, orig_src, 16);
    icmp[0] = type;
    icmp[1] = code;
    std::memset(icmp + 2, 0, 6);
    if (mtu) {
      const uint32_t nm = rte_cpu_to_be_32(mtu);
      std::memcpy(icmp + 4, &nm, 4);
    }
    const uint16_t ck = rte_ipv6_udptcp_cksum(ip6, icmp);
    std::memcpy(icmp + 2, &ck, 2);
  }
  ctx.counters.add(sent);
  emit(ctx, pm.in_port, m);
}

}  // namespace nvmove::dp
