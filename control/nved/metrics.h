// Prometheus text exposition (format 0.0.4) of nved's counters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control/agent/agent_counters.h"
#include "drivers/port_stats.h"

namespace nvmove {

struct MetricsInput {
  std::vector<std::vector<uint64_t>> workers;  // [worker][dp::Counter]
  std::vector<drivers::PortCounters> ports;
  uint64_t routes = 0, route_capacity = 0, table_version = 0, route_memory_bytes = 0;
  uint64_t control_learnt = 0, control_unhandled = 0;
  std::optional<agent::AgentCounters> agent;  // when the mobility agent runs
  // Per port (same order as `ports`): its configured name and role, labels
  // of the nve_port_* metrics.
  std::vector<std::pair<std::string, std::string>> port_labels;
  uint64_t start_time_unix_s = 0;
};

// nve_packets_total{worker,outcome}, nve_drop_packets_total{worker,reason},
// nve_port_*_total{port}, nve_routes, nve_route_table_*.
std::string prometheus_text(const MetricsInput &in);

}  // namespace nvmove
