// nvad's daemon side: UDP sockets, a poll() loop that sleeps until the next
// datagram or the next timer deadline (never a busy loop), and the glue that
// takes each message through the wire gate and the registrar, persists the
// outcome, then sends its reply and notifications.
//
// Single-threaded: everything but request_stop() is called from the thread
// running the loop.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/common.h>

#include "control/nvad/cluster.h"
#include "control/nvad/nvad_config.h"
#include "control/base/rate_limited_log.h"
#include "control/nvad/registrar.h"
#include "control/nvad/store.h"
#include "control/base/udp_socket.h"
#include "control/protocol/keys.h"

namespace nvmove::nvad {

class Server {
 public:
  // Loads the store (if any: null means nothing persists), restores the
  // binding cache and opens the sockets. The error says what failed.
  static proto::Result<std::unique_ptr<Server>, std::string> start(const NvadConfig &config,
                                                                   proto::KeyTable keys,
                                                                   std::unique_ptr<Store> store,
                                                                   const Clock &clock);
  ~Server();
  Server(const Server &) = delete;
  Server &operator=(const Server &) = delete;

  // Runs until request_stop().
  void run();
  // One wait (at most `max_wait`, or until the next timer when nullopt) and
  // whatever became ready: datagrams, due timers.
  void run_once(std::optional<std::chrono::milliseconds> max_wait);
  // Async-signal-safe and callable from any thread.
  void request_stop();
  bool stopping() const { return stop_.load(); }
  // Another descriptor for the loop to wait on (the operator's control
  // socket); `on_ready` runs on this thread. While any is watched the loop
  // wakes at least every 50 ms, so a slow client is served in pieces.
  void watch(int fd, std::function<void()> on_ready) { watches_.push_back({fd, std::move(on_ready)}); }

  // Called with every binding change after it was written to the store
  // (nullptr: the binding was erased), in order: the feed of the route
  // exporter (route_export.h). Also after a failed store write: the binding
  // cache in memory is authoritative then, and the export follows it.
  void on_binding_change(std::function<void(const BindingKey &, const Binding *)> f) {
    binding_observer_ = std::move(f);
  }

  // A key file re-read at run time (SIGHUP): the next datagram is checked,
  // and the next message signed, with these keys. Replay state is kept.
  void replace_keys(proto::KeyTable keys) { keys_ = std::move(keys); }

  // Several nvads on one shared store (etcd): only the elected one serves;
  // the others answer requests with 133 (130 while etcd is unreachable) so
  // that NVEs turn to the next address they know (docs/nvad.md "nvad on
  // etcd"). Set before run(); `cluster` must outlive the server.
  void set_cluster(Cluster *cluster) { cluster_ = cluster; }
  // Whether this nvad answers requests itself now: no cluster, or its leader
  // with a binding cache read from the store since it last failed.
  bool serving() const;

  // The port each listening socket got (useful when configured as 0).
  std::vector<uint16_t> local_ports() const;
  // Operator action (see Registrar::clear_flap); false if not flapping.
  bool clear_flap(const BindingKey &key);
  // {"bindings": [...], "peers": [...], "protocol_stats": {...}}.
  nlohmann::json state_json() const;
  // The parts one at a time: `show peers` and `show protocol stats` must not
  // serialise every binding to pick one key (seconds of a blocked protocol
  // loop at 100k bindings, issue 13).
  nlohmann::json peers_json() const;
  nlohmann::json protocol_stats_json() const;
  nlohmann::json bindings_json() const;
  nlohmann::json bindings_page_json(const std::optional<BindingKey> &after, size_t limit,
                                    std::optional<BindingKey> &next) const;
  const Registrar &registrar() const { return registrar_; }
  const Clock &clock() const { return clock_; }

 private:
  struct Watch {
    int fd;
    std::function<void()> on_ready;
  };
  std::vector<Watch> watches_;
  std::function<void(const BindingKey &, const Binding *)> binding_observer_;
  // Per NVE, the address of ours it last sent to (wildcard sockets only).
  std::map<IpAddress, IpAddress> local_for_peer_;
  Server(const NvadConfig &config, proto::KeyTable keys, std::unique_ptr<Store> store,
         const Clock &clock, int stop_fd);
  std::optional<std::string> open_sockets();

  int poll_timeout_ms(std::optional<std::chrono::milliseconds> max_wait) const;
  void receive_batch(UdpSocket &socket);
  void handle_datagram(UdpSocket &socket, std::span<const uint8_t> bytes,
                       const ReceivedDatagram &from);
  // Queues an outcome and commits the queue at once (timers, control
  // commands); received datagrams queue theirs and commit per receive batch.
  void execute(Outcome outcome, UdpSocket *arrived_on);
  void commit_batch();
  struct Pending {
    Outcome outcome;
    UdpSocket *arrived_on;
  };
  std::vector<Pending> batch_;  // handled, not yet committed nor answered
  // The cluster's tick and what a role change means here.
  void run_cluster();
  void on_role_change(const Cluster::Change &change);
  // Reads the store into the registrar when it may be stale (taking over,
  // or after a failed write); at most once a second while etcd fails.
  void resync_if_needed();
  // Tells the export that every cached binding not in `kept` is gone.
  void withdraw_exported(const std::set<BindingKey> &kept);
  // A request this nvad cannot serve: answered with `status` (133 or 130),
  // nothing recorded (the store's state belongs to the leader).
  void answer_not_serving(const Inbound &in, UdpSocket &socket);
  bool send(const Outgoing &outgoing, UdpSocket *preferred);
  UdpSocket *socket_for(const IpAddress &peer, UdpSocket *preferred);
  void log_limited(spdlog::level::level_enum level, const IpAddress &peer, const std::string &reason,
                   const std::string &line);
  // One info line per interval with what happened (registrations, moves,
  // de-registrations, refreshes, refusals) instead of a line per VM event:
  // at a mass migration a line per registration cost about 30 % of nvad's
  // throughput. Per-VM lines are at debug.
  void log_activity();
  struct ActivitySnapshot {
    uint64_t registrations = 0, moves = 0, deregistrations = 0, refreshes = 0, refused = 0;
  };
  ActivitySnapshot activity_logged_;
  Instant activity_logged_at_{};

  Cluster *cluster_ = nullptr;
  bool resync_needed_ = false;
  Instant resync_tried_{};

  NvadConfig config_;
  proto::KeyTable keys_;
  std::unique_ptr<Store> store_;
  const Clock &clock_;
  Registrar registrar_;
  std::vector<UdpSocket> sockets_;
  int stop_fd_ = -1;  // eventfd: wakes poll() when a stop is requested
  std::atomic<bool> stop_{false};
  RateLimitedLog limited_log_;
  std::vector<uint8_t> buffer_;
};

}  // namespace nvmove::nvad
