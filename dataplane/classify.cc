#include "dataplane/classify.h"

#include <rte_icmp.h>

#include "common/route_change.h"
#include "dataplane/ecn.h"
#include "dataplane/icmp_error.h"
#include "dataplane/control_ring.h"
#include "dataplane/local_reply.h"
#include "dataplane/mbuf_chain.h"

namespace nvmove::dp {

namespace {

// Whether a tunnel from outer source `src` may be decapsulated: from the
// configured tunnel.peers prefixes (a scan) or from an NVE the agent learnt
// from nvad (one lookup in kTunnelPeerVn of the route table, whose hits then
// show when that NVE last tunnelled to us). docs/protocol.md 7, "Who may
// tunnel to an NVE".
bool tunnel_from_known_nve(WorkerContext &ctx, uint8_t family, const uint8_t *src) {
  if (tunnel_peer_allowed(*ctx.settings, family, src)) return true;
  RouteKey key;
  if (family == kFamilyV4) make_key_v4(key, kTunnelPeerVn, src);
  else make_key_v6(key, kTunnelPeerVn, src);
  const RouteEntry *e = route_lookup_one(ctx.routes.hash, key, route_key_hash(key));
  if (!e || e->kind != kRouteTunnelPeer) return false;
  record_hit(ctx.my_stats[e->stat_idx], ctx.now_tsc);
  return true;
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

}  // namespace

// Stage 1 for one packet, every case.
Verdict classify_full(WorkerContext &ctx, rte_mbuf *m, uint16_t in_port, PacketMeta &pm, RouteKey &key,
                      uint32_t &sig) {
  const DataplaneSettings &s = *ctx.settings;
  const PortSettings &port = s.ports[in_port];
  // A chain is classified like one segment once its headers are known to be
  // in the first (mbuf_chain.h): every read below is within them, and `len`
  // is the whole packet's.
  if (__builtin_expect(!headers_in_first_segment(m), 0))
    return drop(ctx, m, Counter::drop_multisegment), Verdict::Consumed;

  uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
  const uint32_t len = m->pkt_len;
  if (len < RTE_ETHER_HDR_LEN) return drop(ctx, m, Counter::drop_l2_truncated), Verdict::Consumed;
  if (len > port.max_frame) return drop(ctx, m, Counter::drop_frame_too_long), Verdict::Consumed;
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
  // A tunnel to one of our endpoints carries that endpoint's VN: the inner
  // packet is looked up there, not in the port's.
  uint32_t endpoint_vn = 0;
  if (et == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
    const Counter bad = validate_ipv4(l3, avail, s.verify_ipv4_checksum, rx_ipv4_checksum(m));
    if (bad != kValid) return drop(ctx, m, bad), Verdict::Consumed;
    auto *ip = reinterpret_cast<rte_ipv4_hdr *>(l3);
    pm.family = kFamilyV4;
    pm.l3_len = ipv4_len(l3);
    const uint8_t d0 = reinterpret_cast<const uint8_t *>(&ip->dst_addr)[0];
    if (d0 >= 224) return drop(ctx, m, Counter::drop_ip_multicast), Verdict::Consumed;
    if (!to_our_mac) return drop(ctx, m, Counter::drop_l2_not_for_us), Verdict::Consumed;
    const uint16_t hl = (ip->version_ihl & 0xf) * 4;
    if (hl > sizeof(rte_ipv4_hdr)) ctx.counters.add(Counter::ipv4_options_seen);
    if (own_endpoint(s, kFamilyV4, reinterpret_cast<const uint8_t *>(&ip->dst_addr), endpoint_vn)) {
      const uint8_t proto = ip->next_proto_id;
      if ((proto == IPPROTO_IPIP || proto == IPPROTO_IPV6) && port.role == PortRole::Fabric) {
        if (!tunnel_from_known_nve(ctx, kFamilyV4, reinterpret_cast<const uint8_t *>(&ip->src_addr)))
          return drop(ctx, m, Counter::drop_decap_unknown_peer), Verdict::Consumed;
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
    if (own_endpoint(s, kFamilyV6, ip6->dst_addr, endpoint_vn)) {
      const uint8_t proto = ip6->proto;
      if ((proto == IPPROTO_IPIP || proto == IPPROTO_IPV6) && port.role == PortRole::Fabric) {
        if (!tunnel_from_known_nve(ctx, kFamilyV6, ip6->src_addr))
          return drop(ctx, m, Counter::drop_decap_unknown_peer), Verdict::Consumed;
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

  const uint32_t vn = pm.decapped ? endpoint_vn : ingress_vn(s, port);
  const KeyPrefix kp = key_prefix(vn);
  sig = pm.family == kFamilyV4 ? make_key_v4_hashed(key, kp, pm.l3 + 16)
                               : make_key_v6_hashed(key, kp, pm.l3 + 24);
  return Verdict::Lookup;
}

}  // namespace nvmove::dp
