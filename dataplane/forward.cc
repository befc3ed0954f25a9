#include "dataplane/forward.h"

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_prefetch.h>

#include <cstring>

#include "dataplane/checksum.h"
#include "dataplane/ecn.h"
#include "dataplane/encap.h"
#include "dataplane/icmp_error.h"
#include "dataplane/ip_validate.h"
#include "dataplane/local_reply.h"
#include "dataplane/packet_meta.h"
#include "dataplane/rcu.h"

namespace nvmove::dp {

namespace {

constexpr uint8_t kIcmpTimeExceeded = 11, kIcmpUnreach = 3, kIcmpFragNeeded = 4;
constexpr uint8_t kIcmp6TooBig = 2, kIcmp6TimeExceeded = 3;
constexpr uint8_t kIcmp6EchoRequest = 128, kIcmp6Ns = 135, kIcmp6Na = 136;

enum class Verdict : uint8_t { Consumed, Lookup };

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
  return s.has_v6 && std::memcmp(addr, s.own_v6, 16) == 0;
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
// (dropping any Ethernet padding). Returns the new frame start or nullptr.
inline uint8_t *reframe(rte_mbuf *m, const PacketMeta &pm, uint16_t l2) {
  uint8_t *start = pm.l3 - l2;
  if (__builtin_expect(start < static_cast<uint8_t *>(m->buf_addr), 0)) return nullptr;
  m->data_off = static_cast<uint16_t>(start - static_cast<uint8_t *>(m->buf_addr));
  m->data_len = m->pkt_len = l2 + pm.l3_len;
  return start;
}

// Decapsulates a tunnel addressed to us: validates the inner header, combines
// ECN per RFC 6040 and points pm at the inner packet. False = consumed.
bool decapsulate(WorkerContext &ctx, rte_mbuf *m, PacketMeta &pm, uint8_t proto, uint16_t outer_hl,
                 uint8_t outer_ecn) {
  uint8_t *inner = pm.l3 + outer_hl;
  const uint32_t avail = pm.l3_len - outer_hl;
  Counter bad;
  uint8_t family;
  if (proto == IPPROTO_IPIP) {
    family = kFamilyV4;
    if (avail >= 1 && (inner[0] >> 4) != 4) return drop(ctx, m, Counter::drop_decap_inner_bad), false;
    bad = validate_ipv4(inner, avail, ctx.settings->verify_ipv4_checksum);
  } else {
    family = kFamilyV6;
    if (avail >= 1 && (inner[0] >> 4) != 6) return drop(ctx, m, Counter::drop_decap_inner_bad), false;
    bad = validate_ipv6(inner, avail);
  }
  if (bad != kValid) return drop(ctx, m, bad), false;
  ctx.counters.add(pm.family == kFamilyV4 ? Counter::decap_ipv4_outer : Counter::decap_ipv6_outer);

  pm.l3 = inner;
  pm.family = family;
  pm.l3_len = family == kFamilyV4 ? ipv4_len(inner) : ipv6_len(inner);
  pm.decapped = 1;
  // The inner packet gets the checks a native one gets before routing: no
  // multicast/broadcast destination (RFC 1812), no :: source (RFC 4291).
  const bool mcast = family == kFamilyV4 ? inner[16] >= 224 : inner[24] == 0xff;
  if (mcast) return drop(ctx, m, Counter::drop_ip_multicast), false;
  if (family == kFamilyV6 && ipv6_src_unspecified(inner)) return drop(ctx, m, Counter::drop_ipv6_bad_source), false;

  const uint8_t tos = tos_of(pm);
  const EcnDecap e = ecn_decapsulate(tos & 3, outer_ecn);
  if (e.log) ctx.counters.add(Counter::decap_ecn_logged);
  if (e.inner < 0) return drop(ctx, m, Counter::drop_decap_ecn_ce_not_ect), false;
  if ((tos & 3) != e.inner) {
    const uint8_t ntos = static_cast<uint8_t>((tos & ~3) | e.inner);
    if (family == kFamilyV4) ipv4_set_tos(reinterpret_cast<rte_ipv4_hdr *>(inner), ntos);
    else ipv6_set_tclass(reinterpret_cast<rte_ipv6_hdr *>(inner), ntos);
  }
  return true;
}

// Stage 1 for one packet.
Verdict classify(WorkerContext &ctx, rte_mbuf *m, uint16_t in_port, PacketMeta &pm, RouteKey &key,
                 hash_sig_t &sig) {
  const DataplaneSettings &s = *ctx.settings;
  const PortSettings &port = s.ports[in_port];
  if (__builtin_expect(!rte_pktmbuf_is_contiguous(m), 0))
    return drop(ctx, m, Counter::drop_multisegment), Verdict::Consumed;

  uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
  const uint32_t len = m->data_len;
  if (len < RTE_ETHER_HDR_LEN) return drop(ctx, m, Counter::drop_l2_truncated), Verdict::Consumed;
  uint16_t et;
  std::memcpy(&et, frame + 12, 2);
  pm.in_port = in_port;
  pm.frame_off = m->data_off;
  pm.l2_len = RTE_ETHER_HDR_LEN;
  pm.vlan_tci = 0;
  pm.decapped = 0;
  if (et == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)) {
    if (len < RTE_ETHER_HDR_LEN + 4) return drop(ctx, m, Counter::drop_l2_truncated), Verdict::Consumed;
    uint16_t tci;
    std::memcpy(&tci, frame + 14, 2);
    tci = rte_be_to_cpu_16(tci);
    if (port.vlan == 0 || (tci & 0xfff) != port.vlan)
      return drop(ctx, m, Counter::drop_vlan_mismatch), Verdict::Consumed;
    pm.vlan_tci = tci;
    pm.l2_len = RTE_ETHER_HDR_LEN + 4;
    std::memcpy(&et, frame + 16, 2);
  } else if (port.vlan != 0) {
    return drop(ctx, m, Counter::drop_vlan_mismatch), Verdict::Consumed;
  }

  uint8_t *l3 = frame + pm.l2_len;
  const uint32_t avail = len - pm.l2_len;
  pm.l3 = l3;
  // Routed traffic must be addressed to our MAC: a unicast IP packet in a
  // broadcast/multicast frame, or in a frame for another host seen because
  // the port is promiscuous, is not ours to forward (RFC 1812 5.3.4).
  // ARP and ND are checked by their handlers; IP multicast goes to control.
  const bool to_our_mac = mac_equal(frame, port.mac);
  if (et == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
    const Counter bad = validate_ipv4(l3, avail, s.verify_ipv4_checksum);
    if (bad != kValid) return drop(ctx, m, bad), Verdict::Consumed;
    auto *ip = reinterpret_cast<rte_ipv4_hdr *>(l3);
    pm.family = kFamilyV4;
    pm.l3_len = ipv4_len(l3);
    const uint8_t d0 = reinterpret_cast<const uint8_t *>(&ip->dst_addr)[0];
    if (d0 >= 224) return drop(ctx, m, Counter::drop_ip_multicast), Verdict::Consumed;
    if (!to_our_mac) return drop(ctx, m, Counter::drop_l2_not_for_us), Verdict::Consumed;
    const uint16_t hl = (ip->version_ihl & 0xf) * 4;
    if (hl > sizeof(rte_ipv4_hdr)) ctx.counters.add(Counter::ipv4_options_seen);
    if (is_own_v4(s, &ip->dst_addr)) {
      const uint8_t proto = ip->next_proto_id;
      if ((proto == IPPROTO_IPIP || proto == IPPROTO_IPV6) && port.role == PortRole::Fabric) {
        if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
          return drop(ctx, m, Counter::drop_decap_fragmented), Verdict::Consumed;
        if (!decapsulate(ctx, m, pm, proto, hl, ip->type_of_service & 3)) return Verdict::Consumed;
      } else if (proto == IPPROTO_ICMP && pm.l3_len >= hl + 8 && l3[hl] == RTE_IP_ICMP_ECHO_REQUEST &&
                 !(ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))) {
        return handle_echo(ctx, m, pm), Verdict::Consumed;
      } else {
        return to_control(ctx, m), Verdict::Consumed;
      }
    }
  } else if (et == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6)) {
    const Counter bad = validate_ipv6(l3, avail);
    if (bad != kValid) return drop(ctx, m, bad), Verdict::Consumed;
    auto *ip6 = reinterpret_cast<rte_ipv6_hdr *>(l3);
    pm.family = kFamilyV6;
    pm.l3_len = ipv6_len(l3);
    if (ip6->proto == IPPROTO_ICMPV6 && pm.l3_len >= 40 + 4 &&
        (l3[40] == kIcmp6Ns || l3[40] == kIcmp6Na))
      return handle_nd(ctx, m, pm), Verdict::Consumed;
    if (ipv6_src_unspecified(l3)) return drop(ctx, m, Counter::drop_ipv6_bad_source), Verdict::Consumed;
    if (ip6->dst_addr[0] == 0xff) return drop(ctx, m, Counter::drop_ip_multicast), Verdict::Consumed;  // MLD, RS, ...
    if (!to_our_mac) return drop(ctx, m, Counter::drop_l2_not_for_us), Verdict::Consumed;
    if (is_own_v6(s, ip6->dst_addr)) {
      const uint8_t proto = ip6->proto;
      if ((proto == IPPROTO_IPIP || proto == IPPROTO_IPV6) && port.role == PortRole::Fabric) {
        if (!decapsulate(ctx, m, pm, proto, sizeof(rte_ipv6_hdr), ipv6_tclass(ip6) & 3))
          return Verdict::Consumed;
      } else if (proto == IPPROTO_ICMPV6 && pm.l3_len >= 40 + 8 && l3[40] == kIcmp6EchoRequest) {
        return handle_echo(ctx, m, pm), Verdict::Consumed;
      } else {
        return to_control(ctx, m), Verdict::Consumed;
      }
    }
  } else if (et == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
    return handle_arp(ctx, m, pm), Verdict::Consumed;
  } else {
    return drop(ctx, m, Counter::drop_l2_unsupported), Verdict::Consumed;
  }

  // A router hop: TTL / hop limit must survive the decrement.
  if (ttl_of(pm) <= 1) {
    ctx.counters.add(Counter::drop_ttl_exceeded);
    if (pm.family == kFamilyV4)
      send_icmp_error(ctx, m, pm, kIcmpTimeExceeded, 0, 0, Counter::icmp_time_exceeded_sent);
    else
      send_icmp_error(ctx, m, pm, kIcmp6TimeExceeded, 0, 0, Counter::icmp_time_exceeded_sent);
    return Verdict::Consumed;
  }

  const uint32_t vn = port.role == PortRole::Access ? port.vn : s.fabric_vn;
  sig = pm.family == kFamilyV4 ? make_key_v4_hashed(key, vn, pm.l3 + 16)
                               : make_key_v6_hashed(key, vn, pm.l3 + 24);
  return Verdict::Lookup;
}

void deliver_local(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm, const RouteEntry &e) {
  const DataplaneSettings &s = *ctx.settings;
  const uint16_t l2 = e.vlan_tci ? 18 : 14;
  uint8_t *p = reframe(m, pm, l2);
  if (!p) return drop(ctx, m, Counter::drop_no_headroom);
  dec_ttl(pm);
  std::memcpy(p, e.vm_mac, 6);
  std::memcpy(p + 6, s.ports[e.port].mac, 6);
  const uint16_t et = rte_cpu_to_be_16(pm.family == kFamilyV4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
  if (e.vlan_tci) {
    const uint16_t tpid = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
    const uint16_t tci = rte_cpu_to_be_16(e.vlan_tci);
    std::memcpy(p + 12, &tpid, 2);
    std::memcpy(p + 14, &tci, 2);
    std::memcpy(p + 16, &et, 2);
  } else {
    std::memcpy(p + 12, &et, 2);
  }
  m->ol_flags = 0;
  ctx.counters.add(Counter::delivered_local);
  emit(ctx, e.port, m);
}

void forward_default(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm) {
  const DataplaneSettings &s = *ctx.settings;
  if (!s.default_forward) return drop(ctx, m, Counter::drop_no_route);
  const GatewayL2 *g = ctx.routes.gateway->load(std::memory_order_acquire);
  const bool v4 = pm.family == kFamilyV4;
  if (!(v4 ? g->resolved4 : g->resolved6)) return drop(ctx, m, Counter::drop_neighbour_unresolved);
  uint8_t *p = reframe(m, pm, 14);
  if (!p) return drop(ctx, m, Counter::drop_no_headroom);
  dec_ttl(pm);
  std::memcpy(p, v4 ? g->eth4 : g->eth6, 12);
  const uint16_t et = rte_cpu_to_be_16(v4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
  std::memcpy(p + 12, &et, 2);
  m->ol_flags = 0;
  ctx.counters.add(Counter::forwarded_default);
  emit(ctx, g->port, m);
}

inline Counter encap_counter(uint8_t inner, uint8_t outer) {
  if (inner == kFamilyV4) return outer == kFamilyV4 ? Counter::encap_ipv4_in_ipv4 : Counter::encap_ipv4_in_ipv6;
  return outer == kFamilyV6 ? Counter::encap_ipv6_in_ipv6 : Counter::encap_ipv6_in_ipv4;
}

// Builds the encapsulation parameters of an inner packet (after the TTL
// decrement, before any fragmentation).
inline EncapInput encap_input(const WorkerContext &ctx, const TunnelTemplate &t, uint8_t *l3,
                              uint16_t l3_len, uint8_t family) {
  EncapInput in;
  in.l3 = l3;
  in.l3_len = l3_len;
  in.inner_family = family;
  uint8_t tos;
  if (family == kFamilyV4) {
    const auto *ip = reinterpret_cast<const rte_ipv4_hdr *>(l3);
    tos = ip->type_of_service;
    // RFC 2003 3.1: DF copied from the inner header. IPv6 inside IPv4 with a
    // static tunnel MTU: DF clear (RFC 4213 3.2).
    in.df = (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)) != 0;
  } else {
    tos = ipv6_tclass(reinterpret_cast<const rte_ipv6_hdr *>(l3));
    in.df = false;
  }
  in.tos = outer_tos(tos, ctx.settings->dscp_set);
  in.flow_label = t.outer_family == kFamilyV6 ? inner_flow_label(l3, family, l3_len) : 0;
  return in;
}

// Fragments an IPv4 packet without DF so each piece fits the tunnel, then
// encapsulates every fragment. The TTL is already decremented.
void fragment_and_encap(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm, const TunnelTemplate &t,
                        uint16_t inner_mtu) {
  // rte_ipv4_fragment_packet wants the mbuf to start at the IP header.
  m->data_off = static_cast<uint16_t>(pm.l3 - static_cast<uint8_t *>(m->buf_addr));
  m->data_len = m->pkt_len = pm.l3_len;
  rte_mbuf *frags[kMaxFragments];
  const int32_t n = rte_ipv4_fragment_packet(m, frags, kMaxFragments, inner_mtu, ctx.frag_direct,
                                             ctx.frag_indirect);
  rte_pktmbuf_free(m);  // fragments hold their own references to its data
  if (n <= 0) return ctx.counters.add(Counter::drop_fragmentation_failed);
  ctx.counters.add(Counter::ipv4_fragmented);
  ctx.counters.add(Counter::ipv4_fragments_out, static_cast<uint64_t>(n));
  const bool hw = ctx.settings->ports[t.out_port].tx_ipv4_cksum_offload;
  for (int32_t i = 0; i < n; i++) {
    rte_mbuf *f = frags[i];
    auto *ip = rte_pktmbuf_mtod(f, rte_ipv4_hdr *);
    ip->hdr_checksum = 0;  // the library leaves it for offload
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    const uint16_t flen = static_cast<uint16_t>(f->pkt_len);
    const EncapInput in = encap_input(ctx, t, reinterpret_cast<uint8_t *>(ip), flen, kFamilyV4);
    auto *hdr = reinterpret_cast<uint8_t *>(rte_pktmbuf_prepend(f, t.hdr_len));
    if (!hdr) {
      drop(ctx, f, Counter::drop_no_headroom);
      continue;
    }
    write_outer(hdr, t, in, ctx.next_ip_id, hw, f);
    ctx.counters.add(encap_counter(kFamilyV4, t.outer_family));
    emit(ctx, t.out_port, f);
  }
  if (pm.decapped) ctx.counters.add(Counter::reencap);  // once per packet, as unfragmented
}

void tunnel(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm, const RouteEntry &e) {
  const DataplaneSettings &s = *ctx.settings;
  if (__builtin_expect(e.nve_idx >= ctx.routes.max_nves, 0)) return drop(ctx, m, Counter::drop_nve_unknown);
  const TunnelTemplate *t = ctx.routes.nves[e.nve_idx].load(std::memory_order_acquire);
  if (__builtin_expect(t == nullptr, 0)) return drop(ctx, m, Counter::drop_nve_unknown);
  if (__builtin_expect(!t->resolved, 0)) return drop(ctx, m, Counter::drop_neighbour_unresolved);

  const uint16_t overhead = t->outer_family == kFamilyV4 ? sizeof(rte_ipv4_hdr) : sizeof(rte_ipv6_hdr);
  if (__builtin_expect(pm.l3_len + overhead > s.tunnel_mtu, 0)) {
    const uint16_t inner_mtu = static_cast<uint16_t>(s.tunnel_mtu - overhead);
    if (pm.family == kFamilyV4) {
      const auto *ip = reinterpret_cast<const rte_ipv4_hdr *>(pm.l3);
      if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)) {
        ctx.counters.add(Counter::drop_too_big);
        return send_icmp_error(ctx, m, pm, kIcmpUnreach, kIcmpFragNeeded, inner_mtu,
                               Counter::icmp_frag_needed_sent);
      }
      dec_ttl(pm);
      return fragment_and_encap(ctx, m, pm, *t, inner_mtu);
    }
    ctx.counters.add(Counter::drop_too_big);
    return send_icmp_error(ctx, m, pm, kIcmp6TooBig, 0, std::max<uint16_t>(inner_mtu, 1280),
                           Counter::icmp6_too_big_sent);
  }

  uint8_t *hdr = reframe(m, pm, t->hdr_len);
  if (__builtin_expect(!hdr, 0)) return drop(ctx, m, Counter::drop_no_headroom);
  dec_ttl(pm);
  m->ol_flags = 0;
  const EncapInput in = encap_input(ctx, *t, pm.l3, pm.l3_len, pm.family);
  write_outer(hdr, *t, in, ctx.next_ip_id, s.ports[t->out_port].tx_ipv4_cksum_offload, m);
  ctx.counters.add(encap_counter(pm.family, t->outer_family));
  if (pm.decapped) ctx.counters.add(Counter::reencap);
  emit(ctx, t->out_port, m);
}

}  // namespace

void process_burst(WorkerContext &ctx, uint16_t in_port, rte_mbuf **pkts, uint16_t n) {
  PacketMeta meta[kBurst];
  RouteKey keys[kBurst];
  const void *key_ptrs[kBurst];
  hash_sig_t sigs[kBurst];
  rte_mbuf *look[kBurst];
  uint16_t nl = 0;

  ctx.counters.add(Counter::rx_packets, n);
  ctx.now_tsc = rte_rdtsc();

  // Stage 1: classify. Prefetch a few packets ahead.
  constexpr uint16_t kPrefetch = 4;
  for (uint16_t i = 0; i < n && i < kPrefetch; i++) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
  for (uint16_t i = 0; i < n; i++) {
    if (i + kPrefetch < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetch], void *));
    if (classify(ctx, pkts[i], in_port, meta[nl], keys[nl], sigs[nl]) == Verdict::Lookup) {
      key_ptrs[nl] = &keys[nl];
      look[nl] = pkts[i];
      nl++;
    }
  }
  if (nl == 0) return;

  // Stage 2: one bulk lookup for the burst, with the hashes stage 1 computed.
  void *data[kBurst];
  uint64_t hits = 0;
  rte_hash_lookup_with_hash_bulk_data(ctx.routes.hash, key_ptrs, sigs, nl, &hits, data);

  // Stage 3a: prefetch what the actions will touch, so the misses of the
  // whole burst overlap: the entries, then their statistics slots.
  RouteStat *stats = ctx.my_stats;
  for (uint16_t i = 0; i < nl; i++)
    if (hits & (uint64_t{1} << i)) rte_prefetch0(data[i]);
  for (uint16_t i = 0; i < nl; i++)
    if (hits & (uint64_t{1} << i)) rte_prefetch0(&stats[static_cast<const RouteEntry *>(data[i])->stat_idx]);

  // Stage 3b: act.
  for (uint16_t i = 0; i < nl; i++) {
    if (!(hits & (uint64_t{1} << i))) {
      forward_default(ctx, look[i], meta[i]);
      continue;
    }
    const auto &e = *static_cast<const RouteEntry *>(data[i]);
    tsan_consume(&e);  // no code outside ThreadSanitizer builds
    RouteStat &st = stats[e.stat_idx];
    st.hits.store(st.hits.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    st.last_tsc.store(ctx.now_tsc, std::memory_order_relaxed);
    if (e.kind == kRouteTunnel) tunnel(ctx, look[i], meta[i], e);
    else deliver_local(ctx, look[i], meta[i], e);
  }
}

}  // namespace nvmove::dp
