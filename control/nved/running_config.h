// `nvectl show running-config`: the configuration in effect, every key with
// the value nved uses (defaults written out), as YAML that --check-config
// accepts, followed by the route changes made at run time (`route add` /
// `route del`), which no file holds.
#pragma once

#include <string>
#include <vector>

#include "common/route_change.h"

namespace nvmove {

struct NvedConfig;

std::string running_config_yaml(const NvedConfig &cfg);

// The operator's route changes since start, oldest first, as route_file
// lines ("0 10.0.0.77 tunnel 198.51.100.2"; a deletion as "# del 0 10.0.0.77").
std::vector<std::string> route_change_lines(const std::vector<RouteChange> &changes);

}  // namespace nvmove
