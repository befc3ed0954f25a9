// nved's mobility agent wired into the running NVE: the key file, the UDP
// socket toward nvad, the agent over the runtime's route table, its nvectl
// commands and its turn in every control-loop pass. Exists only when the
// configuration has an `agent` section.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "control/agent/agent_state_file.h"
#include "control/agent/nve_agent.h"
#include "control/agent/udp_transport.h"
#include "control/base/clock.h"
#include "control/ctl/ctl_socket.h"
#include "control/nved/config.h"
#include "control/nved/control_loop.h"
#include "control/nved/runtime.h"
#include "control/protocol/keys.h"

namespace nvmove {

// The agent's settings from nved's configuration (also nvxdp's).
agent::AgentConfig agent_config_of(const NvedConfig &cfg);

class Mobility {
 public:
  // nullptr when the configuration has no agent. Throws std::runtime_error
  // (key file unreadable or without a key for nvad, socket not bound).
  static std::unique_ptr<Mobility> start(const NvedConfig &cfg, NvedRuntime &rt, ctl::CtlServer &ctl,
                                         ControlLoop &loop);

  const agent::NveAgent &agent() const { return *agent_; }
  // Reads agent.key_file again (SIGHUP): a key rollover needs no restart.
  // On any error the keys in use stay, and the error is returned.
  std::optional<std::string> reload_keys();

 private:
  Mobility() = default;

  std::string key_file_;
  std::vector<IpAddress> nvads_;

  proto::KeyTable keys_;
  SystemClock clock_;
  std::unique_ptr<agent::UdpTransport> transport_;
  std::unique_ptr<agent::NveAgent> agent_;
  std::unique_ptr<agent::AgentStateFile> state_file_;  // agent.state_file
};

}  // namespace nvmove
