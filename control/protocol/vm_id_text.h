// The one text form of a VM-ID, in nved, nvad, nvectl and the logs, so that
// what one program prints another accepts:
//   - printable ASCII without spaces (the names operators give VMs, e.g.
//     "web-1"): as it is;
//   - 16 bytes otherwise (the usual libvirt / OpenStack UUID): 8-4-4-4-12
//     lowercase hex;
//   - anything else: "hex:" and the bytes in hex.
// A printable ID that would read back as something else (one that looks like
// a UUID, or starts with "hex:") is written in hex, so parse(text(id)) == id
// for every ID. Text that looks like a UUID but is not one (a digit missing,
// a dash misplaced) is refused, not taken for a name.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "control/protocol/message.h"
#include "control/protocol/wire_format.h"

namespace nvmove::proto {

std::string vm_id_text(const VmId &vm);
// A UUID, "hex:..." or printable text; nullopt if empty, too long, or a
// malformed UUID / hex form.
std::optional<VmId> parse_vm_id(std::string_view text);

}  // namespace nvmove::proto
