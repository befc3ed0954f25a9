#include "control/nvad/route_export.h"

namespace nvmove::nvad {

const ExportHome *RouteExport::home_of(const IpAddress &address) const {
  // The longest prefix wins, so a /25 can be homed elsewhere than its /24.
  const ExportHome *best = nullptr;
  for (const auto &h : policy_.home)
    if (h.prefix.contains(address) && (!best || h.prefix.length > best->prefix.length)) best = &h;
  return best;
}

std::map<IpAddress, IpAddress> RouteExport::wanted(const Binding &binding) const {
  std::map<IpAddress, IpAddress> out;
  if (!policy_.enabled || binding.state != BindingState::Active) return out;
  if (!policy_.virtual_networks.contains(binding.virtual_network)) return out;
  for (const IpAddress &address : binding.addresses) {
    const ExportHome *home = home_of(address);
    if (!home || home->nve == binding.serving.control) continue;  // not homed, or at home
    const auto &next_hop = address.is_v4() ? binding.serving.endpoints.ipv4 : binding.serving.endpoints.ipv6;
    if (next_hop) out.emplace(address, *next_hop);
  }
  return out;
}

std::vector<RouteChange> RouteExport::update(const BindingKey &key, const Binding *binding) {
  std::map<IpAddress, IpAddress> now;
  if (binding) {
    now = wanted(*binding);
    if (binding->state == BindingState::Active && policy_.virtual_networks.contains(binding->virtual_network))
      for (const IpAddress &address : binding->addresses) {
        const ExportHome *home = home_of(address);
        if (home && home->nve != binding->serving.control && !now.contains(address)) without_next_hop_++;
      }
  }
  std::vector<RouteChange> changes;
  auto &before = announced_[key];
  for (const auto &[address, next_hop] : before)
    if (!now.contains(address)) {
      RouteChange c;
      c.op = RouteChange::Op::Remove;
      c.route = HostRoute{key.virtual_network, address};
      changes.push_back(c);
    }
  for (const auto &[address, next_hop] : now) {
    auto it = before.find(address);
    if (it != before.end() && it->second == next_hop) continue;
    RouteChange c;
    c.route = HostRoute{key.virtual_network, address};
    c.action = TunnelToNve{next_hop};
    changes.push_back(c);
  }
  if (now.empty()) announced_.erase(key);
  else before = std::move(now);
  return changes;
}

void RouteExport::not_announced(const BindingKey &key, const IpAddress &address) {
  auto it = announced_.find(key);
  if (it == announced_.end()) return;
  it->second.erase(address);
  if (it->second.empty()) announced_.erase(it);
}

}  // namespace nvmove::nvad
