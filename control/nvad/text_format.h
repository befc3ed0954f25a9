// How nvad writes MACs, NVE endpoints and durations in logs, JSON and the
// store, and reads them back. One place, so that what `show bindings` prints
// is what a later `clear flap <vm>` accepts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/base/clock.h"
#include "control/protocol/message.h"
#include "control/protocol/vm_id_text.h"

namespace nvmove::nvad {

// VM-IDs have one text form everywhere (control/protocol/vm_id_text.h).
using proto::parse_vm_id;
using proto::vm_id_text;

std::vector<std::string> addresses_text(const std::vector<proto::IpAddress> &addresses);
std::vector<std::string> endpoints_text(const proto::NveAddresses &endpoints);
// "192.0.2.1" or "192.0.2.1,2001:db8::1", for log lines.
std::string endpoints_line(const proto::NveAddresses &endpoints);


}  // namespace nvmove::nvad
