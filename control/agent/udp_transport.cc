#include "control/agent/udp_transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace nvmove::agent {

namespace {
socklen_t to_sockaddr(const IpAddress &a, uint16_t port, sockaddr_storage &ss) {
  std::memset(&ss, 0, sizeof ss);
  if (a.is_v4()) {
    auto *s = reinterpret_cast<sockaddr_in *>(&ss);
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    std::memcpy(&s->sin_addr, a.bytes.data(), 4);
    return sizeof *s;
  }
  auto *s = reinterpret_cast<sockaddr_in6 *>(&ss);
  s->sin6_family = AF_INET6;
  s->sin6_port = htons(port);
  std::memcpy(&s->sin6_addr, a.bytes.data(), 16);
  return sizeof *s;
}
}  // namespace

UdpTransport::UdpTransport(const IpAddress &local, uint16_t port) : family_(local.family) {
  fd_ = ::socket(local.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("agent socket: ") + std::strerror(errno));
  sockaddr_storage ss;
  const socklen_t len = to_sockaddr(local, port, ss);
  if (::bind(fd_, reinterpret_cast<sockaddr *>(&ss), len) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd_);
    throw std::runtime_error("agent socket: cannot bind " + local.to_string() + " port " + std::to_string(port) + ": " + why);
  }
}

UdpTransport::~UdpTransport() {
  if (fd_ >= 0) ::close(fd_);
}

uint16_t UdpTransport::local_port() const {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  ::getsockname(fd_, reinterpret_cast<sockaddr *>(&ss), &len);
  return ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in *>(&ss)->sin_port
                                       : reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port);
}

void UdpTransport::send(const IpAddress &to, uint16_t port, std::span<const uint8_t> d) {
  if (to.family != family_) {
    send_errors_++;
    spdlog::error("agent socket is IPv{}, cannot reach {}", family_, to.to_string());
    return;
  }
  sockaddr_storage ss;
  const socklen_t len = to_sockaddr(to, port, ss);
  if (::sendto(fd_, d.data(), d.size(), 0, reinterpret_cast<sockaddr *>(&ss), len) < 0) {
    send_errors_++;
    spdlog::warn("send to {} port {}: {}", to.to_string(), port, std::strerror(errno));
  }
}

int UdpTransport::poll(const std::function<void(const IpAddress &, uint16_t, std::span<const uint8_t>)> &cb) {
  int n = 0;
  uint8_t buf[65536];
  for (;;) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    const ssize_t r = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr *>(&ss), &len);
    if (r < 0) break;
    IpAddress from;
    uint16_t port;
    if (ss.ss_family == AF_INET) {
      auto *s = reinterpret_cast<sockaddr_in *>(&ss);
      from.family = 4;
      std::memcpy(from.bytes.data(), &s->sin_addr, 4);
      port = ntohs(s->sin_port);
    } else {
      auto *s = reinterpret_cast<sockaddr_in6 *>(&ss);
      from.family = 6;
      std::memcpy(from.bytes.data(), &s->sin6_addr, 16);
      port = ntohs(s->sin6_port);
    }
    cb(from, port, std::span<const uint8_t>(buf, static_cast<size_t>(r)));
    n++;
  }
  return n;
}

}  // namespace nvmove::agent
