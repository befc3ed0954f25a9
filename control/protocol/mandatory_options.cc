#include "control/protocol/mandatory_options.h"

namespace nvmove::proto {
namespace {

std::optional<MissingOption> missing(OptionType option, std::string reason) {
  return MissingOption{option, std::move(reason)};
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
  // No per-family rule: the dataplane tunnels either VM family inside either
  // outer family (IPv4-in-IPv6 included), so one serving NVE address is enough.
  return std::nullopt;
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
