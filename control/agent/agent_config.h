// The agent's settings (from nved's `agent` configuration section) and the
// description of a local VM interface the hypervisor side reports.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "common/net_types.h"
#include "control/protocol/message.h"
#include "control/protocol/replay.h"
#include "control/protocol/wire_format.h"

namespace nvmove::agent {

struct AgentConfig {
  IpAddress nvad;
  uint16_t nvad_port = proto::kDefaultUdpPort;
  proto::NveAddresses self;         // our tunnel endpoints (serving NVE option)
  uint16_t lifetime_units = 150;    // asked for: 150 x 4 s = 10 min
  uint32_t retransmit_initial_ms = 1000;
  uint32_t retransmit_max_ms = 32000;
  uint32_t retransmit_count = 6;
  uint32_t bul_idle_ms = 30000;     // tunnel removed after this long without hits
  std::chrono::milliseconds timestamp_window = proto::kDefaultTimestampWindow;
};

struct VmSpec {
  proto::VmId id;
  uint32_t vn = 0;
  MacAddress mac{};
  std::vector<IpAddress> addresses;
  uint16_t port = 0;  // access port
  uint16_t vlan = 0;
};

}  // namespace nvmove::agent
