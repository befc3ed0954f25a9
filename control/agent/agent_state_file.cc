#include "control/agent/agent_state_file.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace nvmove::agent {

void AgentStateFile::restore() {
  if (path_.empty()) return;
  std::ifstream in(path_);
  if (!in) {
    spdlog::info("agent state file {} not there yet: starting with no VMs and no redirects", path_);
    return;
  }
  const auto state = nlohmann::json::parse(in, nullptr, false);
  if (state.is_discarded() || !state.is_object()) {
    spdlog::error("agent state file {} is not valid JSON: starting with no VMs and no redirects", path_);
    return;
  }
  agent_.restore_state(state);
  saved_version_ = agent_.state_version();
  spdlog::info("agent state restored from {}: {} VM(s), {} redirect(s)", path_,
               state.value("vms", nlohmann::json::array()).size(), agent_.bul_size());
}

void AgentStateFile::save_if_changed() {
  if (path_.empty() || agent_.state_version() == saved_version_) return;
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << agent_.export_state().dump(1) << "\n";
    if (!out.flush()) {
      if (!save_failing_) spdlog::error("agent state file {}: cannot write: {}", tmp, std::strerror(errno));
      save_failing_ = true;
      return;
    }
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
    if (!save_failing_) spdlog::error("agent state file {}: cannot replace: {}", path_, std::strerror(errno));
    save_failing_ = true;
    return;
  }
  save_failing_ = false;
  saved_version_ = agent_.state_version();
}

}  // namespace nvmove::agent
