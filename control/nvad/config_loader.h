// nvad's configuration file (YAML; docs/nvad.md lists every key). Every
// mistake is reported, each as "<file>:<line>: <key>: <what is wrong>", and
// nvad does not start with any of them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "control/nvad/nvad_config.h"
#include "control/protocol/result.h"

namespace nvmove::nvad {

struct ConfigErrors {
  std::vector<std::string> messages;
};

// Parses configuration text; `origin` names it in errors.
proto::Result<NvadConfig, ConfigErrors> parse_config(std::string_view text, const std::string &origin);
proto::Result<NvadConfig, ConfigErrors> load_config(const std::string &path);

}  // namespace nvmove::nvad
