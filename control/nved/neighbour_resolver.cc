#include "control/nved/neighbour_resolver.h"

#include <rte_arp.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "control/nved/runtime.h"

namespace nvmove {

NeighbourResolver::NeighbourResolver(NvedRuntime &rt, const NvedConfig &cfg) : rt_(rt), cfg_(cfg) {
  mac4_ = cfg.gateway_mac_ipv4;
  mac6_ = cfg.gateway_mac_ipv6;
  static4_ = mac4_.has_value();
  static6_ = mac6_.has_value();
}

void NeighbourResolver::tick(uint64_t now_ms) {
  const uint64_t refresh = uint64_t{cfg_.neighbour_refresh_s} * 1000;
  // Unresolved: ask every second. Resolved: refresh.
  if (!static4_ && cfg_.gateway_ipv4.is_v4() && cfg_.nve_ipv4.is_v4() && now_ms >= next4_ms_) {
    send_arp_request();
    next4_ms_ = now_ms + (mac4_ ? refresh : 1000);
  }
  if (!static6_ && cfg_.gateway_ipv6.is_v6() && cfg_.nve_ipv6.is_v6() && now_ms >= next6_ms_) {
    send_ns();
    next6_ms_ = now_ms + (mac6_ ? refresh : 1000);
  }
}

namespace {
void transmit(NvedRuntime &rt, rte_mbuf *m) {
  m->port = rt.settings().fabric_port;
  if (!rt.send_from_control(m)) spdlog::warn("control TX ring full: neighbour request not sent");
}
}  // namespace

void NeighbourResolver::send_arp_request() {
  rte_mbuf *m = rte_pktmbuf_alloc(rt_.pool());
  if (!m) return;
  const uint16_t len = sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr);
  auto *eth = reinterpret_cast<rte_ether_hdr *>(rte_pktmbuf_append(m, len));
  if (!eth) {
    rte_pktmbuf_free(m);
    return;
  }
  const MacAddress &our = rt_.port_info(rt_.settings().fabric_port).mac;
  std::memset(&eth->dst_addr, 0xff, 6);
  std::memcpy(&eth->src_addr, our.data(), 6);
  eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
  auto *arp = reinterpret_cast<rte_arp_hdr *>(eth + 1);
  arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
  arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  arp->arp_hlen = 6;
  arp->arp_plen = 4;
  arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
  std::memcpy(&arp->arp_data.arp_sha, our.data(), 6);
  std::memcpy(&arp->arp_data.arp_sip, cfg_.nve_ipv4.bytes.data(), 4);
  std::memset(&arp->arp_data.arp_tha, 0, 6);
  std::memcpy(&arp->arp_data.arp_tip, cfg_.gateway_ipv4.bytes.data(), 4);
  requests_++;
  transmit(rt_, m);
}

void NeighbourResolver::send_ns() {
  rte_mbuf *m = rte_pktmbuf_alloc(rt_.pool());
  if (!m) return;
  constexpr uint16_t kIcmpLen = 24 + 8;
  const uint16_t len = sizeof(rte_ether_hdr) + 40 + kIcmpLen;
  auto *p = reinterpret_cast<uint8_t *>(rte_pktmbuf_append(m, len));
  if (!p) {
    rte_pktmbuf_free(m);
    return;
  }
  std::memset(p, 0, len);
  const MacAddress &our = rt_.port_info(rt_.settings().fabric_port).mac;
  const uint8_t *tgt = cfg_.gateway_ipv6.bytes.data();
  // Solicited-node multicast ff02::1:ffXX:XXXX and its MAC 33:33:ff:XX:XX:XX.
  uint8_t snm[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, tgt[13], tgt[14], tgt[15]};
  const uint8_t dmac[6] = {0x33, 0x33, 0xff, tgt[13], tgt[14], tgt[15]};
  std::memcpy(p, dmac, 6);
  std::memcpy(p + 6, our.data(), 6);
  p[12] = 0x86;
  p[13] = 0xdd;
  auto *ip6 = reinterpret_cast<rte_ipv6_hdr *>(p + 14);
  ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
  ip6->payload_len = rte_cpu_to_be_16(kIcmpLen);
  ip6->proto = IPPROTO_ICMPV6;
  ip6->hop_limits = 255;
  std::memcpy(ip6->src_addr, cfg_.nve_ipv6.bytes.data(), 16);
  std::memcpy(ip6->dst_addr, snm, 16);
  uint8_t *icmp = p + 14 + 40;
  icmp[0] = 135;
  std::memcpy(icmp + 8, tgt, 16);
  icmp[24] = 1;  // source link-layer address
  icmp[25] = 1;
  std::memcpy(icmp + 26, our.data(), 6);
  const uint16_t ck = rte_ipv6_udptcp_cksum(ip6, icmp);
  std::memcpy(icmp + 2, &ck, 2);
  requests_++;
  transmit(rt_, m);
}

bool NeighbourResolver::learn(const rte_mbuf *m) {
  // Only the fabric can tell us where the fabric gateway is: a VM claiming
  // the gateway's address on an access port must not redirect our tunnels.
  if (m->port != rt_.settings().fabric_port) return false;
  const auto *p = rte_pktmbuf_mtod(m, const uint8_t *);
  const uint32_t len = m->data_len;
  if (len < 14) return false;
  const uint16_t et = static_cast<uint16_t>(p[12] << 8 | p[13]);
  if (et == RTE_ETHER_TYPE_ARP && len >= 14 + sizeof(rte_arp_hdr)) {
    const auto *arp = reinterpret_cast<const rte_arp_hdr *>(p + 14);
    if (static4_ || !cfg_.gateway_ipv4.is_v4() ||
        std::memcmp(&arp->arp_data.arp_sip, cfg_.gateway_ipv4.bytes.data(), 4) != 0)
      return false;
    MacAddress mac;
    std::memcpy(mac.data(), &arp->arp_data.arp_sha, 6);
    if ((mac[0] & 1) || mac == MacAddress{}) return false;  // not a usable next hop
    if (mac4_ != mac) {
      spdlog::info("fabric gateway {} is at {}", cfg_.gateway_ipv4.to_string(), mac_to_string(mac));
      mac4_ = mac;
      publish();
    }
    return true;
  }
  if (et == RTE_ETHER_TYPE_IPV6 && len >= 14 + 40 + 24) {
    const auto *ip6 = reinterpret_cast<const rte_ipv6_hdr *>(p + 14);
    const uint8_t *icmp = p + 14 + 40;
    if (ip6->proto != IPPROTO_ICMPV6 || icmp[0] != 136 || static6_ || !cfg_.gateway_ipv6.is_v6() ||
        std::memcmp(icmp + 8, cfg_.gateway_ipv6.bytes.data(), 16) != 0)
      return false;
    // Target link-layer address option.
    for (uint32_t off = 14 + 40 + 24; off + 8 <= len;) {
      const uint8_t type = p[off], olen = p[off + 1];
      if (olen == 0) break;
      if (type == 2) {
        MacAddress mac;
        std::memcpy(mac.data(), p + off + 2, 6);
        if ((mac[0] & 1) || mac == MacAddress{}) return false;
        if (mac6_ != mac) {
          spdlog::info("fabric gateway {} is at {}", cfg_.gateway_ipv6.to_string(), mac_to_string(mac));
          mac6_ = mac;
          publish();
        }
        return true;
      }
      off += olen * 8u;
    }
  }
  return false;
}

void NeighbourResolver::publish() {
  dp::FabricParams fp = rt_.routes().fabric();
  fp.gateway_mac_v4 = mac4_;
  fp.gateway_mac_v6 = mac6_;
  rt_.routes().set_fabric(fp);
}

}  // namespace nvmove
