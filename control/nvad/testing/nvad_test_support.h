// Helpers shared by the nvad unit tests (tests/unit/test_nvad_*.cc): NVEs
// with fixed addresses, VMs with fixed identities, and a registrar on a fake
// clock that builds requests the way an NVE would. Header-only and not part
// of nvad_lib.
#pragma once

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "control/nvad/registrar.h"
#include "control/protocol/address_text.h"
#include "control/protocol/reply_builder.h"

namespace nvmove::nvad::testing {

inline IpAddress ip(const char *text) {
  auto address = proto::parse_ip_address(text);
  EXPECT_TRUE(address.has_value()) << text;
  return address.value_or(IpAddress{});
}

// An NVE: where its requests come from and the tunnel endpoint it announces
// (the same address unless a test configures peers[].endpoints).
struct Nve {
  IpAddress control;
  IpAddress endpoint;
  uint16_t port = proto::kDefaultUdpPort;
};

inline Nve nve_a() { return {ip("192.0.2.1"), ip("192.0.2.1")}; }
inline Nve nve_b() { return {ip("192.0.2.2"), ip("192.0.2.2")}; }
inline Nve nve_c() { return {ip("192.0.2.3"), ip("192.0.2.3")}; }
inline Nve nve_d() { return {ip("192.0.2.4"), ip("192.0.2.4")}; }

inline VmId vm_id(uint8_t n) {
  VmId id(16, 0x11);
  id[15] = n;
  return id;
}
inline MacAddress vm_mac(uint8_t n) { return {0x52, 0x54, 0x00, 0x00, 0x00, n}; }
inline IpAddress vm_address(uint8_t n) { return ip(("10.0.0." + std::to_string(n)).c_str()); }

inline constexpr uint32_t kVn = 100;
inline BindingKey key(uint8_t vm) { return {kVn, vm_id(vm)}; }

inline proto::Message registration(const Nve &nve, uint8_t vm, uint16_t sequence, uint64_t timestamp_ns,
                                   uint16_t lifetime) {
  proto::Message m;
  m.type = proto::MessageType::RegistrationRequest;
  m.sequence = sequence;
  m.lifetime = lifetime;
  m.vm_id = vm_id(vm);
  m.vm_mac = vm_mac(vm);
  m.virtual_network = kVn;
  m.vm_addresses = {vm_address(vm)};
  m.serving_nve.ipv4 = nve.endpoint;
  m.timestamp_ns = timestamp_ns;
  return m;
}

// A registrar on a fake clock, and NVEs that number their requests properly.
class RegistrarHarness {
 public:
  explicit RegistrarHarness(RegistrationPolicy policy = {}) : registrar(std::move(policy), clock) {
    spdlog::set_level(spdlog::level::warn);  // info lines would bury the failures
  }

  // Sequence numbers and timestamps increase per NVE, as the protocol wants,
  // even when the fake clock has not moved.
  proto::Message request(const Nve &nve, uint8_t vm, uint16_t lifetime = 150) {
    uint16_t &sequence = next_sequence_[nve.control];
    uint64_t &timestamp = last_timestamp_[nve.control];
    timestamp = std::max(clock.wall_ns(), timestamp + 1);
    return registration(nve, vm, sequence++, timestamp, lifetime);
  }
  Outcome send(const Nve &nve, const proto::Message &message) {
    return registrar.handle_request(Inbound{nve.control, nve.port, message});
  }
  Outcome register_vm(const Nve &nve, uint8_t vm, uint16_t lifetime = 150,
                      proto::MobilityMode mode = proto::MobilityMode::None) {
    auto message = request(nve, vm, lifetime);
    message.mobility = mode;
    return send(nve, message);
  }
  Outcome deregister(const Nve &nve, uint8_t vm) { return register_vm(nve, vm, 0); }
  bool has(uint8_t vm) const { return registrar.cache().find(key(vm)) != nullptr; }

  // The previous NVE answering a notification, as nved would.
  Outcome acknowledge(const Outgoing &notification, proto::Status status = proto::Status::Accepted) {
    auto reply = proto::make_reply(notification.message, status, notification.message.lifetime);
    return registrar.handle_reply(Inbound{notification.to.address, notification.to.port, reply});
  }

  const Binding &binding(uint8_t vm) {
    const Binding *found = registrar.cache().find(key(vm));
    EXPECT_NE(found, nullptr);
    static const Binding kMissing;
    return found ? *found : kMissing;
  }

  FakeClock clock;
  Registrar registrar;

 private:
  std::map<IpAddress, uint16_t> next_sequence_;
  std::map<IpAddress, uint64_t> last_timestamp_;
};

inline proto::Status reply_status(const Outcome &outcome) {
  EXPECT_TRUE(outcome.reply.has_value());
  return outcome.reply ? outcome.reply->message.status : proto::Status::Unspecified;
}

}  // namespace nvmove::nvad::testing
