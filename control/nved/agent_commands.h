// nvectl's VM lifecycle and binding update list commands, answered by the
// mobility agent (vm associate|activate|deactivate|disassociate, show vms,
// show bul, show agent).
#pragma once

#include "control/agent/nve_agent.h"
#include "control/nved/config.h"
#include "control/ctl/ctl_socket.h"

namespace nvmove {

void register_agent_commands(ctl::CtlServer &server, agent::NveAgent &agent, const NvedConfig &cfg);

}  // namespace nvmove
