// DPDK telemetry commands (/nve/...), readable with dpdk-telemetry.py and by
// collectors that speak the telemetry v2 socket. Each command is answered by
// the control thread through nved's own control socket, so telemetry's thread
// never touches dataplane state directly.
#pragma once

#include <string>

namespace nvmove {

// Registers the /nve/ commands; `ctl_socket` is nved's control socket.
void register_telemetry(const std::string &ctl_socket);

}  // namespace nvmove
