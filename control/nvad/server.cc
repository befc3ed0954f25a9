#include "control/nvad/server.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "control/nvad/state_json.h"
#include "control/nvad/text_format.h"
#include "control/nvad/wire_gate.h"
#include "control/protocol/reply_builder.h"
#include "control/protocol/address_text.h"
#include "control/protocol/names.h"

namespace nvmove::nvad {
namespace {

// Datagrams read from one socket per wakeup before timers get a turn, so a
// flood cannot starve retransmissions.
constexpr int kReceiveBatch = 64;
// Larger than any datagram: an oversized one arrives whole and decode()
// rejects it by its size instead of seeing it truncated.
constexpr size_t kReceiveBufferBytes = 65536;

std::vector<IpAddress> listen_addresses(const ListenConfig &listen) {
  if (!listen.addresses.empty()) return listen.addresses;
  return {*proto::parse_ip_address("::")};
}

}  // namespace

proto::Result<std::unique_ptr<Server>, std::string> Server::start(const NvadConfig &config,
                                                                   proto::KeyTable keys,
                                                                   std::unique_ptr<Store> store,
                                                                   const Clock &clock) {
  int stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (stop_fd < 0) return std::string("eventfd: ") + std::strerror(errno);
  std::unique_ptr<Server> server(new Server(config, std::move(keys), std::move(store), clock, stop_fd));
  // A shared store is read when this nvad is elected (run_cluster), not now.
  if (server->store_ && !server->store_->shared()) {
    auto loaded = server->store_->load();
    if (!loaded) return loaded.error().message;
    size_t bindings = loaded->bindings.size();
    server->registrar_.restore(std::move(loaded).value());
    size_t pending = 0;
    for (const auto &[key, binding] : server->registrar_.cache()) pending += binding.pending_notifications();
    spdlog::info("restored {} binding(s) with {} pending notification(s) from {}", bindings, pending,
                 config.db_path);
  }
  if (auto error = server->open_sockets()) return *error;
  return server;
}

Server::Server(const NvadConfig &config, proto::KeyTable keys, std::unique_ptr<Store> store,
               const Clock &clock, int stop_fd)
    : config_(config),
      keys_(std::move(keys)),
      store_(std::move(store)),
      clock_(clock),
      registrar_(config.policy, clock),
      stop_fd_(stop_fd),
      limited_log_(config.rejection_log_interval, clock),
      buffer_(kReceiveBufferBytes) {}

Server::~Server() {
  if (stop_fd_ >= 0) close(stop_fd_);
}

std::optional<std::string> Server::open_sockets() {
  auto addresses = listen_addresses(config_.listen);
  // "::" and an IPv4 address on the same port would collide unless the IPv6
  // socket leaves IPv4 alone.
  bool has_ipv4 = std::ranges::any_of(addresses, [](const IpAddress &a) { return a.is_v4(); });
  for (const auto &address : addresses) {
    std::string error;
    auto socket = UdpSocket::open(address, config_.listen.port, has_ipv4, error);
    if (!socket) return error;
    int granted = 0;
    if (auto failed = socket->set_receive_buffer(static_cast<int>(config_.listen.receive_buffer), granted))
      spdlog::warn("listen.receive_buffer: {} (the kernel's default stays)", *failed);
    spdlog::info("listening on {} port {} (receive buffer {} KiB)", address.to_string(), socket->local_port(),
                 granted / 2 / 1024);
    sockets_.push_back(std::move(*socket));
  }
  return std::nullopt;
}

std::vector<uint16_t> Server::local_ports() const {
  std::vector<uint16_t> ports;
  for (const auto &socket : sockets_) ports.push_back(socket.local_port());
  return ports;
}

void Server::request_stop() {
  stop_.store(true);
  uint64_t one = 1;
  // write() is async-signal-safe; if the counter is somehow full, poll()
  // is awake already.
  [[maybe_unused]] ssize_t n = write(stop_fd_, &one, sizeof one);
}

void Server::run() {
  log_activity();  // the baseline: the first line counts from here
  while (!stop_.load()) run_once(std::nullopt);
  spdlog::info("nvad stopping: {} binding(s) kept in the store", registrar_.cache().size());
}

int Server::poll_timeout_ms(std::optional<std::chrono::milliseconds> max_wait) const {
  int cap = max_wait ? static_cast<int>(max_wait->count()) : -1;
  auto deadline = serving() ? registrar_.next_deadline() : std::nullopt;
  if (cluster_) deadline = deadline ? std::min(*deadline, cluster_->next_tick()) : cluster_->next_tick();
  if (resync_needed_ && cluster_ && cluster_->role() == Cluster::Role::Leader) {
    const Instant retry = resync_tried_ + std::chrono::seconds(1);
    deadline = deadline ? std::min(*deadline, retry) : retry;
  }
  if (!deadline) return cap;
  // Rounded up: waking before the deadline would find nothing due and spin.
  auto wait = std::chrono::ceil<std::chrono::milliseconds>(*deadline - clock_.now()).count();
  int timeout = static_cast<int>(std::clamp<int64_t>(wait, 0, 24 * 3600 * 1000));
  return cap < 0 ? timeout : std::min(timeout, cap);
}

void Server::run_once(std::optional<std::chrono::milliseconds> max_wait) {
  std::vector<pollfd> fds;
  for (const auto &socket : sockets_) fds.push_back({socket.fd(), POLLIN, 0});
  fds.push_back({stop_fd_, POLLIN, 0});
  for (const auto &w : watches_) fds.push_back({w.fd, POLLIN, 0});
  int timeout = poll_timeout_ms(max_wait);
  if (!watches_.empty()) timeout = timeout < 0 ? 50 : std::min(timeout, 50);
  // Wake for the activity line too (log_activity), even with nothing due.
  const int activity_ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(config_.activity_log_interval).count());
  timeout = timeout < 0 ? activity_ms : std::min(timeout, activity_ms);
  int ready = poll(fds.data(), fds.size(), timeout);
  if (ready < 0 && errno != EINTR) spdlog::error("poll: {}", std::strerror(errno));
  for (size_t i = 0; ready > 0 && i < sockets_.size(); i++)
    if (fds[i].revents & POLLIN) receive_batch(sockets_[i]);
  for (auto &w : watches_) w.on_ready();  // cheap when idle: accept() fails at once
  if (fds[sockets_.size()].revents & POLLIN) {
    uint64_t count = 0;
    [[maybe_unused]] ssize_t n = read(stop_fd_, &count, sizeof count);
  }
  run_cluster();
  resync_if_needed();
  if (serving()) execute(registrar_.on_timers(), nullptr);
  log_activity();
}

bool Server::serving() const {
  return !cluster_ || (cluster_->role() == Cluster::Role::Leader && !resync_needed_);
}

void Server::run_cluster() {
  if (!cluster_) return;
  if (auto change = cluster_->tick()) on_role_change(*change);
}

void Server::on_role_change(const Cluster::Change &change) {
  const auto level = change.to == Cluster::Role::Leader ? spdlog::level::info : spdlog::level::warn;
  spdlog::log(level, "cluster: {} -> {}: {}", Cluster::role_name(change.from), Cluster::role_name(change.to),
              change.why);
  // Elected: read the store, which the previous leader wrote. Deposed: what
  // is in memory goes stale from now on, and is read again if elected.
  resync_needed_ = true;
  resync_tried_ = Instant{};
  // Another instance leads: it exports the host routes now, from the store,
  // and what this one announced would go stale (a VM that moves again),
  // whether it led until now or was cut off from etcd while leading. An
  // instance cut off from etcd keeps announcing: nobody else is known to.
  // (Withdrawing what was never announced changes nothing.)
  if (change.to == Cluster::Role::Standby) withdraw_exported({});
}

void Server::withdraw_exported(const std::set<BindingKey> &kept) {
  if (!binding_observer_) return;
  for (const auto &[key, binding] : registrar_.cache())
    if (!kept.contains(key)) binding_observer_(key, nullptr);
}

void Server::resync_if_needed() {
  if (!resync_needed_ || !store_) return;
  if (cluster_ && cluster_->role() != Cluster::Role::Leader) return;
  const Instant now = clock_.now();
  if (resync_tried_ != Instant{} && now - resync_tried_ < std::chrono::seconds(1)) return;
  resync_tried_ = now;
  auto loaded = store_->load();
  if (!loaded) {
    spdlog::error("{}; requests answered 130 until the store can be read", loaded.error().message);
    if (cluster_) cluster_->store_failed(loaded.error().message);
    return;
  }
  const size_t bindings = loaded->bindings.size();
  std::set<BindingKey> read;
  if (binding_observer_)
    for (const auto &binding : loaded->bindings) read.insert(binding.key());
  withdraw_exported(read);  // what another leader erased meanwhile
  registrar_.restore(std::move(loaded).value());
  size_t pending = 0;
  for (const auto &[key, binding] : registrar_.cache()) pending += binding.pending_notifications();
  resync_needed_ = false;
  if (cluster_) cluster_->store_recovered();
  spdlog::info("serving: read {} binding(s) with {} pending notification(s) from the store", bindings, pending);
  if (binding_observer_)  // the route export follows the store's view
    for (const auto &[key, binding] : registrar_.cache()) binding_observer_(key, &binding);
}

void Server::answer_not_serving(const Inbound &in, UdpSocket &socket) {
  Counters &counters = registrar_.counters();
  if (!in.message.is_request()) {  // an acknowledgement for the leader: it retransmits there
    counters.drop(DropReason::NotServing);
    return;
  }
  const bool standby = cluster_ && cluster_->role() == Cluster::Role::Standby;
  const auto status = standby ? proto::Status::NotActiveManagementNode : proto::Status::InsufficientResources;
  counters.requests_received++;
  counters.reject(status);
  log_limited(spdlog::level::info, in.peer, proto::status_name(status),
              "request from " + in.peer.to_string() + " answered " + std::to_string(static_cast<int>(status)) +
                  " (" + proto::status_name(status) + "): " +
                  (standby ? "this nvad is a standby" : "the store cannot be read or written"));
  if (send(Outgoing{{in.peer, in.port}, proto::make_reply(in.message, status, 0)}, &socket)) counters.replies_sent++;
}

void Server::log_activity() {
  const Duration interval = config_.activity_log_interval;
  const Instant now = clock_.now();
  if (activity_logged_at_ != Instant{} && now - activity_logged_at_ < interval) return;
  const Counters &c = registrar_.counters();
  uint64_t refused = 0;
  for (const auto &[status, n] : c.rejected) refused += n;
  const ActivitySnapshot current{c.registrations, c.moves, c.deregistrations, c.refreshes, refused};
  const bool first = activity_logged_at_ == Instant{};
  activity_logged_at_ = now;
  if (first) {
    activity_logged_ = current;
    return;
  }
  const ActivitySnapshot &was = activity_logged_;
  if (current.registrations == was.registrations && current.moves == was.moves &&
      current.deregistrations == was.deregistrations && current.refreshes == was.refreshes && current.refused == was.refused)
    return;
  spdlog::info("last {} s: {} registration(s), {} move(s), {} de-registration(s), {} refresh(es), {} refused; "
               "{} binding(s) (per VM: log level debug, or nvectl -d nvad show bindings)",
               std::chrono::duration_cast<std::chrono::seconds>(interval).count(),
               current.registrations - was.registrations, current.moves - was.moves,
               current.deregistrations - was.deregistrations, current.refreshes - was.refreshes,
               current.refused - was.refused, registrar_.cache().size());
  activity_logged_ = current;
}

void Server::receive_batch(UdpSocket &socket) {
  std::string error;
  for (int i = 0; i < kReceiveBatch; i++) {
    auto datagram = socket.receive(buffer_, error);
    if (!datagram) {
      if (!error.empty()) spdlog::warn("{}", error);
      break;
    }
    handle_datagram(socket, std::span(buffer_).first(datagram->size), *datagram);
  }
  commit_batch();
}

void Server::handle_datagram(UdpSocket &socket, std::span<const uint8_t> bytes,
                             const ReceivedDatagram &from) {
  Counters &counters = registrar_.counters();
  counters.datagrams_received++;
  auto admitted = admit(bytes, from.from, from.port, keys_);
  if (!admitted) {
    const GateDrop &drop = admitted.error();
    // Counted once, as the drop it is: without a key nothing was answered,
    // so it is no rejection (docs/protocol.md 5.3 step 2).
    counters.drop(drop.reason);
    log_limited(spdlog::level::warn, from.from, drop_reason_name(drop.reason),
                "dropped datagram from " + from.from.to_string() + " port " +
                    std::to_string(from.port) + ": " + drop_reason_name(drop.reason) + ": " + drop.detail);
    return;
  }
  const Inbound &in = admitted.value();
  // Where this NVE reaches us: replies, and later notifications, leave from
  // that address (an NVE checks its management node's address).
  if (from.local.family) local_for_peer_[in.peer] = from.local;
  if (!serving()) return answer_not_serving(in, socket);
  Outcome outcome = in.message.is_request() ? registrar_.handle_request(in) : registrar_.handle_reply(in);
  if (outcome.dropped)  // a duplicate or a late reply: routine, hence debug
    log_limited(spdlog::level::debug, in.peer, drop_reason_name(*outcome.dropped),
                "ignored message from " + in.peer.to_string() + ": " +
                    drop_reason_name(*outcome.dropped));
  batch_.push_back({std::move(outcome), &socket});
}

void Server::execute(Outcome outcome, UdpSocket *arrived_on) {
  batch_.push_back({std::move(outcome), arrived_on});
  commit_batch();
}

void Server::commit_batch() {
  if (batch_.empty()) return;
  std::vector<Pending> batch;
  batch.swap(batch_);
  std::vector<StoreWrite> writes;
  for (auto &pending : batch)
    for (auto &write : pending.outcome.writes) writes.push_back(std::move(write));
  Counters &counters = registrar_.counters();
  // Persist before telling anyone: an NVE must never hold a reply for a
  // binding that a crash right now would lose. One commit for what a whole
  // receive batch changed (group commit): one SQLite transaction, or one
  // etcd transaction per 100 keys, instead of one per request.
  if (store_ && !writes.empty()) {
    if (auto error = store_->apply(writes)) {
      counters.store_errors++;
      if (!store_->shared()) {
        spdlog::error("{} (the binding cache in memory stays authoritative)", error->message);
      } else {
        // Not durable, so not acknowledged: no reply, no notification. The
        // NVEs retransmit (new requests) and find the cache read again.
        log_limited(spdlog::level::err, IpAddress{}, "store",
                    error->message + "; nothing acknowledged (" + std::to_string(batch.size()) + " message(s))");
        resync_needed_ = true;
        if (cluster_) cluster_->store_failed(error->message);
        if (error->kind == StoreError::Kind::Fenced && cluster_)
          if (auto change = cluster_->lost(error->message)) on_role_change(*change);
        return;
      }
    }
  }
  if (binding_observer_)
    for (const auto &write : writes) {
      if (const auto *put = std::get_if<PutBinding>(&write)) binding_observer_(put->binding.key(), &put->binding);
      else if (const auto *erase = std::get_if<EraseBinding>(&write)) binding_observer_(erase->key, nullptr);
    }
  for (const auto &[outcome, arrived_on] : batch) {
    if (outcome.rejection) {
      const Rejection &r = *outcome.rejection;
      log_limited(spdlog::level::warn, r.peer, proto::status_name(r.status),
                  "rejected request from " + r.peer.to_string() + ": " + proto::status_name(r.status) +
                      ": " + r.reason);
    }
    if (outcome.reply && send(*outcome.reply, arrived_on)) counters.replies_sent++;
    // Notifications leave from the address each NVE last sent to (below).
    for (const auto &notification : outcome.notifications) send(notification, nullptr);
  }
}

UdpSocket *Server::socket_for(const IpAddress &peer, UdpSocket *preferred) {
  if (preferred && preferred->can_reach(peer)) return preferred;
  for (auto &socket : sockets_)
    if (socket.can_reach(peer)) return &socket;
  return nullptr;
}

bool Server::send(const Outgoing &outgoing, UdpSocket *preferred) {
  const IpAddress &peer = outgoing.to.address;
  std::optional<std::string> error;
  auto wire = seal(outgoing.message, peer, keys_);
  UdpSocket *socket = socket_for(peer, preferred);
  if (!wire) error = wire.error();
  else if (!socket) error = "no listening socket of the family of " + peer.to_string();
  else {
    auto local = local_for_peer_.find(peer);
    error = socket->send(wire.value(), outgoing.to.address, outgoing.to.port,
                         local == local_for_peer_.end() ? IpAddress{} : local->second);
  }
  if (!error) return true;
  registrar_.counters().send_errors++;
  log_limited(spdlog::level::warn, peer, "send", "cannot send to " + peer.to_string() + ": " + *error);
  return false;
}

void Server::log_limited(spdlog::level::level_enum level, const IpAddress &peer,
                         const std::string &reason, const std::string &line) {
  if (!spdlog::should_log(level)) return;
  if (auto admitted = limited_log_.admit(peer, reason, line)) spdlog::log(level, "{}", *admitted);
}

bool Server::clear_flap(const BindingKey &key) {
  auto outcome = registrar_.clear_flap(key);
  if (!outcome) return false;
  execute(std::move(*outcome), nullptr);
  return true;
}

nlohmann::json Server::state_json() const {
  return {{"bindings", bindings_json()}, {"peers", peers_json()}, {"protocol_stats", protocol_stats_json()}};
}

nlohmann::json Server::peers_json() const { return nvad::peers_json(registrar_, &keys_); }
nlohmann::json Server::protocol_stats_json() const {
  nlohmann::json j = nvad::protocol_stats_json(registrar_);
  // Lost before nvad could see them: the sockets' buffers were full.
  uint64_t kernel = 0;
  for (const auto &socket : sockets_) kernel += socket.kernel_drops();
  j["dropped"]["receive_buffer_full"] = kernel;
  return j;
}
nlohmann::json Server::bindings_json() const { return nvad::bindings_json(registrar_.cache(), clock_); }
nlohmann::json Server::bindings_page_json(const std::optional<BindingKey> &after, size_t limit,
                                          std::optional<BindingKey> &next) const {
  return nvad::bindings_page_json(registrar_.cache(), clock_, after, limit, next);
}

}  // namespace nvmove::nvad
