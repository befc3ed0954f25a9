// What nved does with rte_flow on each port (ports[].flow): before the port
// starts, whether it gets one more queue pair for control traffic (RX: the
// control queue; TX: unused, some PMDs want as many as RX) and is put in
// isolate mode; after, the rules (drivers/flow_rules.h). The control thread
// serves the control queue when every control rule is in the NIC and RSS
// keeps data off it; otherwise the rules go, the port restarts without the
// extra queue pair and runs exactly as a port without rte_flow (the software
// path: the workers classify control traffic). Isolate mode is kept only if
// every rule is in: a port isolated without its data rules would receive
// nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "control/nved/config.h"
#include "drivers/flow_steering.h"
#include "drivers/port.h"

namespace nvmove {

struct PortFlowRequest {
  bool control_queue = false;  // configure queue `workers` for control traffic
  bool isolate = false;        // rte_flow_isolate before configuring
  std::string no_flow;         // why rte_flow is not tried (empty: it is)
};

struct PortFlowState {
  drivers::PortFlows flows;
  std::optional<uint16_t> control_queue;  // served by the control thread
  bool isolated = false;
  std::string status;  // one line for show flows and the log
};

// Before drivers::port_start: asks the PMD, sets the port in isolate mode if
// configured and possible.
PortFlowRequest prepare_port_flows(const PortConfig &port, uint16_t workers);

// After drivers::port_start. `restart_plain` stops the port and starts it
// again without the control queue pair, returning its new PortInfo (into
// `info`). Throws std::runtime_error when the port's control_queue is
// `required` and cannot be had, or when isolate mode cannot be left.
PortFlowState apply_port_flows(const PortConfig &port, const PortFlowRequest &req, drivers::PortInfo &info,
                               uint16_t workers, const std::vector<IpAddress> &own_addresses,
                               const std::function<drivers::PortInfo()> &restart_plain);

}  // namespace nvmove
