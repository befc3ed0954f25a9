// nvad's settings, with their defaults. config_loader.h fills them from YAML;
// docs/nvad.md documents every key.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "control/base/clock.h"
#include "control/base/metrics_http.h"
#include "control/nvad/route_export.h"
#include "control/protocol/message.h"
#include "control/protocol/replay.h"
#include "control/protocol/wire_format.h"

namespace nvmove::nvad {

using namespace std::chrono_literals;

// Move notifications. Retransmission doubles from initial_timeout up to
// max_timeout (RFC 5213's shape; docs/protocol.md recommends 200 ms for the
// first timeout in a data centre, the default here is the conservative 1 s).
// With the defaults a notification is sent at 0, 1, 3, 7, 15, 31 and 63 s
// and declared failed at 95 s.
struct NotificationTimers {
  Duration initial_timeout = 1s;
  Duration max_timeout = 32s;
  unsigned retries = 6;  // retransmissions after the first send
  // The notification's Lifetime: how long a previous NVE keeps redirecting
  // packets in flight to the new serving NVE. It must outlast the time every
  // other NVE needs to learn of the move; docs/protocol.md section 7 suggests
  // 8 units (32 s).
  uint16_t redirect_lifetime = 8;

  // Wait after transmission number `sent_before` (0 = the first send).
  Duration timeout_after(unsigned sent_before) const;
};

struct FlapPolicy {
  bool enabled = true;
  unsigned max_moves = 5;  // more than this many moves inside `window` is a flap
  Duration window = 180s;
};

// What an authorised peer may do; keyed by its control address.
struct PeerPolicy {
  // Tunnel endpoints it may announce as Serving NVE Address. Empty: only its
  // own control address, so that no NVE can point a VM's traffic at an
  // address that is not its own (docs/protocol.md 6.4, status 154).
  std::vector<IpAddress> endpoints;
  // Virtual networks it may serve; nullopt = any (status 129 otherwise).
  std::optional<std::set<uint32_t>> virtual_networks;
};

// A default router (seed 003 section 7.2): after a VM leaves one of the NVEs
// it serves, it gets a notification with the R flag and routes the VM's
// addresses natively to the serving NVE, so correspondents behind it stop
// taking the detour through the old NVE's tunnel (docs/nvad.md).
struct DefaultRouter {
  IpAddress address;  // its control address: the key file has its key
  uint16_t port = proto::kDefaultUdpPort;
  std::set<IpAddress> serves;  // NVEs (control addresses) it is the default router of
  // VNs routed natively on the fabric: only their VMs get host routes (a
  // tenant VN's packets exist on the fabric only inside tunnels).
  std::set<uint32_t> virtual_networks;
};

// Everything the registrar decides with. Separate from the daemon's settings
// (sockets, files, logging) so that tests build one in a line.
struct RegistrationPolicy {
  uint16_t max_lifetime = 150;  // units of 4 s: 600 s
  Duration deregistration_grace = 10s;
  NotificationTimers notifications;
  FlapPolicy flap;
  std::optional<std::set<uint32_t>> allowed_virtual_networks;  // nullopt = any
  // nullopt = every key-file peer, each with the default PeerPolicy.
  std::optional<std::map<IpAddress, PeerPolicy>> peers;
  size_t max_previous_nves = 16;  // the oldest is forgotten beyond this
  std::vector<DefaultRouter> default_routers;
  size_t max_bindings = 1'000'000;
  proto::TimestampWindow timestamp_window;
};

struct ListenConfig {
  std::vector<IpAddress> addresses;  // empty = "::" (IPv4 and IPv6)
  uint16_t port = proto::kDefaultUdpPort;  // 0 = any (tests)
  // Kernel receive buffer per socket: 1,000 simultaneous registrations lost
  // 700-800 datagrams in the kernel's default 208 KiB (issue 13).
  uint32_t receive_buffer = 4u << 20;
};

// Where bindings persist (docs/nvad.md "nvad on etcd"). SQLite at db_path
// is the embedded default; etcd lets several nvad instances share them, one
// active (cluster.h).
struct EtcdSettings {
  std::vector<std::string> endpoints;  // "http://127.0.0.1:2379"
  std::string prefix = "/nvmove/nvad/";
  Duration timeout = 1s;  // per request and member
  // store.etcd.tls: PEM files for https endpoints (etcd_client.h).
  std::string ca_file, cert_file, key_file;
};
enum class StoreBackend { Sqlite, Etcd };
struct ClusterSettings {
  std::string name;  // empty: the host name
  Duration lease_ttl = 5s;  // how long a dead leader goes unnoticed, at most
};

struct NvadConfig {
  ListenConfig listen;
  std::string key_file = "/etc/nvmove/nvad.keys";
  std::string db_path = "/var/lib/nvmove/nvad.db";
  StoreBackend store_backend = StoreBackend::Sqlite;
  EtcdSettings etcd;
  ClusterSettings cluster;
  RegistrationPolicy policy;
  std::string log_level = "info";
  Duration rejection_log_interval = 10s;
  Duration activity_log_interval = 10s;  // log.summary_interval
  MetricsHttpConfig metrics;  // GET /metrics; address family 0: off
  ExportPolicy route_export;  // export: host routes of moved VMs to a BGP speaker
};

}  // namespace nvmove::nvad
