// nved's answers to nvectl: one handler per command of ctl::nved_commands().
// Each reads or changes the runtime through the same functions the rest of
// the control thread uses; the text and the JSON come from the same data.
#pragma once

#include <ctime>

#include "control/agent/nve_agent.h"

#include <cstdint>
#include <vector>

#include "control/nved/config.h"
#include "control/nved/port_stats_report.h"
#include "control/nved/route_commands.h"
#include "control/ctl/ctl_socket.h"

namespace nvmove {

class NvedRuntime;
class ControlLoop;

// Shared with nvxdp: show running-config's answer (`program` names the
// daemon in its first line), and set log level.
ctl::Reply running_config_reply(const NvedConfig &cfg, const std::vector<RouteChange> &route_changes,
                                const char *program);
ctl::Reply log_level_command(const std::vector<std::string> &args);

class NvedCommands {
 public:
  NvedCommands(NvedRuntime &rt, const NvedConfig &cfg, const ControlLoop &loop, std::string config_text);
  void register_all(ctl::CtlServer &server);
  // The mobility agent, when configured: its counters join show metrics.
  void set_agent(const agent::NveAgent *agent) { agent_ = agent; }

  ctl::Reply show_counters(const std::vector<std::string> &args);
  ctl::Reply clear_counters(const std::vector<std::string> &args);
  ctl::Reply show_ports(const std::vector<std::string> &args);
  ctl::Reply show_port_stats(const std::vector<std::string> &args);
  ctl::Reply show_port_xstats(const std::vector<std::string> &args);
  ctl::Reply show_workers(const std::vector<std::string> &args);
  ctl::Reply show_flows(const std::vector<std::string> &args);
  ctl::Reply show_route_table(const std::vector<std::string> &args);
  ctl::Reply show_neighbours(const std::vector<std::string> &args);
  ctl::Reply show_version(const std::vector<std::string> &args);
  ctl::Reply show_config(const std::vector<std::string> &args);
  ctl::Reply show_running_config(const std::vector<std::string> &args);
  ctl::Reply show_metrics(const std::vector<std::string> &args);
  ctl::Reply set_log_level(const std::vector<std::string> &args);

 private:
  const uint64_t start_time_unix_s_ = static_cast<uint64_t>(std::time(nullptr));
  uint64_t counter(size_t worker, size_t c) const;

  NvedRuntime &rt_;
  const NvedConfig &cfg_;
  const ControlLoop &loop_;
  const agent::NveAgent *agent_ = nullptr;
  RouteCommands route_commands_;  // show routes, show tunnel-peers, route add / del
  uint64_t control_base_learnt_ = 0, control_base_unhandled_ = 0;  // at the last clear
  std::string config_text_;
  std::vector<std::vector<uint64_t>> base_;  // [worker][counter] at the last clear
  PortStatsReport port_stats_;               // per port, for throughput
};

}  // namespace nvmove
