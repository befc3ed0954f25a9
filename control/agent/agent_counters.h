// The mobility agent's counters, declared once (as the dataplane's
// NVE_COUNTERS are): `show agent`, `show metrics` and DPDK telemetry all list
// them from this table, so none can be forgotten in one place.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nvmove::agent {

#define NVE_AGENT_COUNTERS(X)                                                                           \
  X(requests_sent, "registration requests sent to nvad (first transmissions and retransmissions)")     \
  X(retransmissions, "registration requests sent again because nvad had not answered")                 \
  X(replies_accepted, "registration replies accepting a registration or de-registration")              \
  X(replies_rejected, "registration replies refusing one")                                             \
  X(registrations_failed, "registrations given up: refused, or unanswered after every retransmission") \
  X(replies_not_active, "replies 133 from an nvad that is a cluster's standby (the request goes to the next nvad)") \
  X(nvad_failovers, "requests turned to the next agent.nvad address: a standby answered, or the current one was silent") \
  X(notifications_accepted, "move notifications accepted (tunnels installed, or nothing to do)")       \
  X(notifications_rejected, "move notifications refused (stale, replayed, malformed, no resources)")   \
  X(dropped_datagrams, "datagrams dropped: not from nvad, undecodable, unauthentic, unexpected")       \
  X(bul_idle_expired, "binding update list entries removed because no packet used their tunnel")      \
  X(bul_renewed, "binding update list entries renewed at the end of their lifetime: still carrying traffic") \
  X(vm_announcements_activated, "gratuitous ARP / unsolicited NA that activated an associated VM")        \
  X(vm_announcements_ignored, "gratuitous ARP / unsolicited NA from no associated VM here (MAC, address, port or VLAN differ)") \
  X(tunnel_peers_learnt, "NVEs nvad named as redirecting to us, whose tunnels are now decapsulated")      \
  X(tunnel_peers_expired, "learnt tunnel peers forgotten: no registration reply named them for a lifetime") \
  X(tunnel_peers_refused, "tunnel peers not learnt: already 4096 learnt")                             \
  X(router_routes_installed, "default router: host routes installed toward a moved VM's serving NVE") \
  X(router_routes_removed, "default router: host routes removed (nvad's lifetime 0, idle, replaced)")  \
  X(router_routes_renewed, "default router: entries renewed at the end of their lifetime: still used") \
  X(router_routes_idle_expired, "default router: entries removed because no packet used their routes")

struct AgentCounters {
#define NVE_AGENT_COUNTER_FIELD(name, help) uint64_t name = 0;
  NVE_AGENT_COUNTERS(NVE_AGENT_COUNTER_FIELD)
#undef NVE_AGENT_COUNTER_FIELD

  // f(name, help, value) for every counter, in declaration order.
  template <typename F>
  void for_each(F &&f) const {
#define NVE_AGENT_COUNTER_VISIT(name, help) f(#name, help, name);
    NVE_AGENT_COUNTERS(NVE_AGENT_COUNTER_VISIT)
#undef NVE_AGENT_COUNTER_VISIT
  }
};

}  // namespace nvmove::agent
