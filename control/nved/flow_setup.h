// What nved does with rte_flow on each port (ports[].flow): before the port
// starts, whether it gets one more RX queue for control traffic and is put in
// isolate mode; after, the rules (drivers/flow_rules.h), and from what the
// PMD accepted, who serves that queue: the control thread when every control
// rule is in the NIC, else a worker, like any other queue (the software path:
// the workers classify control traffic, as on a port without rte_flow).
// Isolate mode is kept only if every rule is in: a port isolated without its
// data rules would receive nothing.
#pragma once

#include <cstdint>
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

// After drivers::port_start. Throws std::runtime_error when the port's
// control_queue is `required` and the NIC did not take every control rule.
PortFlowState apply_port_flows(const PortConfig &port, const PortFlowRequest &req, const drivers::PortInfo &info,
                               uint16_t workers, const std::vector<IpAddress> &own_addresses);

}  // namespace nvmove
