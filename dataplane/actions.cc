#include "dataplane/actions.h"

#include <rte_ip_frag.h>

#include <algorithm>
#include <cstring>

#include "dataplane/classify.h"
#include "dataplane/icmp_error.h"
#include "dataplane/mbuf_chain.h"
#include "dataplane/route_hash.h"

namespace nvmove::dp {

namespace {

// Fragments IPv4 packet `m` (no DF, TTL already decremented) into pieces of
// at most `mtu` bytes, each with its header checksum, into `frags`: their
// number, 0 when it failed (counted). `m` is consumed either way.
uint16_t fragment_ipv4(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm, uint16_t mtu,
                       rte_mbuf *(&frags)[kMaxFragments]) {
  // rte_ipv4_fragment_packet wants the mbuf to start at the IP header; it
  // reads a chained packet's payload segment by segment.
  set_frame(m, pm.l3, pm.l3_len);
  const int32_t n = rte_ipv4_fragment_packet(m, frags, kMaxFragments, mtu, ctx.frag_direct, ctx.frag_indirect);
  rte_pktmbuf_free(m);  // fragments hold their own references to its data
  if (n <= 0) {
    ctx.counters.add(Counter::drop_fragmentation_failed);
    return 0;
  }
  ctx.counters.add(Counter::ipv4_fragmented);
  ctx.counters.add(Counter::ipv4_fragments_out, static_cast<uint64_t>(n));
  for (int32_t i = 0; i < n; i++) {
    auto *ip = rte_pktmbuf_mtod(frags[i], rte_ipv4_hdr *);
    ip->hdr_checksum = 0;  // the library leaves it for offload
    ip->hdr_checksum = rte_ipv4_cksum(ip);
  }
  return static_cast<uint16_t>(n);
}

// Fragments an IPv4 packet without DF so each piece fits the tunnel, then
// encapsulates every fragment. The TTL is already decremented.
void fragment_and_encap(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm, const TunnelTemplate &t,
                        uint16_t inner_mtu) {
  rte_mbuf *frags[kMaxFragments];
  const uint16_t n = fragment_ipv4(ctx, m, pm, inner_mtu, frags);
  const bool hw = ctx.settings->ports[t.out_port].tx_ipv4_cksum_offload;
  for (uint16_t i = 0; i < n; i++) {
    rte_mbuf *f = frags[i];
    auto *ip = rte_pktmbuf_mtod(f, uint8_t *);
    const EncapInput in = encap_input(ctx, t, ip, static_cast<uint16_t>(f->pkt_len), kFamilyV4);
    auto *hdr = reinterpret_cast<uint8_t *>(rte_pktmbuf_prepend(f, t.hdr_len));
    if (!hdr) {
      drop(ctx, f, Counter::drop_no_headroom);
      continue;
    }
    write_outer(hdr, t, in, ctx.next_ip_id, hw, f);
    ctx.counters.add(static_cast<Counter>(t.encap_counter[0]));
    emit(ctx, t.out_port, f);  // a header mbuf chained to the payload: copied for a port without chains
  }
  if (n && pm.decapped) ctx.counters.add(Counter::reencap);  // once per packet, as unfragmented
}

// The Ethernet header toward the fabric gateway at `p`: its MAC and the
// fabric port's (gw.eth4 / eth6), the EtherType of the family.
void write_gateway_l2(uint8_t *p, const GatewayL2 &gw, bool v4) {
  std::memcpy(p, v4 ? gw.eth4 : gw.eth6, 12);
  const uint16_t et = rte_cpu_to_be_16(v4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
  std::memcpy(p + 12, &et, 2);
}

// Answers a packet too big for `mtu` as a router does: IPv4 with DF and
// IPv6 get Fragmentation Needed / Packet Too Big (the quote from the packet
// as received, TTL untouched); false when it is IPv4 without DF, which the
// caller fragments.
bool answered_too_big(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm, uint16_t mtu) {
  if (pm.family == kFamilyV4) {
    const auto *ip = reinterpret_cast<const rte_ipv4_hdr *>(pm.l3);
    if (!(ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG))) return false;
    ctx.counters.add(Counter::drop_too_big);
    send_icmp_error(ctx, m, pm, kIcmpUnreach, kIcmpFragNeeded, mtu, Counter::icmp_frag_needed_sent);
    return true;
  }
  ctx.counters.add(Counter::drop_too_big);
  send_icmp_error(ctx, m, pm, kIcmp6TooBig, 0, std::max<uint16_t>(mtu, 1280), Counter::icmp6_too_big_sent);
  return true;
}

}  // namespace

void forward_default(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm) {
  const DataplaneSettings &s = *ctx.settings;
  if (!s.default_forward) return drop(ctx, m, Counter::drop_no_route);
  const GatewayL2 *g = ctx.routes.gateway->load(std::memory_order_acquire);
  const bool v4 = pm.family == kFamilyV4;
  if (!(v4 ? g->resolved4 : g->resolved6)) return drop(ctx, m, Counter::drop_neighbour_unresolved);
  if (pm.l3_len > s.ports[g->port].mtu) {
    uint8_t l2[RTE_ETHER_HDR_LEN];
    write_gateway_l2(l2, *g, v4);
    return port_oversize(ctx, m, pm, g->port, l2, RTE_ETHER_HDR_LEN, Counter::forwarded_default);
  }
  uint8_t *p = reframe(m, pm, RTE_ETHER_HDR_LEN);
  if (!p) return drop(ctx, m, Counter::drop_no_headroom);
  dec_ttl(pm);
  write_gateway_l2(p, *g, v4);
  m->ol_flags = 0;
  ctx.counters.add(Counter::forwarded_default);
  emit(ctx, g->port, m);
}

void tunnel_oversize(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm, const TunnelTemplate &t) {
  const uint16_t overhead = t.hdr_len - RTE_ETHER_HDR_LEN;
  const uint16_t inner_mtu = static_cast<uint16_t>(ctx.settings->tunnel_mtu - overhead);
  if (answered_too_big(ctx, m, pm, inner_mtu)) return;
  dec_ttl(pm);
  fragment_and_encap(ctx, m, pm, t, inner_mtu);
}

void port_oversize(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm, uint16_t port, const uint8_t *l2,
                   uint16_t l2_len, Counter counted) {
  const uint16_t mtu = ctx.settings->ports[port].mtu;
  if (answered_too_big(ctx, m, pm, mtu)) return;
  dec_ttl(pm);
  rte_mbuf *frags[kMaxFragments];
  const uint16_t n = fragment_ipv4(ctx, m, pm, mtu, frags);
  for (uint16_t i = 0; i < n; i++) {
    rte_mbuf *f = frags[i];
    auto *hdr = reinterpret_cast<uint8_t *>(rte_pktmbuf_prepend(f, l2_len));
    if (!hdr) {
      drop(ctx, f, Counter::drop_no_headroom);
      continue;
    }
    std::memcpy(hdr, l2, l2_len);
    f->ol_flags = 0;
    ctx.counters.add(counted);
    emit(ctx, port, f);  // a header mbuf chained to the payload: copied for a port without chains
  }
}

void to_own_endpoint(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm) {
  // A tunnel inside a tunnel to us: no second decapsulation, no loop.
  if (pm.decapped) return drop(ctx, m, Counter::drop_decap_nested);
  PacketMeta full;
  RouteKey key;
  uint32_t hash;
  if (classify_full(ctx, m, pm.in_port, full, key, hash) != Verdict::Lookup) return;
  const RouteEntry *e = route_lookup_one(ctx.routes.hash, key, hash);
  if (!e) return forward_default(ctx, m, full);
  if (e->kind == kRouteOwn) return drop(ctx, m, Counter::drop_decap_nested);
  record_hit(ctx.my_stats[e->stat_idx], ctx.now_tsc);
  if (e->kind == kRouteTunnel) tunnel(ctx, m, full, *e);
  else deliver_local(ctx, m, full, *e);
}

}  // namespace nvmove::dp
