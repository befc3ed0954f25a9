// Stage 3 of the burst pipeline: what happens to a packet once its route is
// known. The common cases (deliver to a local VM, encapsulate toward the VM's
// new NVE) are inline here; the rare ones (no route, fragmentation, ICMP
// errors) are out of line in actions.cc.
#pragma once

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dataplane/encap.h"
#include "dataplane/packet_fields.h"
#include "dataplane/worker_context.h"

namespace nvmove::dp {

// No host route: to the fabric gateway, or dropped by policy.
void forward_default(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm);

// The route is one of our own endpoints (kRouteOwn: a virtual_networks
// address the common path let through): classified in full like a packet to
// the main address (a tunnel decapsulated into that endpoint's VN, an echo
// answered...), then looked up and acted on once.
void to_own_endpoint(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm);

// The encapsulated packet would exceed the tunnel MTU: fragment (IPv4
// without DF) or answer Fragmentation Needed / Packet Too Big.
void tunnel_oversize(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm, const TunnelTemplate &t);

// The packet is larger than the mtu of `port`, where it would leave with
// the Ethernet header `l2` (l2_len bytes, EtherType included): the same
// answer as for the tunnel (RFC 1812 5.2.6, RFC 8201), each fragment
// counted on `counted`. A jumbo fabric in front of 1500-byte VM ports.
void port_oversize(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm, uint16_t port, const uint8_t *l2,
                   uint16_t l2_len, Counter counted);

// Writes the Ethernet header toward local VM `e` (tagged when its route
// says so) at `p`; returns its length.
inline uint16_t write_vm_l2(uint8_t *p, const DataplaneSettings &s, const RouteEntry &e, uint8_t family) {
  std::memcpy(p, e.vm_mac, 6);
  std::memcpy(p + 6, s.ports[e.port].mac, 6);
  const uint16_t et = rte_cpu_to_be_16(family == kFamilyV4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
  if (e.vlan_tci) {
    const uint16_t tpid = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
    const uint16_t tci = rte_cpu_to_be_16(e.vlan_tci);
    std::memcpy(p + 12, &tpid, 2);
    std::memcpy(p + 14, &tci, 2);
    std::memcpy(p + 16, &et, 2);
    return 18;
  }
  std::memcpy(p + 12, &et, 2);
  return 14;
}

// Builds the encapsulation parameters of an inner packet (after the TTL
// decrement, before any fragmentation).
// `dscp_set`: the tunnel's DSCP policy (settings.dscp_set: -1 copies).
inline EncapInput encap_input(int16_t dscp_set, const TunnelTemplate &t, uint8_t *l3, uint16_t l3_len,
                              uint8_t family) {
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
  in.tos = outer_tos(tos, dscp_set);
  in.flow_label = t.outer_family == kFamilyV6 ? inner_flow_label(l3, family, l3_len) : 0;
  return in;
}
inline EncapInput encap_input(const WorkerContext &ctx, const TunnelTemplate &t, uint8_t *l3, uint16_t l3_len,
                              uint8_t family) {
  return encap_input(ctx.settings->dscp_set, t, l3, l3_len, family);
}

inline void deliver_local(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm, const RouteEntry &e) {
  const DataplaneSettings &s = *ctx.settings;
  if (__builtin_expect(pm.l3_len > s.ports[e.port].mtu, 0)) {
    uint8_t l2[18];
    return port_oversize(ctx, m, pm, e.port, l2, write_vm_l2(l2, s, e, pm.family), Counter::delivered_local);
  }
  const uint16_t l2 = e.vlan_tci ? 18 : 14;
  uint8_t *p = reframe(m, pm, l2);
  if (__builtin_expect(!p, 0)) return drop(ctx, m, Counter::drop_no_headroom);
  dec_ttl(pm);
  write_vm_l2(p, s, e, pm.family);
  m->ol_flags = 0;
  ctx.counters.add(Counter::delivered_local);
  emit(ctx, e.port, m);
}

inline void tunnel(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm, const RouteEntry &e) {
  const DataplaneSettings &s = *ctx.settings;
  const TunnelTemplate *t = ctx.routes.nves[e.nve_idx & ctx.routes.nve_mask].load(std::memory_order_acquire);
  if (__builtin_expect(t == nullptr, 0)) return drop(ctx, m, Counter::drop_nve_unknown);
  if (__builtin_expect(!t->resolved, 0)) return drop(ctx, m, Counter::drop_neighbour_unresolved);
  const uint16_t overhead = t->hdr_len - RTE_ETHER_HDR_LEN;  // the outer IP header
  if (__builtin_expect(pm.l3_len + overhead > s.tunnel_mtu, 0)) return tunnel_oversize(ctx, m, pm, *t);

  uint8_t *hdr = reframe(m, pm, t->hdr_len);
  if (__builtin_expect(!hdr, 0)) return drop(ctx, m, Counter::drop_no_headroom);
  dec_ttl(pm);
  m->ol_flags = 0;
  const EncapInput in = encap_input(ctx, *t, pm.l3, pm.l3_len, pm.family);
  write_outer(hdr, *t, in, ctx.next_ip_id, s.ports[t->out_port].tx_ipv4_cksum_offload, m);
  ctx.counters.add(static_cast<Counter>(t->encap_counter[pm.family == kFamilyV6]));
  if (pm.decapped) ctx.counters.add(Counter::reencap);
  emit(ctx, t->out_port, m);
}

}  // namespace nvmove::dp
