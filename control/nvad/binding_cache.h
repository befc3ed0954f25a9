// The binding cache: one Binding per (virtual network, VM-ID), plus the indexes nvad needs to
// refuse a second VM claiming a MAC or an address already in use in the same
// virtual network (it would misdeliver a tenant's traffic).
//
// Bindings are changed by copy, modify, put(): put() is the only way in, so
// the indexes cannot drift from the entries.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <utility>

#include "control/nvad/binding.h"

namespace nvmove::nvad {

class BindingCache {
 public:
  const Binding *find(const BindingKey &key) const;
  void put(Binding binding);  // insert or replace
  bool erase(const BindingKey &key);

  // The VM-ID of the Active VM other than `self` that holds this MAC /
  // address in `vn`.
  // An entry in its de-registration grace period holds nothing: a VM
  // recreated with the same MAC must be able to register straight away.
  std::optional<VmId> other_active_owner_of_mac(uint32_t vn, const MacAddress &mac,
                                                const VmId &self) const;
  std::optional<VmId> other_active_owner_of_address(uint32_t vn, const IpAddress &address,
                                                    const VmId &self) const;

  size_t size() const { return bindings_.size(); }
  auto begin() const { return bindings_.begin(); }
  auto upper_bound(const BindingKey &key) const { return bindings_.upper_bound(key); }
  auto end() const { return bindings_.end(); }

 private:
  void index(const Binding &binding);
  void unindex(const Binding &binding);
  std::optional<VmId> other_active(uint32_t vn, const VmId *owner, const VmId &self) const;

  std::map<BindingKey, Binding> bindings_;
  std::map<std::pair<uint32_t, MacAddress>, VmId> by_mac_;
  std::map<std::pair<uint32_t, IpAddress>, VmId> by_address_;
};

}  // namespace nvmove::nvad
