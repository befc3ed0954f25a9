#include "dataplane/local_reply.h"

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include <cstring>

#include "dataplane/checksum.h"
#include "dataplane/control_ring.h"
#include "dataplane/mbuf_chain.h"
#include "dataplane/packet_fields.h"
#include "dataplane/route_entry.h"

namespace nvmove::dp {

namespace {

// Turns the received frame's Ethernet header around: to the sender, from us.
void reply_l2(rte_mbuf *m, const uint8_t *our_mac) {
  auto *eth = rte_pktmbuf_mtod(m, rte_ether_hdr *);
  eth->dst_addr = eth->src_addr;
  std::memcpy(&eth->src_addr, our_mac, 6);
}

// Trims Ethernet padding (and a chain's segments past it): the reply is
// exactly L2 + IP length.
void set_len(rte_mbuf *m, uint32_t len) { set_frame(m, rte_pktmbuf_mtod(m, uint8_t *), len); }
}  // namespace

void handle_arp(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm) {
  const DataplaneSettings &s = *ctx.settings;
  const PortSettings &port = s.ports[pm.in_port];
  if (m->data_len < pm.l2_len + sizeof(rte_arp_hdr)) return drop(ctx, m, Counter::drop_arp_malformed);
  auto *arp = rte_pktmbuf_mtod_offset(m, rte_arp_hdr *, pm.l2_len);
  if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
      arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != 6 ||
      arp->arp_plen != 4)
    return drop(ctx, m, Counter::drop_arp_malformed);
  const uint16_t op = rte_be_to_cpu_16(arp->arp_opcode);
  const uint32_t tip = arp->arp_data.arp_tip;
  const uint32_t sip = arp->arp_data.arp_sip;
  bool answer = false;
  if (op == RTE_ARP_OP_REQUEST) {
    if (port.role == PortRole::Fabric) {
      answer = own_endpoint(s, kFamilyV4, reinterpret_cast<const uint8_t *>(&tip));
      // Other requests go up: the control thread learns the gateway's MAC
      // from the gateway's own requests.
      if (!answer) return to_control(ctx, m);
    } else {
      // As the VMs' gateway: any address but the asker's own (a probe or a
      // gratuitous ARP goes to the control thread, which learns from it).
      answer = port.proxy_arp && tip != sip && sip != 0;
      if (!answer) return to_control(ctx, m);
    }
  } else if (op == RTE_ARP_OP_REPLY) {
    return to_control(ctx, m);
  } else {
    return drop(ctx, m, Counter::drop_arp_malformed);
  }

  arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
  arp->arp_data.arp_tha = arp->arp_data.arp_sha;
  arp->arp_data.arp_tip = sip;
  std::memcpy(&arp->arp_data.arp_sha, port.mac, 6);
  arp->arp_data.arp_sip = tip;
  reply_l2(m, port.mac);
  set_len(m, pm.l2_len + sizeof(rte_arp_hdr));
  ctx.counters.add(Counter::arp_replied);
  emit(ctx, pm.in_port, m);
}

void handle_nd(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm) {
  const DataplaneSettings &s = *ctx.settings;
  const PortSettings &port = s.ports[pm.in_port];
  // The checksum and the options are read over the whole message: a chain
  // (an ND message over a segment long, rare but legal) is cut to the
  // message, then copied into its first segment, leaving pm.l3 where it was.
  if (m->nb_segs > 1) {
    set_len(m, pm.l2_len + pm.l3_len);
    if (!make_contiguous(m)) return drop(ctx, m, Counter::drop_multisegment);
  }
  auto *ip6 = reinterpret_cast<rte_ipv6_hdr *>(pm.l3);
  uint8_t *icmp = pm.l3 + 40;
  // RFC 4861 7.1.1: hop limit 255, code 0, ICMP length >= 24.
  if (ip6->hop_limits != 255 || icmp[1] != 0 || pm.l3_len < 40 + 24)
    return drop(ctx, m, Counter::drop_nd_malformed);
  if (rte_ipv6_udptcp_cksum_verify(ip6, icmp) != 0) return drop(ctx, m, Counter::drop_nd_malformed);
  const bool dad = ipv6_src_unspecified(pm.l3);
  // Options: each at least 8 bytes and inside the message; a DAD probe
  // (source ::) carries no source link-layer address (RFC 4861 7.1.1).
  for (uint32_t off = 40 + 24; off < pm.l3_len;) {
    if (off + 2 > pm.l3_len || pm.l3[off + 1] == 0 || off + pm.l3[off + 1] * 8u > pm.l3_len)
      return drop(ctx, m, Counter::drop_nd_malformed);
    if (dad && pm.l3[off] == 1 && icmp[0] != kIcmp6Na) return drop(ctx, m, Counter::drop_nd_malformed);
    off += pm.l3[off + 1] * 8u;
  }
  if (icmp[0] == kIcmp6Na) return to_control(ctx, m);
  const uint8_t *target = icmp + 8;
  if (target[0] == 0xff) return drop(ctx, m, Counter::drop_nd_malformed);  // RFC 4861 7.1.1
  bool answer;
  if (port.role == PortRole::Fabric) {
    answer = own_endpoint(s, kFamilyV6, target);
  } else {
    answer = port.proxy_arp && !dad && std::memcmp(target, ip6->src_addr, 16) != 0;
  }
  if (!answer) return to_control(ctx, m);

  // Neighbour Advertisement: 24 bytes + target link-layer address option (8).
  constexpr uint16_t kNaLen = 24 + 8;
  const uint32_t frame = pm.l2_len + 40 + kNaLen;
  if (frame > static_cast<uint32_t>(m->buf_len - m->data_off)) return drop(ctx, m, Counter::drop_no_headroom);
  uint8_t tgt[16];
  std::memcpy(tgt, target, 16);
  if (dad) {
    static constexpr uint8_t kAllNodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    std::memcpy(ip6->dst_addr, kAllNodes, 16);
  } else {
    std::memcpy(ip6->dst_addr, ip6->src_addr, 16);
  }
  std::memcpy(ip6->src_addr, tgt, 16);
  ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
  ip6->payload_len = rte_cpu_to_be_16(kNaLen);
  ip6->hop_limits = 255;
  icmp[0] = kIcmp6Na;
  icmp[1] = 0;
  icmp[2] = icmp[3] = 0;
  // Router, Solicited (not for DAD), Override only for our own address: a
  // proxy answer must not override a real owner's entry (RFC 4861 7.2.8).
  const bool own = own_endpoint(s, kFamilyV6, tgt);
  icmp[4] = static_cast<uint8_t>(0x80 | (dad ? 0 : 0x40) | (own ? 0x20 : 0));
  icmp[5] = icmp[6] = icmp[7] = 0;
  std::memcpy(icmp + 8, tgt, 16);
  icmp[24] = 2;  // target link-layer address
  icmp[25] = 1;  // length in units of 8 bytes
  std::memcpy(icmp + 26, port.mac, 6);
  const uint16_t ck = rte_ipv6_udptcp_cksum(ip6, icmp);
  std::memcpy(icmp + 2, &ck, 2);
  reply_l2(m, port.mac);
  if (dad) {
    // To all-nodes: its multicast MAC 33:33:00:00:00:01 (RFC 2464 7).
    static constexpr uint8_t kAllNodesMac[6] = {0x33, 0x33, 0, 0, 0, 1};
    std::memcpy(rte_pktmbuf_mtod(m, uint8_t *), kAllNodesMac, 6);
  }
  set_len(m, frame);
  ctx.counters.add(Counter::nd_replied);
  emit(ctx, pm.in_port, m);
}

void handle_echo(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm) {
  const DataplaneSettings &s = *ctx.settings;
  if (pm.family == kFamilyV4) {
    auto *ip = reinterpret_cast<rte_ipv4_hdr *>(pm.l3);
    uint8_t *icmp = pm.l3 + (ip->version_ihl & 0xf) * 4;
    const uint32_t src = ip->src_addr;
    ip->src_addr = ip->dst_addr;
    ip->dst_addr = src;
    ip->time_to_live = s.icmp_ttl;
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    uint16_t ck;
    std::memcpy(&ck, icmp + 2, 2);
    const uint16_t old_w = load16(icmp);
    icmp[0] = RTE_IP_ICMP_ECHO_REPLY;
    ck = csum_update16(ck, old_w, load16(icmp));
    std::memcpy(icmp + 2, &ck, 2);
  } else {
    auto *ip6 = reinterpret_cast<rte_ipv6_hdr *>(pm.l3);
    uint8_t *icmp = pm.l3 + 40;
    uint8_t tmp[16];
    std::memcpy(tmp, ip6->src_addr, 16);
    std::memcpy(ip6->src_addr, ip6->dst_addr, 16);
    std::memcpy(ip6->dst_addr, tmp, 16);
    ip6->hop_limits = s.icmp_ttl;
    // Swapping the addresses leaves the pseudo-header sum unchanged.
    uint16_t ck;
    std::memcpy(&ck, icmp + 2, 2);
    const uint16_t old_w = load16(icmp);
    icmp[0] = kIcmp6EchoReply;
    ck = csum_update16(ck, old_w, load16(icmp));
    std::memcpy(icmp + 2, &ck, 2);
  }
  reply_l2(m, s.ports[pm.in_port].mac);
  set_len(m, pm.l2_len + pm.l3_len);
  ctx.counters.add(Counter::echo_replied);
  emit(ctx, pm.in_port, m);
}


}  // namespace nvmove::dp
