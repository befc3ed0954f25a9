// Which options a message must carry (docs/protocol.md section 4.2). Checked
// after decoding and authentication rather than by decode(): the receiver
// needs the decoded, authenticated request to answer it with status 158.
#pragma once

#include <optional>
#include <string>

#include "control/protocol/message.h"

namespace nvmove::proto {

struct MissingOption {
  OptionType option;
  std::string reason;  // e.g. "a registration needs a VM MAC Address option"
};

// The first rule the message breaks, or nullopt if it carries all it must.
std::optional<MissingOption> find_missing_option(const Message &message);

}  // namespace nvmove::proto
