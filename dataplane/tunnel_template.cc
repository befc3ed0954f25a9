#include "dataplane/tunnel_template.h"

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include <cstring>

#include "dataplane/counters.h"

namespace nvmove::dp {

namespace {
void write_eth(uint8_t *p, const std::optional<MacAddress> &dst, const MacAddress &src,
               uint16_t ethertype) {
  if (dst) std::memcpy(p, dst->data(), 6);
  else std::memset(p, 0, 6);
  std::memcpy(p + 6, src.data(), 6);
  const uint16_t et = rte_cpu_to_be_16(ethertype);
  std::memcpy(p + 12, &et, 2);
}
}  // namespace

bool build_tunnel_template(const FabricParams &fabric, const IpAddress &nve, TunnelTemplate &t,
                           std::string &why) {
  std::memset(&t, 0, sizeof t);
  t.out_port = fabric.port;
  if (nve.is_v4()) {
    if (!fabric.own_v4.is_v4()) {
      why = "NVE " + nve.to_string() + " is IPv4 but this NVE has no IPv4 underlay address";
      return false;
    }
    t.outer_family = kFamilyV4;
    t.hdr_len = RTE_ETHER_HDR_LEN + sizeof(rte_ipv4_hdr);
    t.encap_counter[0] = static_cast<uint16_t>(Counter::encap_ipv4_in_ipv4);
    t.encap_counter[1] = static_cast<uint16_t>(Counter::encap_ipv6_in_ipv4);
    t.resolved = fabric.gateway_mac_v4.has_value();
    write_eth(t.hdr, fabric.gateway_mac_v4, fabric.port_mac, RTE_ETHER_TYPE_IPV4);
    auto *ip = reinterpret_cast<rte_ipv4_hdr *>(t.hdr + RTE_ETHER_HDR_LEN);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->time_to_live = fabric.outer_ttl;
    std::memcpy(&ip->src_addr, fabric.own_v4.bytes.data(), 4);
    std::memcpy(&ip->dst_addr, nve.bytes.data(), 4);
    // Constant words only; the worker adds TOS, length, ID, flags and protocol.
    t.ipv4_csum_partial = rte_raw_cksum(ip, sizeof *ip);
  } else if (nve.is_v6()) {
    if (!fabric.own_v6.is_v6()) {
      why = "NVE " + nve.to_string() + " is IPv6 but this NVE has no IPv6 underlay address";
      return false;
    }
    t.outer_family = kFamilyV6;
    t.hdr_len = RTE_ETHER_HDR_LEN + sizeof(rte_ipv6_hdr);
    t.encap_counter[0] = static_cast<uint16_t>(Counter::encap_ipv4_in_ipv6);
    t.encap_counter[1] = static_cast<uint16_t>(Counter::encap_ipv6_in_ipv6);
    t.resolved = fabric.gateway_mac_v6.has_value();
    write_eth(t.hdr, fabric.gateway_mac_v6, fabric.port_mac, RTE_ETHER_TYPE_IPV6);
    auto *ip6 = reinterpret_cast<rte_ipv6_hdr *>(t.hdr + RTE_ETHER_HDR_LEN);
    ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
    ip6->hop_limits = fabric.outer_ttl;
    std::memcpy(ip6->src_addr, fabric.own_v6.bytes.data(), 16);
    std::memcpy(ip6->dst_addr, nve.bytes.data(), 16);
  } else {
    why = "NVE address unset";
    return false;
  }
  return true;
}

void build_gateway_l2(const FabricParams &fabric, GatewayL2 &g) {
  std::memset(&g, 0, sizeof g);
  g.port = fabric.port;
  g.resolved4 = fabric.gateway_mac_v4.has_value();
  g.resolved6 = fabric.gateway_mac_v6.has_value();
  if (fabric.gateway_mac_v4) std::memcpy(g.eth4, fabric.gateway_mac_v4->data(), 6);
  std::memcpy(g.eth4 + 6, fabric.port_mac.data(), 6);
  if (fabric.gateway_mac_v6) std::memcpy(g.eth6, fabric.gateway_mac_v6->data(), 6);
  std::memcpy(g.eth6 + 6, fabric.port_mac.data(), 6);
}

}  // namespace nvmove::dp
