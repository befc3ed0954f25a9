// nvad's answers to nvectl (-d nvad): show bindings, show peers, show
// protocol stats, from the same state_json() the tests read.
#pragma once

#include "control/ctl/ctl_socket.h"
#include "control/nvad/server.h"

namespace nvmove::nvad {

void register_nvad_commands(ctl::CtlServer &ctl, Server &server);

}  // namespace nvmove::nvad
