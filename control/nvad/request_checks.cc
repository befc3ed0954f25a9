#include "control/nvad/request_checks.h"

#include <algorithm>

#include "control/nvad/text_format.h"
#include "control/protocol/mandatory_options.h"
#include "control/protocol/names.h"

namespace nvmove::nvad {
namespace {

Refusal refuse(proto::Status status, std::string reason) { return Refusal{status, std::move(reason)}; }

const PeerPolicy *peer_policy(const RegistrationPolicy &policy, const IpAddress &peer) {
  if (!policy.peers) return nullptr;
  auto it = policy.peers->find(peer);
  return it == policy.peers->end() ? nullptr : &it->second;
}

}  // namespace

std::optional<Refusal> check_peer_listed(const RegistrationPolicy &policy, const IpAddress &peer) {
  // A default router is told of moves; it serves no VM (and a notification
  // is matched to its recipient by address, so it cannot be both).
  for (const auto &router : policy.default_routers)
    if (router.address == peer)
      return refuse(proto::Status::NotAuthorized, peer.to_string() + " is a default router, not an NVE");
  if (!policy.peers || policy.peers->contains(peer)) return std::nullopt;
  return refuse(proto::Status::NotAuthorized, "NVE " + peer.to_string() + " is not in the peers list");
}

std::optional<Refusal> check_not_a_notification(const proto::Message &request) {
  if (!request.notification && !request.router) return std::nullopt;
  return refuse(proto::Status::NotAuthorized,
                "request has the Notification or Router flag, which only nvad may set");
}


std::optional<Refusal> check_mandatory_options(const proto::Message &request) {
  auto missing = proto::find_missing_option(request);
  if (!missing) return std::nullopt;
  return refuse(proto::Status::MissingMandatoryOption,
                std::string(proto::option_type_name(static_cast<uint8_t>(missing->option))) +
                    " missing: " + missing->reason);
}

const DefaultRouter *default_router_for(const RegistrationPolicy &policy, const IpAddress &nve, uint32_t vn) {
  for (const auto &router : policy.default_routers)
    if (router.serves.contains(nve) && router.virtual_networks.contains(vn)) return &router;
  return nullptr;
}

std::vector<IpAddress> permitted_endpoints(const RegistrationPolicy &policy, const IpAddress &peer) {
  const PeerPolicy *configured = peer_policy(policy, peer);
  if (configured && !configured->endpoints.empty()) return configured->endpoints;
  return {peer};
}

std::optional<Refusal> check_endpoints(const RegistrationPolicy &policy, const IpAddress &peer,
                                       const proto::Message &request) {
  const std::vector<IpAddress> allowed = permitted_endpoints(policy, peer);
  for (const auto &endpoint : {request.serving_nve.ipv4, request.serving_nve.ipv6}) {
    if (endpoint && std::ranges::find(allowed, *endpoint) == allowed.end())
      return refuse(proto::Status::NotAuthorized,
                    "NVE " + peer.to_string() + " announced tunnel endpoint " +
                        (*endpoint).to_string() + ", which is not its own (list it in peers[].endpoints)");
  }
  return std::nullopt;
}

std::optional<Refusal> check_virtual_network(const RegistrationPolicy &policy, const IpAddress &peer,
                                             const proto::Message &request) {
  uint32_t vn = *request.virtual_network;
  if (policy.allowed_virtual_networks && !policy.allowed_virtual_networks->contains(vn))
    return refuse(proto::Status::UnknownVirtualNetwork,
                  "virtual network " + std::to_string(vn) + " is not in allowed_virtual_networks");
  const PeerPolicy *configured = peer_policy(policy, peer);
  if (configured && configured->virtual_networks && !configured->virtual_networks->contains(vn))
    return refuse(proto::Status::AdministrativelyProhibited,
                  "NVE " + peer.to_string() + " may not serve virtual network " + std::to_string(vn));
  return std::nullopt;
}

std::optional<Refusal> check_identity(const BindingCache &cache, const Binding *existing,
                                      const proto::Message &request) {
  const VmId &vm = *request.vm_id;
  uint32_t vn = *request.virtual_network;
  if (existing && request.vm_mac && *request.vm_mac != existing->mac)
    return refuse(proto::Status::VmIdentityMismatch,
                  "VM " + vm_id_text(vm) + " has MAC " + mac_to_string(existing->mac) +
                      ", request says " + mac_to_string(*request.vm_mac));
  if (request.lifetime == 0) return std::nullopt;  // a de-registration claims nothing

  if (request.vm_mac) {
    if (auto owner = cache.other_active_owner_of_mac(vn, *request.vm_mac, vm))
      return refuse(proto::Status::VmIdentityMismatch,
                    "MAC " + mac_to_string(*request.vm_mac) + " in virtual network " +
                        std::to_string(vn) + " belongs to VM " + vm_id_text(*owner));
  }
  for (const auto &address : request.vm_addresses) {
    if (auto owner = cache.other_active_owner_of_address(vn, address, vm))
      return refuse(proto::Status::VmIdentityMismatch,
                    "address " + address.to_string() + " in virtual network " +
                        std::to_string(vn) + " belongs to VM " + vm_id_text(*owner));
  }
  return std::nullopt;
}

}  // namespace nvmove::nvad
