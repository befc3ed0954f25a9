#include "drivers/flow_steering.h"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_flow.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "drivers/port.h"

namespace nvmove::drivers {

namespace {

// The PMD's own words when it gave any, else the errno's.
std::string reason(int rc, const rte_flow_error &err) {
  std::string s = err.message ? err.message : "";
  const std::string errno_text = rte_strerror(rc < 0 ? -rc : rc);
  return s.empty() || s == errno_text ? errno_text : s + " (" + errno_text + ")";
}

}  // namespace

bool port_has_flow_api(uint16_t port_id, std::string &why) {
  // An ARP rule to queue 0: ethdev answers ENOSYS for a driver without flow
  // operations, before looking at the rule; a driver with them answers
  // about the rule (ENOTSUP or EINVAL on a port not configured yet: not
  // our question).
  FlowRule probe;
  probe.match.ether_type = 0x0806;
  RteFlowRule r(probe, false);
  rte_flow_error err{};
  const int rc = rte_flow_validate(port_id, r.attr(), r.pattern(), r.actions(), &err);
  if (rc == -ENOSYS) {
    why = reason(rc, err);
    return false;
  }
  return true;
}

bool port_isolate(uint16_t port_id, bool on, std::string &why) {
  rte_flow_error err{};
  const int rc = rte_flow_isolate(port_id, on ? 1 : 0, &err);
  if (rc != 0) why = reason(rc, err);
  return rc == 0;
}

bool port_restrict_rss(uint16_t port_id, uint16_t n, std::string &why) {
  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(port_id, &info) != 0 || info.reta_size == 0) {
    why = "the port has no RSS redirection table";
    return false;
  }
  std::vector<rte_eth_rss_reta_entry64> reta((info.reta_size + RTE_ETH_RETA_GROUP_SIZE - 1) /
                                             RTE_ETH_RETA_GROUP_SIZE);
  for (uint16_t i = 0; i < info.reta_size; i++) {
    auto &group = reta[i / RTE_ETH_RETA_GROUP_SIZE];
    group.mask |= uint64_t{1} << (i % RTE_ETH_RETA_GROUP_SIZE);
    group.reta[i % RTE_ETH_RETA_GROUP_SIZE] = static_cast<uint16_t>(i % n);
  }
  const int rc = rte_eth_dev_rss_reta_update(port_id, reta.data(), info.reta_size);
  if (rc != 0) why = rte_strerror(-rc);
  return rc == 0;
}

PortFlows &PortFlows::operator=(PortFlows &&other) noexcept {
  if (this != &other) {
    remove();
    rules_.clear();
    port_id_ = other.port_id_;
    rules_ = std::move(other.rules_);
    other.rules_.clear();
  }
  return *this;
}

void PortFlows::install(uint16_t port_id, std::vector<FlowRule> rules) {
  remove();
  rules_.clear();
  port_id_ = port_id;
  for (auto &rule : rules) {
    FlowRuleStatus st;
    st.rule = std::move(rule);
    // With a COUNT action if the PMD takes one, else without.
    for (const bool count : {true, false}) {
      RteFlowRule r(st.rule, count);
      rte_flow_error err{};
      int rc = rte_flow_validate(port_id, r.attr(), r.pattern(), r.actions(), &err);
      if (rc == 0) {
        err = {};
        st.handle = rte_flow_create(port_id, r.attr(), r.pattern(), r.actions(), &err);
        if (!st.handle) rc = -rte_errno;
      }
      if (st.handle) {
        st.installed = true;
        st.counted = count;
        st.refused.clear();
        break;
      }
      if (st.refused.empty() || !count) st.refused = (rc == 0 ? "created nothing" : reason(rc, err));
    }
    if (st.installed)
      spdlog::info("{}: rte_flow rule {} installed: {}{}", port_name(port_id), st.rule.name, describe(st.rule),
                   st.counted ? " (counted)" : "");
    else
      spdlog::warn("{}: rte_flow rule {} ({}) refused by the PMD: {}; the software path handles it",
                   port_name(port_id), st.rule.name, describe(st.rule), st.refused);
    rules_.push_back(std::move(st));
  }
}

void PortFlows::remove(const std::string &why) {
  for (auto &st : rules_) {
    if (!st.handle) continue;
    rte_flow_error err{};
    if (rte_flow_destroy(port_id_, st.handle, &err) != 0)
      spdlog::warn("{}: rte_flow rule {} not destroyed: {}", port_name(port_id_), st.rule.name,
                   err.message ? err.message : "?");
    st.handle = nullptr;
    st.installed = false;
    st.withdrawn = why;
  }
}

bool PortFlows::installed_any() const {
  for (const auto &st : rules_)
    if (st.installed) return true;
  return false;
}

bool PortFlows::all_installed() const {
  for (const auto &st : rules_)
    if (!st.installed) return false;
  return true;
}

std::optional<uint64_t> PortFlows::hits(size_t i) const {
  if (i >= rules_.size() || !rules_[i].handle || !rules_[i].counted) return std::nullopt;
  rte_flow_query_count q{};
  rte_flow_action count{};
  count.type = RTE_FLOW_ACTION_TYPE_COUNT;
  rte_flow_error err{};
  if (rte_flow_query(port_id_, rules_[i].handle, &count, &q, &err) != 0 || !q.hits_set) return std::nullopt;
  return q.hits;
}

}  // namespace nvmove::drivers
