// What SIGHUP and `nvectl reload` do (nved and nvxdp): read the configuration file again and
// report, section by section, what differs from the configuration in
// effect. What can change live is applied (the agent's key file: a key
// rollover needs no restart); everything else that changed is named as
// needing a restart, and nothing of it is half-applied. A file with errors
// changes nothing and the errors are reported.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "control/ctl/ctl_socket.h"

namespace nvmove {

struct NvedConfig;

// Reloads the agent's key file in place: nullopt, or why the keys in use
// stay. Empty when no agent runs.
using KeyReload = std::function<std::optional<std::string>()>;

struct ReloadReport {
  bool ok = true;                  // the file read cleanly and the live parts applied
  std::vector<std::string> lines;  // what was done or found, one line each
};

ReloadReport reload_configuration(const std::string &config_path, const NvedConfig &running,
                                  const KeyReload &reload_keys);

// `nvectl reload`: the same, answered with the report.
void register_reload_command(ctl::CtlServer &server, const std::string &config_path, const NvedConfig &running,
                             KeyReload reload_keys);

}  // namespace nvmove
