// The decoded form of a registration message: header fields plus one typed
// field per known option. A field is unset (nullopt / empty) when the option
// is absent. Unknown skippable options and the authentication trailer are not
// part of a Message: decode() reports them next to it (codec.h).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/net_types.h"
#include "control/protocol/wire_format.h"

namespace nvmove::proto {

using nvmove::IpAddress;
using nvmove::MacAddress;

// How hot the move is (section 3.1). The NVA uses it to decide which previous
// NVEs to tell: all of them for hot and warm, only the last one for cold.
enum class MobilityMode : uint8_t {
  None = 0,  // first registration, refresh or de-registration
  Cold = 1,
  Warm = 2,
  Hot = 3,
};

// Reply status (section 3.2). Below 128 the request was accepted. The values
// mirror PMIPv6 (RFC 5213/6275) where PMIPv6 has the same reason.
enum class Status : uint8_t {
  Accepted = 0,
  Unspecified = 128,
  AdministrativelyProhibited = 129,
  InsufficientResources = 130,
  // Only the active management node of a cluster serves (RFC 6275's "not
  // home agent for this mobile node"): ask the next one (docs/protocol.md 6.4).
  NotActiveManagementNode = 133,
  BadSequenceNumber = 135,  // the reply carries an Expected Sequence option
  NotAuthorized = 154,
  TimestampMismatch = 156,
  TimestampLowerThanPrevious = 157,
  MissingMandatoryOption = 158,
  VmIdentityMismatch = 159,
  UnknownVirtualNetwork = 192,
};

constexpr bool is_accepted(Status status) { return static_cast<uint8_t>(status) < 128; }

inline constexpr std::array<Status, 11> kRejectionStatuses = {
    Status::Unspecified,
    Status::AdministrativelyProhibited,
    Status::InsufficientResources,
    Status::NotActiveManagementNode,
    Status::BadSequenceNumber,
    Status::NotAuthorized,
    Status::TimestampMismatch,
    Status::TimestampLowerThanPrevious,
    Status::MissingMandatoryOption,
    Status::VmIdentityMismatch,
    Status::UnknownVirtualNetwork,
};

// Opaque, 1..253 bytes; a 16-byte UUID (libvirt, OpenStack) is the usual case.
using VmId = std::vector<uint8_t>;

// An NVE's tunnel endpoints, at most one per family. A sender tunnels a VM
// address to the endpoint of the same family when there is one, else to the
// other (the dataplane also does IPv4-in-IPv6 and IPv6-in-IPv4).
struct NveAddresses {
  std::optional<IpAddress> ipv4;
  std::optional<IpAddress> ipv6;

  bool empty() const { return !ipv4 && !ipv6; }
  bool operator==(const NveAddresses &) const = default;
};

struct Message {
  MessageType type = MessageType::RegistrationRequest;
  // Requests only (encode() refuses them in a reply, decode() ignores them).
  bool notification = false;  // N flag: nvad telling a previous NVE of a move
  MobilityMode mobility = MobilityMode::None;
  // R flag, only with N: the notification goes to the default router of a
  // previous NVE, which routes the VM's addresses natively to the serving
  // NVE instead of tunnelling (docs/protocol.md 7, seed 003 section 7.2).
  bool router = false;
  uint16_t sequence = 0;
  uint16_t lifetime = 0;  // units of 4 s; 0 = de-register
  Status status = Status::Accepted;  // replies only, likewise

  std::optional<VmId> vm_id;
  std::optional<MacAddress> vm_mac;
  std::optional<uint32_t> virtual_network;
  std::vector<IpAddress> vm_addresses;  // one option each, in this order
  NveAddresses serving_nve;
  NveAddresses previous_nve;
  std::optional<uint64_t> timestamp_ns;  // ns since 1970-01-01T00:00:00Z
  std::optional<uint16_t> expected_sequence;  // replies with status 135
  // Accepted replies only: the underlay addresses of the NVEs that may
  // tunnel this VM's packets in flight to the requester (section 7,
  // "Tenants on the fabric"); it decapsulates tunnels from them.
  std::vector<IpAddress> redirecting_nves;

  bool is_request() const { return type == MessageType::RegistrationRequest; }
  bool is_reply() const { return type == MessageType::RegistrationReply; }
  bool operator==(const Message &) const = default;
};

constexpr uint32_t lifetime_seconds(uint16_t units) { return units * kLifetimeUnitSeconds; }

}  // namespace nvmove::proto
