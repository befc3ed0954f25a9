#include "control/nved/flow_setup.h"

#include <rte_ethdev.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace nvmove {

PortFlowRequest prepare_port_flows(const PortConfig &port, uint16_t workers) {
  PortFlowRequest req;
  const bool wanted = port.control_queue != PortConfig::ControlQueue::Off || port.isolate;
  if (!wanted) {
    req.no_flow = "ports[].flow: control_queue off";
    return req;
  }
  if (!drivers::port_has_flow_api(port.port_id, req.no_flow)) {
    req.no_flow = "no rte_flow in driver " + drivers::port_driver(port.port_id) + ": " + req.no_flow;
    return req;
  }
  uint16_t max_rx = 1, max_tx = 1;
  drivers::port_queue_limits(port.port_id, max_rx, max_tx);
  // One more TX queue too, unused: some PMDs (net_tap) want as many TX
  // queues as RX queues.
  req.control_queue = port.control_queue != PortConfig::ControlQueue::Off && max_rx > workers && max_tx > workers;
  if (port.control_queue != PortConfig::ControlQueue::Off && !req.control_queue)
    req.no_flow = "no queue pair left for control traffic (" + std::to_string(max_rx) + " RX / " +
                  std::to_string(max_tx) + " TX queues, " + std::to_string(workers) + " worker(s))";
  if (port.isolate) {
    std::string why;
    req.isolate = drivers::port_isolate(port.port_id, true, why);
    if (!req.isolate)
      spdlog::warn("{}: isolate mode refused by the PMD: {}; every packet reaches nved", drivers::port_name(port.port_id),
                   why);
  }
  return req;
}

namespace {

bool control_rules_in(const drivers::PortFlows &flows, uint16_t control_queue) {
  bool any = false;
  for (const auto &st : flows.rules()) {
    if (st.rule.action.kind != drivers::FlowAction::Kind::Queue || st.rule.action.queue != control_queue) continue;
    if (!st.installed) return false;
    any = true;
  }
  return any;
}

// Leaves isolate mode (the port must be stopped for it) and starts again.
// A port still isolated without its data rules would receive nothing: that
// stops nved.
void leave_isolate(uint16_t port_id) {
  const std::string name = drivers::port_name(port_id);
  int rc = rte_eth_dev_stop(port_id);
  if (rc != 0) throw std::runtime_error(name + ": cannot stop to leave isolate mode: " + rte_strerror(-rc));
  std::string why;
  if (!drivers::port_isolate(port_id, false, why))
    throw std::runtime_error(name + ": the PMD refused some of nved's rules and cannot leave isolate mode (" + why +
                             "): the port would receive nothing; set ports[].flow.isolate: false");
  rc = rte_eth_dev_start(port_id);
  if (rc != 0) throw std::runtime_error(name + ": restart after leaving isolate mode: " + rte_strerror(-rc));
  rte_eth_promiscuous_enable(port_id);  // refused while isolated, not restored by the restart
}

}  // namespace

PortFlowState apply_port_flows(const PortConfig &port, const PortFlowRequest &req, drivers::PortInfo &info,
                               uint16_t workers, const std::vector<IpAddress> &own_addresses,
                               const std::function<drivers::PortInfo()> &restart_plain) {
  PortFlowState st;
  const std::string name = drivers::port_name(port.port_id);
  std::string fallback;  // why the control queue is given up
  if (req.control_queue || req.isolate) {
    drivers::FlowPlan plan;
    plan.port_mac = info.mac;
    plan.own_addresses = own_addresses;
    plan.data_queues = workers;
    plan.steer_control = req.control_queue;
    plan.isolate = req.isolate;
    plan.rss_types = info.rss_types;
    // Data off the control queue first (mlx5 restarts a port to change its
    // redirection table); one worker: the port has no RSS (port_start).
    std::string why;
    if (req.control_queue && workers > 1 && !drivers::port_restrict_rss(port.port_id, workers, why))
      fallback = "RSS cannot be kept off the control queue (" + why + ")";
    if (fallback.empty()) st.flows.install(port.port_id, drivers::build_flow_rules(plan));
    st.isolated = req.isolate;
    if (req.isolate && !st.flows.all_installed()) {
      st.flows.remove("isolate mode left: the PMD refused some of the rules");
      leave_isolate(port.port_id);
      st.isolated = false;
      spdlog::warn("{}: isolate mode left: the PMD refused some of nved's rules", name);
    }
    if (req.control_queue && fallback.empty() && !control_rules_in(st.flows, workers))
      fallback = "the PMD refused control rules (show flows)";
    if (req.control_queue && fallback.empty()) {
      st.control_queue = workers;
    } else if (req.control_queue) {
      // Back to a port without rte_flow: no rule steering to a queue that is
      // about to go, no extra queue pair.
      st.flows.remove("withdrawn: " + fallback);
      info = restart_plain();
    }
  }
  if (st.control_queue)
    st.status = "control traffic on RX queue " + std::to_string(*st.control_queue) + ", served by the control thread";
  else if (!fallback.empty())
    st.status = "software: " + fallback + "; the port runs without the control queue";
  else if (!req.no_flow.empty())
    st.status = "software: " + req.no_flow;
  else
    st.status = "software: control_queue off";
  if (st.isolated) st.status += "; isolate mode (what no rule matches stays with the kernel)";
  spdlog::info("{}: rte_flow: {}", name, st.status);
  if (port.control_queue == PortConfig::ControlQueue::Required && !st.control_queue)
    throw std::runtime_error(name + ": ports[].flow.control_queue is required, but " + st.status);
  return st;
}

}  // namespace nvmove
