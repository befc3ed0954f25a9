// The rte_flow rules nved asks of a port, as plain data first: what to match
// and where it goes, built from the configuration by build_flow_rules() and
// checked by unit tests field by field. RteFlowRule turns one into the
// arrays rte_flow_validate/create take, owning everything they point at.
//
// What the rules are for (docs/sriov.md, "rte_flow"):
//  - control traffic (ARP, Neighbour Solicitation/Advertisement, ICMP and
//    ICMPv6 to the NVE's own addresses) to an RX queue of its own, which the
//    control thread serves: a data flood on the workers' queues cannot starve
//    it, and workers never see those packets;
//  - isolate mode (flow bifurcation on a VF): only what these rules match
//    reaches nved, everything else stays with the kernel's driver; then IPv4
//    and IPv6 addressed to the port's MAC are spread over the workers' queues.
// Not here: the NIC pushing the outer header (RAW_ENCAP). ice/iavf/i40e
// take no egress rule; mlx5 refuses IPv4-in-IPv4's 34-byte header and would
// push fixed ECN and flow label bytes (docs/sriov.md, section 6).
#pragma once

#include <rte_flow.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/net_types.h"

namespace nvmove::drivers {

// A rule's pattern: each field present is matched exactly, in the order
// Ethernet, IPv4/IPv6, ICMPv6.
struct FlowMatch {
  std::optional<MacAddress> eth_dst;
  std::optional<uint16_t> ether_type;  // host order; 0x0806 ARP
  uint8_t ip_family = 0;               // 4 or 6: an IP header follows; 0: none
  std::optional<IpAddress> ip_dst;     // of ip_family
  std::optional<uint8_t> ip_proto;     // IPv4 protocol or IPv6 next header
  std::optional<uint8_t> icmp6_type;   // 135 NS, 136 NA (ip_family 6, ip_proto 58)
  bool operator==(const FlowMatch &) const = default;
};

struct FlowAction {
  enum class Kind : uint8_t { Queue, Rss };
  Kind kind = Kind::Queue;
  uint16_t queue = 0;       // Queue: the RX queue
  uint16_t rss_queues = 0;  // Rss: spread over queues 0..rss_queues-1
  uint64_t rss_types = 0;   // Rss: hash types (RTE_ETH_RSS_*), those the port has
  bool operator==(const FlowAction &) const = default;
};

struct FlowRule {
  std::string name;     // "arp-to-control": how show flows and the logs name it
  std::string purpose;  // what it is for, in words
  uint32_t priority = 0;  // 0 is matched first
  FlowMatch match;
  FlowAction action;
};

// What the rules of one port are built from.
struct FlowPlan {
  MacAddress port_mac{};
  std::vector<IpAddress> own_addresses;  // ICMP / ICMPv6 to these is control traffic
  uint16_t data_queues = 1;              // the workers' RX queues: 0..data_queues-1
  uint64_t rss_types = 0;                // the port's RSS hash types (PortInfo::rss_types)
  bool steer_control = true;             // control traffic to queue `data_queues`
  bool isolate = false;                  // only matched traffic reaches nved
};

std::vector<FlowRule> build_flow_rules(const FlowPlan &plan);

// "eth type 0x0806 -> queue 1": a rule in one line, for logs and show flows.
std::string describe(const FlowRule &rule);

// One rule in rte_flow's form. `count` adds a COUNT action (hit counters),
// which not every PMD has: the caller tries with it, then without.
class RteFlowRule {
 public:
  RteFlowRule(const FlowRule &rule, bool count);
  RteFlowRule(const RteFlowRule &) = delete;
  RteFlowRule &operator=(const RteFlowRule &) = delete;

  const rte_flow_attr *attr() const { return &attr_; }
  const rte_flow_item *pattern() const { return items_.data(); }
  const rte_flow_action *actions() const { return actions_.data(); }
  size_t item_count() const { return items_.size(); }  // END included
  size_t action_count() const { return actions_.size(); }

 private:
  rte_flow_attr attr_{};
  rte_flow_item_eth eth_spec_{}, eth_mask_{};
  rte_flow_item_ipv4 ipv4_spec_{}, ipv4_mask_{};
  rte_flow_item_ipv6 ipv6_spec_{}, ipv6_mask_{};
  rte_flow_item_icmp6 icmp6_spec_{}, icmp6_mask_{};
  rte_flow_action_queue queue_{};
  rte_flow_action_rss rss_{};
  std::vector<uint16_t> rss_queue_list_;
  rte_flow_action_count count_{};
  std::vector<rte_flow_item> items_;
  std::vector<rte_flow_action> actions_;
};

}  // namespace nvmove::drivers
