#include "control/protocol/mandatory_options.h"

#include <algorithm>

namespace nvmove::proto {
namespace {

std::optional<MissingOption> missing(OptionType option, std::string reason) {
  return MissingOption{option, std::move(reason)};
}

// A VM address is reachable only through a tunnel of its own family
// (IPv4-in-IPv4, IPv6-in-IPv6), so the serving NVE must have one of each
// family the VM uses.
std::optional<MissingOption> check_tunnel_families(const Message &message) {
  auto uses = [&](uint8_t family) {
    return std::ranges::any_of(message.vm_addresses,
                               [&](const IpAddress &a) { return a.family == family; });
  };
  if (uses(4) && !message.serving_nve.ipv4)
    return missing(OptionType::ServingNve, "an IPv4 VM address needs an IPv4 serving NVE address");
  if (uses(6) && !message.serving_nve.ipv6)
    return missing(OptionType::ServingNve, "an IPv6 VM address needs an IPv6 serving NVE address");
  return std::nullopt;
}

std::optional<MissingOption> check_request(const Message &message) {
  // Every request: which VM, in which tenant network, who serves it, when.
  if (!message.vm_id) return missing(OptionType::VmIdentifier, "every request needs a VM Identifier");
  if (!message.virtual_network)
    return missing(OptionType::VirtualNetwork, "every request needs a Virtual Network option");
  if (message.serving_nve.empty())
    return missing(OptionType::ServingNve, "every request needs a Serving NVE Address");
  if (!message.timestamp_ns) return missing(OptionType::Timestamp, "every request needs a Timestamp");
  if (message.lifetime == 0) return std::nullopt;  // de-registration: the above is enough

  // (Re-)registration and move notification: the addresses to route.
  if (message.vm_addresses.empty())
    return missing(OptionType::VmAddress, "a registration needs at least one VM Address");
  if (!message.notification && !message.vm_mac)
    return missing(OptionType::VmMacAddress, "a registration needs a VM MAC Address");
  return check_tunnel_families(message);
}

}  // namespace

std::optional<MissingOption> find_missing_option(const Message &message) {
  if (message.is_request()) return check_request(message);
  if (message.status == Status::BadSequenceNumber && !message.expected_sequence)
    return missing(OptionType::ExpectedSequence,
                   "a Bad sequence number reply needs an Expected Sequence Number");
  return std::nullopt;
}

}  // namespace nvmove::proto
