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
    send_arp_request(cfg_.gateway_ipv4);
    next4_ms_ = now_ms + (mac4_ ? refresh : 1000);
  }
  if (!static6_ && cfg_.gateway_ipv6.is_v6() && cfg_.nve_ipv6.is_v6() && now_ms >= next6_ms_) {
    send_ns(cfg_.gateway_ipv6);
    next6_ms_ = now_ms + (mac6_ ? refresh : 1000);
  }
  if (!wanted_) return;
  track_wanted(now_ms);
  for (auto &[address, n] : others_) {
    if (now_ms < n.next_request_ms) continue;
    // Asked from our own address of its family; without one it cannot be
    // resolved (and show neighbours says so: no MAC).
    if (address.is_v4() && cfg_.nve_ipv4.is_v4()) send_arp_request(address);
    else if (address.is_v6() && cfg_.nve_ipv6.is_v6()) send_ns(address);
    n.next_request_ms = now_ms + (n.mac ? refresh : 1000);
  }
}

void NeighbourResolver::watch(std::function<std::set<IpAddress>()> wanted, Learnt learnt) {
  wanted_ = std::move(wanted);
  learnt_ = std::move(learnt);
  if (mac4_ && cfg_.gateway_ipv4.is_v4()) learnt_(cfg_.gateway_ipv4, *mac4_);
  if (mac6_ && cfg_.gateway_ipv6.is_v6()) learnt_(cfg_.gateway_ipv6, *mac6_);
}

void NeighbourResolver::track_wanted(uint64_t now_ms) {
  // Every 20 ms: the set comes from every host route's next hop, and a new
  // one waits at most this long for its first request.
  if (now_ms < next_scan_ms_) return;
  next_scan_ms_ = now_ms + 20;
  const std::set<IpAddress> wanted = wanted_();
  std::erase_if(others_, [&](const auto &kv) { return !wanted.contains(kv.first); });
  for (const auto &a : wanted) {
    // The gateway has its own schedule (above).
    if (a == cfg_.gateway_ipv4 || a == cfg_.gateway_ipv6) continue;
    others_.try_emplace(a);
  }
}

bool NeighbourResolver::learnt(const IpAddress &address, const MacAddress &mac) {
  auto it = others_.find(address);
  if (it == others_.end()) return false;
  if (it->second.mac != mac) {
    spdlog::info("fabric neighbour {} is at {}", address.to_string(), mac_to_string(mac));
    it->second.mac = mac;
    if (learnt_) learnt_(address, mac);
  }
  return true;
}

namespace {
void transmit(NvedRuntime &rt, rte_mbuf *m) {
  m->port = rt.settings().fabric_port;
  if (!rt.send_from_control(m)) spdlog::warn("control TX ring full: neighbour request not sent");
}
}  // namespace

void NeighbourResolver::send_arp_request(const IpAddress &target) {
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
  std::memcpy(&arp->arp_data.arp_tip, target.bytes.data(), 4);
  requests_++;
  transmit(rt_, m);
}

void NeighbourResolver::send_ns(const IpAddress &target) {
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
  const uint8_t *tgt = target.bytes.data();
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
    IpAddress sender;
    sender.family = 4;
    std::memcpy(sender.bytes.data(), &arp->arp_data.arp_sip, 4);
    MacAddress mac;
    std::memcpy(mac.data(), &arp->arp_data.arp_sha, 6);
    if ((mac[0] & 1) || mac == MacAddress{}) return false;  // not a usable next hop
    if (static4_ || !cfg_.gateway_ipv4.is_v4() || sender != cfg_.gateway_ipv4) return learnt(sender, mac);
    if (mac4_ != mac) {
      spdlog::info("fabric gateway {} is at {}", cfg_.gateway_ipv4.to_string(), mac_to_string(mac));
      mac4_ = mac;
      publish();
      if (learnt_) learnt_(sender, mac);
    }
    return true;
  }
  if (et == RTE_ETHER_TYPE_IPV6 && len >= 14 + 40 + 24) {
    const auto *ip6 = reinterpret_cast<const rte_ipv6_hdr *>(p + 14);
    const uint8_t *icmp = p + 14 + 40;
    if (ip6->proto != IPPROTO_ICMPV6 || icmp[0] != 136) return false;
    IpAddress target;
    target.family = 6;
    std::memcpy(target.bytes.data(), icmp + 8, 16);
    const bool gateway = !static6_ && cfg_.gateway_ipv6.is_v6() && target == cfg_.gateway_ipv6;
    if (!gateway && !others_.contains(target)) return false;
    // Target link-layer address option.
    for (uint32_t off = 14 + 40 + 24; off + 8 <= len;) {
      const uint8_t type = p[off], olen = p[off + 1];
      if (olen == 0) break;
      if (type == 2) {
        MacAddress mac;
        std::memcpy(mac.data(), p + off + 2, 6);
        if ((mac[0] & 1) || mac == MacAddress{}) return false;
        if (!gateway) return learnt(target, mac);
        if (mac6_ != mac) {
          spdlog::info("fabric gateway {} is at {}", cfg_.gateway_ipv6.to_string(), mac_to_string(mac));
          mac6_ = mac;
          publish();
          if (learnt_) learnt_(target, mac);
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
