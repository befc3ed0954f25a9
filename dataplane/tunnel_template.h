// Builds the per-NVE outer header templates and the gateway L2 header on the
// control side, so the worker only copies and fixes up.
#pragma once

#include "common/net_types.h"
#include "dataplane/route_table.h"
#include "dataplane/route_entry.h"

namespace nvmove::dp {

// Fills `out` for tunnels toward `nve`. Returns false (with `why`) when we have
// no own address of the NVE's family to use as outer source.
bool build_tunnel_template(const FabricParams &fabric, const IpAddress &nve, TunnelTemplate &out,
                           std::string &why);

void build_gateway_l2(const FabricParams &fabric, GatewayL2 &out);

}  // namespace nvmove::dp
