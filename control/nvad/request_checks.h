// The role and policy checks a Registration Request must pass before it may
// change the binding cache (docs/protocol.md 5.3 step 7 and 6.4), each
// answering with the status the reply carries. They only read; registrar.cc
// runs them in order and acts on the first refusal.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control/nvad/binding_cache.h"
#include "control/nvad/nvad_config.h"
#include "control/protocol/message.h"

namespace nvmove::nvad {

struct Refusal {
  proto::Status status = proto::Status::Unspecified;
  std::string reason;
};

// Every mandatory option is present (mandatory_options.h); checked before
// the replay check, which needs the Timestamp.
std::optional<Refusal> check_mandatory_options(const proto::Message &request);

// Only nvad sends notifications; an NVE sending one is confused or hostile.
std::optional<Refusal> check_not_a_notification(const proto::Message &request);

// The peer is in the configured peers list (when there is one).
std::optional<Refusal> check_peer_listed(const RegistrationPolicy &policy, const IpAddress &peer);

// The Serving NVE Addresses belong to the peer: its configured endpoints, or
// else its own address. Without this an authenticated NVE could point a
// VM's traffic at any address it likes.
std::optional<Refusal> check_endpoints(const RegistrationPolicy &policy, const IpAddress &peer,
                                       const proto::Message &request);

// The addresses `peer` may announce as tunnel endpoints, which are also the
// ones it may tunnel from: its configured endpoints, or else its own address.
std::vector<IpAddress> permitted_endpoints(const RegistrationPolicy &policy, const IpAddress &peer);

// The default router that takes host routes of VMs in `vn` leaving `nve`
// (default_routers), or nullptr.
const DefaultRouter *default_router_for(const RegistrationPolicy &policy, const IpAddress &nve, uint32_t vn);

// The virtual network is configured (192), and this peer may serve it (129).
std::optional<Refusal> check_virtual_network(const RegistrationPolicy &policy, const IpAddress &peer,
                                             const proto::Message &request);

// The request describes the same VM as the binding (same MAC), and claims
// no MAC or address another active VM holds in that network.
std::optional<Refusal> check_identity(const BindingCache &cache, const Binding *existing,
                                      const proto::Message &request);

}  // namespace nvmove::nvad
