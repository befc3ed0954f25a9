#include "drivers/flow_rules.h"

#include <rte_byteorder.h>
#include <rte_ethdev.h>

#include <cstdio>
#include <cstring>

namespace nvmove::drivers {

namespace {

constexpr uint16_t kEtherArp = 0x0806;
constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoIcmp6 = 58;
constexpr uint8_t kNeighbourSolicitation = 135;
constexpr uint8_t kNeighbourAdvertisement = 136;

// Control rules first, data rules after: a control packet to the port's MAC
// (an echo request to our address) must not be spread to a worker.
constexpr uint32_t kControlPriority = 0;
constexpr uint32_t kDataPriority = 1;

FlowRule arp_rule(FlowAction to) {
  FlowRule r{"arp", "ARP requests and replies: answered and learnt from", kControlPriority, {}, to};
  r.match.ether_type = kEtherArp;
  return r;
}

FlowRule nd_rule(uint8_t type, FlowAction to) {
  const bool ns = type == kNeighbourSolicitation;
  FlowRule r{ns ? "nd-solicitation" : "nd-advertisement",
             ns ? "Neighbour Solicitations: answered for our addresses"
                : "Neighbour Advertisements: the gateway's and next hops' MACs",
             kControlPriority, {}, to};
  r.match.ip_family = 6;
  r.match.ip_proto = kProtoIcmp6;
  r.match.icmp6_type = type;
  return r;
}

FlowRule icmp_to(const IpAddress &own, FlowAction to) {
  const bool v4 = own.is_v4();
  FlowRule r{std::string(v4 ? "icmp-to-" : "icmp6-to-") + own.to_string(),
             std::string(v4 ? "ICMP" : "ICMPv6") + " to this NVE's address " + own.to_string() + " (echo, errors)",
             kControlPriority, {}, to};
  r.match.ip_family = v4 ? 4 : 6;
  r.match.ip_dst = own;
  r.match.ip_proto = v4 ? kProtoIcmp : kProtoIcmp6;
  return r;
}

FlowRule data_to_us(uint8_t family, const MacAddress &mac, FlowAction to) {
  FlowRule r{family == 4 ? "ipv4-to-port" : "ipv6-to-port",
             std::string(family == 4 ? "IPv4" : "IPv6") + " to the port's MAC: the fast path", kDataPriority, {}, to};
  r.match.eth_dst = mac;
  r.match.ip_family = family;
  return r;
}

}  // namespace

std::vector<FlowRule> build_flow_rules(const FlowPlan &plan) {
  std::vector<FlowRule> out;
  const FlowAction control{FlowAction::Kind::Queue, plan.data_queues, 0};
  // In isolate mode without a control queue, control traffic must still
  // reach nved: the first worker's queue, where it is handled as today.
  const FlowAction first_worker{FlowAction::Kind::Queue, 0, 0};
  const FlowAction data = plan.data_queues > 1 && plan.rss_types
                              ? FlowAction{FlowAction::Kind::Rss, 0, plan.data_queues, plan.rss_types}
                              : FlowAction{FlowAction::Kind::Queue, 0, 0};
  if (plan.steer_control || plan.isolate) {
    const FlowAction to = plan.steer_control ? control : first_worker;
    out.push_back(arp_rule(to));
    out.push_back(nd_rule(kNeighbourSolicitation, to));
    out.push_back(nd_rule(kNeighbourAdvertisement, to));
    for (const IpAddress &a : plan.own_addresses) out.push_back(icmp_to(a, to));
  }
  if (plan.isolate) {
    out.push_back(data_to_us(4, plan.port_mac, data));
    out.push_back(data_to_us(6, plan.port_mac, data));
  }
  return out;
}

std::string describe(const FlowRule &r) {
  std::string s;
  auto add = [&](const std::string &part) { s += (s.empty() ? "" : " ") + part; };
  if (r.match.eth_dst) add("eth dst " + mac_to_string(*r.match.eth_dst));
  if (r.match.ether_type) {
    char t[8];
    std::snprintf(t, sizeof t, "0x%04x", *r.match.ether_type);
    add(std::string("eth type ") + t);
  }
  if (r.match.ip_family) add(r.match.ip_family == 4 ? "ipv4" : "ipv6");
  if (r.match.ip_dst) add("dst " + r.match.ip_dst->to_string());
  if (r.match.ip_proto) add("proto " + std::to_string(*r.match.ip_proto));
  if (r.match.icmp6_type) add("icmp6 type " + std::to_string(*r.match.icmp6_type));
  if (s.empty()) s = "any";
  if (r.action.kind == FlowAction::Kind::Queue) return s + " -> queue " + std::to_string(r.action.queue);
  return s + " -> rss queues 0-" + std::to_string(r.action.rss_queues - 1);
}

RteFlowRule::RteFlowRule(const FlowRule &r, bool count) {
  attr_.ingress = 1;
  attr_.priority = r.priority;
  const FlowMatch &m = r.match;

  // Ethernet, always: an empty item matches any frame.
  rte_flow_item eth{};
  eth.type = RTE_FLOW_ITEM_TYPE_ETH;
  if (m.eth_dst) {
    std::memcpy(eth_spec_.hdr.dst_addr.addr_bytes, m.eth_dst->data(), 6);
    std::memset(eth_mask_.hdr.dst_addr.addr_bytes, 0xff, 6);
  }
  if (m.ether_type) {
    eth_spec_.hdr.ether_type = rte_cpu_to_be_16(*m.ether_type);
    eth_mask_.hdr.ether_type = 0xffff;
  }
  if (m.eth_dst || m.ether_type) {
    eth.spec = &eth_spec_;
    eth.mask = &eth_mask_;
  }
  items_.push_back(eth);

  if (m.ip_family == 4) {
    rte_flow_item ip{};
    ip.type = RTE_FLOW_ITEM_TYPE_IPV4;
    if (m.ip_dst) {
      std::memcpy(&ipv4_spec_.hdr.dst_addr, m.ip_dst->bytes.data(), 4);
      ipv4_mask_.hdr.dst_addr = 0xffffffff;
    }
    if (m.ip_proto) {
      ipv4_spec_.hdr.next_proto_id = *m.ip_proto;
      ipv4_mask_.hdr.next_proto_id = 0xff;
    }
    if (m.ip_dst || m.ip_proto) {
      ip.spec = &ipv4_spec_;
      ip.mask = &ipv4_mask_;
    }
    items_.push_back(ip);
  } else if (m.ip_family == 6) {
    rte_flow_item ip{};
    ip.type = RTE_FLOW_ITEM_TYPE_IPV6;
    if (m.ip_dst) {
      std::memcpy(ipv6_spec_.hdr.dst_addr, m.ip_dst->bytes.data(), 16);
      std::memset(ipv6_mask_.hdr.dst_addr, 0xff, 16);
    }
    if (m.ip_proto) {
      ipv6_spec_.hdr.proto = *m.ip_proto;
      ipv6_mask_.hdr.proto = 0xff;
    }
    if (m.ip_dst || m.ip_proto) {
      ip.spec = &ipv6_spec_;
      ip.mask = &ipv6_mask_;
    }
    items_.push_back(ip);
    if (m.icmp6_type) {
      rte_flow_item icmp{};
      icmp.type = RTE_FLOW_ITEM_TYPE_ICMP6;
      icmp6_spec_.type = *m.icmp6_type;
      icmp6_mask_.type = 0xff;
      icmp.spec = &icmp6_spec_;
      icmp.mask = &icmp6_mask_;
      items_.push_back(icmp);
    }
  }
  rte_flow_item end{};
  end.type = RTE_FLOW_ITEM_TYPE_END;
  items_.push_back(end);

  if (count) {
    rte_flow_action a{};
    a.type = RTE_FLOW_ACTION_TYPE_COUNT;
    a.conf = &count_;
    actions_.push_back(a);
  }
  rte_flow_action fate{};
  if (r.action.kind == FlowAction::Kind::Queue) {
    queue_.index = r.action.queue;
    fate.type = RTE_FLOW_ACTION_TYPE_QUEUE;
    fate.conf = &queue_;
  } else {
    for (uint16_t q = 0; q < r.action.rss_queues; q++) rss_queue_list_.push_back(q);
    rss_.func = RTE_ETH_HASH_FUNCTION_DEFAULT;
    rss_.types = r.action.rss_types;
    rss_.level = 1;  // the outer header: what the NIC receives, not a tunnel's inside
    rss_.queue_num = static_cast<uint32_t>(rss_queue_list_.size());
    rss_.queue = rss_queue_list_.data();
    fate.type = RTE_FLOW_ACTION_TYPE_RSS;
    fate.conf = &rss_;
  }
  actions_.push_back(fate);
  rte_flow_action end_action{};
  end_action.type = RTE_FLOW_ACTION_TYPE_END;
  actions_.push_back(end_action);
}

}  // namespace nvmove::drivers
