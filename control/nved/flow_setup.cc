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
void leave_isolate(uint16_t port_id) {
  std::string why;
  rte_eth_dev_stop(port_id);
  if (!drivers::port_isolate(port_id, false, why))
    spdlog::error("{}: cannot leave isolate mode: {}", drivers::port_name(port_id), why);
  const int rc = rte_eth_dev_start(port_id);
  if (rc != 0) throw std::runtime_error(drivers::port_name(port_id) + ": restart after leaving isolate mode: " +
                                        rte_strerror(-rc));
}

}  // namespace

PortFlowState apply_port_flows(const PortConfig &port, const PortFlowRequest &req, const drivers::PortInfo &info,
                               uint16_t workers, const std::vector<IpAddress> &own_addresses) {
  PortFlowState st;
  const std::string name = drivers::port_name(port.port_id);
  if (!req.control_queue && !req.isolate) {
    st.status = "software: " + req.no_flow;
  } else {
    drivers::FlowPlan plan;
    plan.port_mac = info.mac;
    plan.own_addresses = own_addresses;
    plan.data_queues = workers;
    plan.steer_control = req.control_queue;
    plan.isolate = req.isolate;
    st.flows.install(port.port_id, drivers::build_flow_rules(plan));
    st.isolated = req.isolate;
    if (req.isolate && !st.flows.all_installed()) {
      // Isolated without every rule, the port would miss traffic: back to
      // receiving everything, with the control rules alone.
      st.flows.remove();
      leave_isolate(port.port_id);
      st.isolated = false;
      spdlog::warn("{}: isolate mode left: the PMD refused some of nved's rules", name);
      if (req.control_queue) {
        plan.isolate = false;
        st.flows.install(port.port_id, drivers::build_flow_rules(plan));
      }
    }
    if (req.control_queue && control_rules_in(st.flows, workers)) {
      st.control_queue = workers;
      st.status = "control traffic on RX queue " + std::to_string(workers) + ", served by the control thread";
      std::string why;
      if (info.rss && !drivers::port_restrict_rss(port.port_id, workers, why))
        spdlog::warn("{}: RSS not restricted to the workers' queues ({}): data the NIC hashes to the control "
                     "queue is handled there, correctly but by the control thread",
                     name, why);
    } else if (req.control_queue) {
      st.status = "software: the PMD refused control rules (show flows); RX queue " + std::to_string(workers) +
                  " is served by a worker";
    } else {
      st.status = "software: " + req.no_flow;
    }
    if (st.isolated) st.status += "; isolate mode (what no rule matches stays with the kernel)";
  }
  spdlog::info("{}: rte_flow: {}", name, st.status);
  if (port.control_queue == PortConfig::ControlQueue::Required && !st.control_queue)
    throw std::runtime_error(name + ": ports[].flow.control_queue is required, but " + st.status);
  return st;
}

}  // namespace nvmove
