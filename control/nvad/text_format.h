// How nvad writes VM identities, MACs and NVE addresses in logs, JSON and the
// store, and reads them back. One place, so that what `show bindings` prints
// is what a later `clear flap <vm>` accepts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/nvad/clock.h"
#include "control/protocol/message.h"

namespace nvmove::nvad {

// A 16-byte VM-ID (the usual libvirt / OpenStack UUID) as
// "8-4-4-4-12" lowercase hex; any other length as "hex:<hex digits>".
std::string vm_id_text(const proto::VmId &vm);
std::optional<proto::VmId> parse_vm_id(std::string_view text);

std::string mac_text(const proto::MacAddress &mac);
std::string address_text(const proto::IpAddress &address);
std::vector<std::string> addresses_text(const std::vector<proto::IpAddress> &addresses);
std::vector<std::string> endpoints_text(const proto::NveAddresses &endpoints);
// "192.0.2.1" or "192.0.2.1,2001:db8::1", for log lines.
std::string endpoints_line(const proto::NveAddresses &endpoints);

// "250ms", "10s": the spelling the configuration file accepts.
std::string duration_text(Duration duration);

}  // namespace nvmove::nvad
