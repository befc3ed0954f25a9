// agent.state_file: the agent's VMs and binding update list kept across
// restarts as JSON, read once at start and replaced atomically after each
// change (a crash leaves the old state or the new, never half of one).
// Shared by nved and nvxdp.
#pragma once

#include <cstdint>
#include <string>

#include "control/agent/nve_agent.h"

namespace nvmove::agent {

class AgentStateFile {
 public:
  // `path` empty: nothing is kept (every call does nothing).
  AgentStateFile(std::string path, NveAgent &agent) : path_(std::move(path)), agent_(agent) {}

  // At start: the VMs re-associated and re-activated, the redirects
  // re-installed. A missing or unreadable file is logged and leaves the
  // agent empty.
  void restore();
  // Each control-loop pass: written when the agent's state changed.
  void save_if_changed();

 private:
  std::string path_;
  NveAgent &agent_;
  uint64_t saved_version_ = 0;
  bool save_failing_ = false;  // logged once until a save succeeds
};

}  // namespace nvmove::agent
