// The kernel's neighbour table, for nvxdp: in XDP mode the kernel owns the
// fabric interface and its addresses, and its ARP / Neighbour Discovery
// resolves the fabric gateway (the program passes ARP and ND to it). nvxdp
// asks it for the gateway's MAC (rtnetlink RTM_GETNEIGH) and, to have it
// resolved or refreshed, sends the gateway an empty UDP datagram to the
// discard port from the fabric interface: the kernel resolves and
// re-confirms a neighbour it sends to, with its own retries and timers.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/net_types.h"

namespace nvmove::drivers {

// The neighbours of `family` (4 or 6) the kernel holds on interface
// `ifindex` with a MAC it may use (reachable, stale, being confirmed, or
// static): one rtnetlink dump. Empty on any error.
std::map<IpAddress, MacAddress> kernel_neighbours(unsigned ifindex, uint8_t family);

// Makes the kernel resolve (or confirm) `address` on `interface`: an empty
// UDP datagram to its port 9. Returns the error, if the send failed.
std::optional<std::string> poke_neighbour(const std::string &interface, const IpAddress &address);

}  // namespace nvmove::drivers
