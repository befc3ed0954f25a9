// A port's rte_flow rules, applied: each rule validated, then created (with
// a COUNT action where the PMD takes one, for hit counters); a rule the PMD
// refuses is logged once with its reason and left to the software path,
// which is always correct on its own (the workers classify every packet).
// What is in the NIC and what fell back is kept for `nvectl show flows`.
//
// None of the virtual ports of a test machine has rte_flow (net_pcap,
// net_af_packet, net_ring: no flow API; net_tap: rules validate, then
// creation fails without TC flower): there the fallback is what runs, and
// scripts/flow_hw_check.sh verifies the real thing on an operator's NIC.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "drivers/flow_rules.h"

struct rte_flow;

namespace nvmove::drivers {

// Whether the port's driver has an rte_flow API at all; `why` says why not
// ("net_pcap: Function not implemented"). Cheap, and valid before the port
// is configured: nved asks it before giving a port a control queue.
bool port_has_flow_api(uint16_t port_id, std::string &why);

// rte_flow_isolate(port, 1): only traffic rules match reaches the port; the
// rest stays with the kernel (flow bifurcation). Before the port is
// configured. False (and `why`) if the PMD refuses.
bool port_isolate(uint16_t port_id, bool on, std::string &why);

// Spreads RSS over queues 0..n-1 only (the control queue, n, gets only what
// the rules steer to it). False (and `why`) if the port has no RETA.
bool port_restrict_rss(uint16_t port_id, uint16_t n, std::string &why);

struct FlowRuleStatus {
  FlowRule rule;
  bool installed = false;
  bool counted = false;  // created with COUNT: hits() reads the NIC's counter
  std::string refused;   // the PMD's reason, when refused
  std::string withdrawn;  // why nved destroyed it again, when it did
  rte_flow *handle = nullptr;
};

class PortFlows {
 public:
  PortFlows() = default;
  PortFlows(const PortFlows &) = delete;
  PortFlows &operator=(const PortFlows &) = delete;
  PortFlows(PortFlows &&other) noexcept { *this = std::move(other); }
  PortFlows &operator=(PortFlows &&other) noexcept;
  ~PortFlows() { remove(); }
  bool installed_any() const;

  // Validates and creates `rules` on a started port, in order; refusals are
  // logged (once each) and kept.
  void install(uint16_t port_id, std::vector<FlowRule> rules);
  // Destroys the rules that were created (before the port stops); the
  // records stay, marked withdrawn with `why`, for show flows.
  void remove(const std::string &why = "nved stopped");

  bool all_installed() const;
  bool empty() const { return rules_.empty(); }
  const std::vector<FlowRuleStatus> &rules() const { return rules_; }
  // Packets matched by rule i, from the NIC; nullopt when it has no counter.
  std::optional<uint64_t> hits(size_t i) const;

 private:
  uint16_t port_id_ = 0;
  std::vector<FlowRuleStatus> rules_;
};

}  // namespace nvmove::drivers
