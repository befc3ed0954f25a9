// Packet trace and route explanation for operators (VPP's `trace add` /
// `show trace`, and "what would happen to a packet for this address"):
//   trace add PORT N      the next N packets each worker receives on PORT
//   show trace            what happened to each: counters moved, what left
//   clear trace           stop tracing, forget what was recorded
// (explain vn N ADDRESS, the route and action the fast path would take, is
// a route command: route_commands.h.)
#pragma once

#include "control/ctl/ctl_socket.h"

namespace nvmove {

class NvedRuntime;
struct NvedConfig;

void register_trace_commands(ctl::CtlServer &server, NvedRuntime &rt, const NvedConfig &cfg);

}  // namespace nvmove
