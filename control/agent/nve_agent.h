// The NVE agent: the control-plane logic of nved for VM mobility.
//  - takes split-NVE lifecycle events for local VMs (RFC 8394), installs and
//    removes their local routes, and registers them with nvad;
//  - refreshes registrations before their lifetime runs out, retransmitting
//    unanswered requests with exponential backoff;
//  - answers move notifications from nvad (and only from nvad, with a valid
//    HMAC, fresh timestamp and sequence number) by turning the VM's routes
//    into tunnels toward its new NVE, and keeps a binding update list entry
//    per moved VM until no packet has hit its routes for the idle time or its
//    lifetime ends.
// It knows routes only through RouteBackend and the network only through
// AgentTransport, so it runs (and is tested) without DPDK.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/route_change.h"
#include "control/base/clock.h"
#include "control/base/rate_limited_log.h"
#include "control/agent/vm_lifecycle.h"
#include "control/protocol/keys.h"
#include "control/protocol/message.h"
#include "control/protocol/replay.h"
#include "control/protocol/vm_id_text.h"

namespace nvmove::agent {

class AgentTransport {
 public:
  virtual ~AgentTransport() = default;
  virtual void send(const IpAddress &to, uint16_t port, std::span<const uint8_t> datagram) = 0;
};

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

struct AgentCounters {
  uint64_t requests_sent = 0, retransmissions = 0, replies_accepted = 0, replies_rejected = 0;
  uint64_t notifications_accepted = 0, notifications_rejected = 0, dropped_datagrams = 0;
  uint64_t bul_idle_expired = 0, bul_lifetime_expired = 0, registrations_failed = 0;
};

class NveAgent {
 public:
  NveAgent(AgentConfig cfg, RouteBackend &routes, AgentTransport &net, const proto::KeyTable &keys,
           const Clock &clock);

  // A lifecycle event from the hypervisor side. Returns an error text when
  // the event is refused (nothing changed then). `mobility` is the hint sent
  // with the registration on activate (hot by default).
  std::optional<std::string> vm_event(VmEvent event, const VmSpec &spec,
                                      proto::MobilityMode mobility = proto::MobilityMode::Hot);

  // A datagram received on the protocol socket.
  void on_datagram(const IpAddress &from, uint16_t from_port, std::span<const uint8_t> data);

  // Retransmissions, refreshes and binding update list expiry. Call often
  // (every control loop pass); cheap when there is nothing due.
  void tick();

  nlohmann::json vms_json() const;
  nlohmann::json bul_json() const;
  const AgentCounters &counters() const { return counters_; }
  // Test and CLI view.
  std::optional<VmState> vm_state(const proto::VmId &id) const;
  bool registered(const proto::VmId &id) const;
  size_t bul_size() const { return bul_.size(); }

 private:
  struct Outstanding {
    proto::Message request;
    uint64_t next_send_ms = 0;
    uint32_t interval_ms = 0;
    uint32_t sent = 0;
  };
  struct LocalVm {
    VmSpec spec;
    VmState state = VmState::Init;
    proto::MobilityMode mobility = proto::MobilityMode::Hot;
    bool registered = false;
    uint16_t granted_lifetime = 0;
    uint64_t refresh_at_ms = 0;
    std::optional<Outstanding> pending;
  };
  struct BulEntry {
    proto::VmId id;
    uint32_t vn = 0;
    std::vector<IpAddress> addresses;
    proto::NveAddresses new_nve;
    uint64_t created_ms = 0;
    uint64_t expires_ms = 0;
    uint64_t last_activity_ms = 0;
    uint64_t last_hits = 0;
  };

  // registration.cc
  void register_vm(LocalVm &vm, uint16_t lifetime);
  void send_pending(LocalVm &vm);
  void on_reply(const proto::Message &reply);
  // move_notification.cc
  void on_notification(const proto::Message &m, const IpAddress &from, uint16_t from_port);
  void reply_to_nvad(const proto::Message &reply, const IpAddress &to, uint16_t port);
  std::optional<IpAddress> tunnel_endpoint(const IpAddress &vm_addr, const proto::NveAddresses &nve) const;
  void expire_bul(uint64_t now);
  void remove_routes(uint32_t vn, const std::vector<IpAddress> &addrs);
  // Removes only the routes that still deliver to this VM here: after a move
  // notification the same addresses tunnel packets in flight, and a
  // deactivate that arrives later must not take those away.
  void remove_local_routes(const VmSpec &vm);
  // nve_agent.cc
  void install_local(const LocalVm &vm);
  void send_message(const proto::Message &m);

  AgentConfig cfg_;
  RouteBackend &routes_;
  AgentTransport &net_;
  const proto::KeyTable &keys_;
  const Clock &clock_;
  proto::ReplayGuard replay_;
  std::map<proto::VmId, LocalVm> vms_;
  std::map<proto::VmId, BulEntry> bul_;
  uint16_t next_sequence_;
  AgentCounters counters_;
  RateLimitedLog limited_log_;

  // Logs `line` at warn, at most once per interval per (peer, reason).
  void warn_limited(const IpAddress &peer, const std::string &reason, const std::string &line);
};

// VM-IDs have one text form everywhere (control/protocol/vm_id_text.h).
using proto::vm_id_text;

}  // namespace nvmove::agent
