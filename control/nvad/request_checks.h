// The checks a Registration Request must pass before it may change the
// binding cache, each answering with the status the reply carries. They only
// read; registrar.cc runs them in order and acts on the first refusal.
#pragma once

#include <optional>
#include <string>

#include "control/nvad/binding_cache.h"
#include "control/nvad/nvad_config.h"
#include "control/protocol/message.h"

namespace nvmove::nvad {

struct Refusal {
  proto::Status status = proto::Status::Unspecified;
  std::string reason;
};

// The peer is in the configured peers list (when there is one).
std::optional<Refusal> check_peer_listed(const RegistrationPolicy &policy, const IpAddress &peer);

// Only nvad sends notifications; an NVE sending one is confused or hostile.
std::optional<Refusal> check_not_a_notification(const proto::Message &request);

// Every mandatory option is present (mandatory_options.h).
std::optional<Refusal> check_mandatory_options(const proto::Message &request);

// The Serving NVE addresses are ones the peer may announce. Without this an
// authenticated NVE could send a VM's traffic to any address it likes.
std::optional<Refusal> check_endpoints(const RegistrationPolicy &policy, const IpAddress &peer,
                                       const proto::Message &request);

// The virtual network is on the allow-list (when there is one).
std::optional<Refusal> check_virtual_network(const RegistrationPolicy &policy,
                                             const proto::Message &request);

// The request describes the same VM as the binding (same network and MAC),
// and claims no MAC or address another active VM holds in that network.
std::optional<Refusal> check_identity(const BindingCache &cache, const Binding *existing,
                                      const proto::Message &request);

}  // namespace nvmove::nvad
