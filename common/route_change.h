// The typed interface between the control plane and whatever applies routes.
//
// The control plane (static config today, the mobility agent tomorrow, a BGP
// exporter or an XDP map writer later) speaks only in these types. It never
// sees rte_hash, RCU or outer-header templates: a RouteBackend owns those.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "common/net_types.h"

namespace nvmove {

// Host route key: a VM address inside one virtual network.
struct HostRoute {
  uint32_t vn = 0;
  IpAddress address;
  bool operator==(const HostRoute &) const = default;
  auto operator<=>(const HostRoute &) const = default;
};

// The VM is attached here: deliver on an access port to the VM's MAC.
struct DeliverLocal {
  uint16_t port = 0;
  MacAddress vm_mac{};
  uint16_t vlan = 0;  // 0 = untagged
  bool operator==(const DeliverLocal &) const = default;
};

// The VM moved: tunnel its packets to the NVE now serving it.
struct TunnelToNve {
  IpAddress nve;
  bool operator==(const TunnelToNve &) const = default;
};

// The address is one of this NVE's own endpoints, the one whose tunnels carry
// virtual network `vn` (docs/protocol.md, "Tenants on the fabric"): packets
// to it are ours (decapsulated, answered), never forwarded. Installed by nved
// from its configuration; an operator or the agent cannot add or remove one.
struct OwnEndpoint {
  uint32_t vn = 0;
  bool operator==(const OwnEndpoint &) const = default;
};

// The route's address is another NVE's underlay address, learnt from the
// management node: tunnels from it are decapsulated (docs/protocol.md 7, "Who
// may tunnel to an NVE"). Only in kTunnelPeerVn, which no virtual network can
// be (VNs are 24-bit), so a tenant's packet never matches one.
struct TunnelPeer {
  bool operator==(const TunnelPeer &) const = default;
};
inline constexpr uint32_t kTunnelPeerVn = 0xFFFFFFFFu;

using RouteAction = std::variant<DeliverLocal, TunnelToNve, OwnEndpoint, TunnelPeer>;

struct RouteChange {
  enum class Op : uint8_t { Upsert, Remove };
  Op op = Op::Upsert;
  HostRoute route;
  RouteAction action;  // ignored for Remove
};

// Why a change in a batch was not applied.
struct RouteChangeError {
  size_t index = 0;  // position in the batch
  std::string reason;
};

struct RouteBatchResult {
  size_t applied = 0;
  std::vector<RouteChangeError> errors;
  uint64_t table_version = 0;  // version after the batch was published
};

// A route as the backend reports it back (for show commands and tests).
struct RouteView {
  HostRoute route;
  RouteAction action;
  uint64_t hits = 0;
  // When it was last taken, in the backend's own clock (the DPDK table: TSC,
  // 0 = never; the XDP maps: a coarse tick): seconds_since_hit() reads it.
  uint64_t last_hit = 0;
};

// Applies route changes. Implementations: the DPDK fast path's table today.
// apply() publishes the whole batch before returning: once it returns, every
// worker that starts a new burst sees the new routes.
class RouteBackend {
 public:
  virtual ~RouteBackend() = default;
  virtual RouteBatchResult apply(std::span<const RouteChange> batch) = 0;
  virtual std::optional<RouteView> find(const HostRoute &route) const = 0;
  virtual size_t size() const = 0;
};

// A fast path's route table as the operator's commands read it (show routes,
// show tunnel-peers): the DPDK table and the XDP maps alike.
class ListedRouteBackend : public RouteBackend {
 public:
  // Every route, in the table's own order.
  virtual std::vector<RouteView> list() const = 0;
  // One page of that walk: at least `min_routes` routes from `cursor` (0:
  // the first page) unless the table ends; `cursor` becomes where the next
  // page starts, 0 after the last. Pages from 0 list every route present
  // throughout the walk once, whatever changes between pages.
  virtual std::vector<RouteView> list_page(uint64_t &cursor, size_t min_routes) const = 0;
  // Seconds since the route was last taken; nullopt if never.
  virtual std::optional<double> seconds_since_hit(const RouteView &v) const = 0;
  // What RouteView::hits counts: "packets" (DPDK) or "ticks" (XDP: the
  // ticks of about 1 ms in which the route was taken).
  virtual const char *hits_unit() const = 0;
};

}  // namespace nvmove
