#include "control/nvad/binding_cache.h"

namespace nvmove::nvad {
namespace {

template <typename Map, typename Key>
const VmId *lookup(const Map &map, const Key &key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}

// Removes the index entry only if it still points at `vm`: a newer VM may
// have taken the key over while `vm` was in its grace period.
template <typename Map, typename Key>
void erase_if_owned(Map &map, const Key &key, const VmId &vm) {
  auto it = map.find(key);
  if (it != map.end() && it->second == vm) map.erase(it);
}

}  // namespace

const Binding *BindingCache::find(const BindingKey &key) const {
  auto it = bindings_.find(key);
  return it == bindings_.end() ? nullptr : &it->second;
}

void BindingCache::put(Binding binding) {
  auto it = bindings_.find(binding.key());
  if (it != bindings_.end()) {
    unindex(it->second);
    it->second = std::move(binding);
    index(it->second);
    return;
  }
  BindingKey key = binding.key();
  auto [inserted, ok] = bindings_.emplace(std::move(key), std::move(binding));
  index(inserted->second);
}

bool BindingCache::erase(const BindingKey &key) {
  auto it = bindings_.find(key);
  if (it == bindings_.end()) return false;
  unindex(it->second);
  bindings_.erase(it);
  return true;
}

void BindingCache::index(const Binding &binding) {
  // A grace entry must not take a key back from the VM that replaced it.
  bool claims = binding.state == BindingState::Active;
  auto claim = [&](auto &map, const auto &key) {
    if (claims) map[key] = binding.vm_id;
    else map.try_emplace(key, binding.vm_id);
  };
  claim(by_mac_, std::pair{binding.virtual_network, binding.mac});
  for (const auto &address : binding.addresses)
    claim(by_address_, std::pair{binding.virtual_network, address});
}

void BindingCache::unindex(const Binding &binding) {
  erase_if_owned(by_mac_, std::pair{binding.virtual_network, binding.mac}, binding.vm_id);
  for (const auto &address : binding.addresses)
    erase_if_owned(by_address_, std::pair{binding.virtual_network, address}, binding.vm_id);
}

std::optional<VmId> BindingCache::other_active(uint32_t vn, const VmId *owner,
                                               const VmId &self) const {
  if (!owner || *owner == self) return std::nullopt;
  const Binding *binding = find({vn, *owner});
  if (!binding || binding->state != BindingState::Active) return std::nullopt;
  return *owner;
}

std::optional<VmId> BindingCache::other_active_owner_of_mac(uint32_t vn, const MacAddress &mac,
                                                            const VmId &self) const {
  return other_active(vn, lookup(by_mac_, std::pair{vn, mac}), self);
}

std::optional<VmId> BindingCache::other_active_owner_of_address(uint32_t vn,
                                                                const IpAddress &address,
                                                                const VmId &self) const {
  return other_active(vn, lookup(by_address_, std::pair{vn, address}), self);
}

}  // namespace nvmove::nvad
