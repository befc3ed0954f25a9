#include "control/nvad/exabgp_export.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "control/ctl/ctl_socket.h"

namespace nvmove::nvad {
namespace {

std::string host_prefix(const IpAddress &a) { return a.to_string() + (a.is_v4() ? "/32" : "/128"); }

std::string bracketed(const std::vector<std::string> &items) {
  std::string out = "[";
  for (const auto &i : items) out += (out.size() > 1 ? " " : "") + i;
  return out + "]";
}

// A speaker with this much output waiting that it has not read is dropped
// (it reconnects and gets everything again): the queue cannot grow without
// bound.
constexpr size_t kMaxQueuedBytes = 64u << 20;

}  // namespace

std::string exabgp_command(bool announce, const IpAddress &address, const IpAddress &next_hop,
                           const ExportPolicy &policy) {
  std::string line = std::string(announce ? "announce" : "withdraw") + " route " + host_prefix(address) +
                     " next-hop " + next_hop.to_string();
  if (!announce) return line;
  line += " origin igp";
  if (!policy.communities.empty()) line += " community " + bracketed(policy.communities);
  if (!policy.large_communities.empty()) line += " large-community " + bracketed(policy.large_communities);
  return line;
}

ExaBgpExport::ExaBgpExport(const ExportPolicy &policy, const Clock &clock) : policy_(policy), clock_(clock) {
  listen_fd_ = ctl::listen_unix(policy_.socket, "export socket");
}

ExaBgpExport::~ExaBgpExport() {
  for (auto &c : conns_) ::close(c.fd);
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    ::unlink(policy_.socket.c_str());
  }
}

RouteBatchResult ExaBgpExport::apply(std::span<const RouteChange> batch) {
  RouteBatchResult result;
  for (size_t i = 0; i < batch.size(); i++) {
    const RouteChange &c = batch[i];
    auto it = routes_.find(c.route);
    if (c.op == RouteChange::Op::Remove) {
      if (it == routes_.end()) {
        result.errors.push_back({i, "not exported"});
        continue;
      }
      send_all(exabgp_command(false, c.route.address, it->second.next_hop, policy_));
      counters_.withdrawn++;
      routes_.erase(it);
      result.applied++;
      continue;
    }
    const auto *tunnel = std::get_if<TunnelToNve>(&c.action);
    if (!tunnel) {
      result.errors.push_back({i, "only a next hop can be exported"});
      continue;
    }
    if (it == routes_.end() && routes_.size() >= policy_.max_routes) {
      counters_.over_limit++;
      result.errors.push_back({i, "export.max_routes (" + std::to_string(policy_.max_routes) + ") reached"});
      continue;
    }
    if (it == routes_.end()) it = routes_.emplace(c.route, Entry{tunnel->nve, clock_.wall_ns()}).first;
    else it->second = Entry{tunnel->nve, clock_.wall_ns()};
    send_all(exabgp_command(true, c.route.address, tunnel->nve, policy_));
    counters_.announced++;
    result.applied++;
  }
  return result;
}

std::optional<RouteView> ExaBgpExport::find(const HostRoute &route) const {
  auto it = routes_.find(route);
  if (it == routes_.end()) return std::nullopt;
  RouteView v;
  v.route = route;
  v.action = TunnelToNve{it->second.next_hop};
  return v;
}

void ExaBgpExport::send_all(const std::string &line) {
  for (auto &c : conns_) c.out += line + "\n";
}

void ExaBgpExport::accept_new() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN: nothing waiting (or a transient error: next pass)
    Conn c;
    c.fd = fd;
    c.connected_wall_ns = clock_.wall_ns();
    c.out = "#sync begin\n";
    for (const auto &[route, e] : routes_) c.out += exabgp_command(true, route.address, e.next_hop, policy_) + "\n";
    c.out += "#sync end\n";
    counters_.announced += routes_.size();
    counters_.speaker_connects++;
    spdlog::info("BGP speaker connected to the export socket: {} route(s) sent", routes_.size());
    conns_.push_back(std::move(c));
  }
}

bool ExaBgpExport::service(Conn &c) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return false;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return false;
    }
    c.in.append(buf, static_cast<size_t>(n));
  }
  for (size_t nl; (nl = c.in.find('\n')) != std::string::npos; c.in.erase(0, nl + 1)) {
    const std::string line = c.in.substr(0, nl);
    if (line == "done") counters_.acknowledged++;
    else if (line.rfind("error", 0) == 0) {
      counters_.refused++;
      // Once per 10 s: a speaker refusing every command must not drown the log.
      if (auto admitted = refusal_log_.admit(IpAddress{}, "speaker refused",
                                             "the BGP speaker refused a route command (" + line +
                                                 "): see ExaBGP's log; show exported counts them"))
        spdlog::warn("{}", *admitted);
    }
  }
  if (c.in.size() > 65536) c.in.clear();  // not ExaBGP's answers: ignore
  while (c.out_off < c.out.size()) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.out_off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return false;
  }
  if (c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
  }
  if (c.out.size() - c.out_off > kMaxQueuedBytes) {
    spdlog::warn("BGP speaker bridge reads nothing ({} bytes queued): disconnected, it will resync on reconnecting",
                 c.out.size() - c.out_off);
    return false;
  }
  return true;
}

void ExaBgpExport::poll() {
  accept_new();
  for (auto it = conns_.begin(); it != conns_.end();) {
    if (service(*it)) {
      ++it;
      continue;
    }
    ::close(it->fd);
    counters_.speaker_disconnects++;
    spdlog::warn("BGP speaker disconnected from the export socket (ExaBGP stopped or restarting); "
                 "it keeps or withdraws its routes by its own rules until a bridge reconnects");
    it = conns_.erase(it);
  }
  const Instant now = clock_.now();
  if (conns_.empty() && !routes_.empty() && now - warned_at_ >= std::chrono::minutes(1)) {
    warned_at_ = now;
    spdlog::warn("{} host route(s) to export and no BGP speaker connected to {} (is ExaBGP running with "
                 "nvmove-exabgp as its process?)",
                 routes_.size(), policy_.socket);
  }
}

nlohmann::json ExaBgpExport::json() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto &[route, e] : routes_)
    rows.push_back({{"vn", route.vn},
                    {"prefix", host_prefix(route.address)},
                    {"next_hop", e.next_hop.to_string()},
                    {"since_unix_ns", e.since_wall_ns}});
  return rows;
}

}  // namespace nvmove::nvad
