#include "control/base/udp_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <utility>
#include <cerrno>
#include <cstring>


namespace nvmove {
namespace {

constexpr std::array<uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

socklen_t to_sockaddr(const IpAddress &address, uint16_t port, bool as_v6, sockaddr_storage &out) {
  std::memset(&out, 0, sizeof out);
  if (!as_v6) {
    auto &sin = reinterpret_cast<sockaddr_in &>(out);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::memcpy(&sin.sin_addr, address.bytes.data(), 4);
    return sizeof sin;
  }
  auto &sin6 = reinterpret_cast<sockaddr_in6 &>(out);
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  if (address.is_v4()) {  // IPv4-mapped, through a dual-stack socket
    std::memcpy(sin6.sin6_addr.s6_addr, kMappedPrefix.data(), kMappedPrefix.size());
    std::memcpy(sin6.sin6_addr.s6_addr + 12, address.bytes.data(), 4);
  } else {
    std::memcpy(sin6.sin6_addr.s6_addr, address.bytes.data(), 16);
  }
  return sizeof sin6;
}

std::pair<IpAddress, uint16_t> from_sockaddr(const sockaddr_storage &in) {
  IpAddress address;
  if (in.ss_family == AF_INET) {
    const auto &sin = reinterpret_cast<const sockaddr_in &>(in);
    address.family = 4;
    std::memcpy(address.bytes.data(), &sin.sin_addr, 4);
    return {address, ntohs(sin.sin_port)};
  }
  const auto &sin6 = reinterpret_cast<const sockaddr_in6 &>(in);
  const uint8_t *raw = sin6.sin6_addr.s6_addr;
  if (std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), raw)) {
    address.family = 4;
    std::memcpy(address.bytes.data(), raw + 12, 4);
  } else {
    address.family = 6;
    std::memcpy(address.bytes.data(), raw, 16);
  }
  return {address, ntohs(sin6.sin6_port)};
}

std::string errno_text(const std::string &what) { return what + ": " + std::strerror(errno); }

// DSCP CS6, network control (docs/protocol.md section 2): registrations are
// most needed exactly when a move storm congests the fabric. Best effort: a
// failure only loses the marking.
constexpr int kTrafficClassCs6 = 48 << 2;

void mark_cs6(int fd, bool ipv6) {
  int value = kTrafficClassCs6;
  // IP_TOS also applies to IPv4 traffic through a dual-stack IPv6 socket.
  setsockopt(fd, IPPROTO_IP, IP_TOS, &value, sizeof value);
  if (ipv6) setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &value, sizeof value);
}

}  // namespace

std::optional<UdpSocket> UdpSocket::open(const IpAddress &address, uint16_t port, bool v6_only,
                                         std::string &error) {
  const std::string where = address.to_string() + " port " + std::to_string(port);
  int fd = socket(address.is_v6() ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = errno_text("socket for " + where);
    return std::nullopt;
  }
  UdpSocket sock(fd, address, address.is_v4() || v6_only, 0);
  if (address.is_v6()) {
    // Explicit either way: the system default (net.ipv6.bindv6only) varies.
    int only = v6_only ? 1 : 0;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only) != 0) {
      error = errno_text("IPV6_V6ONLY on " + where);
      return std::nullopt;
    }
  }
  mark_cs6(fd, address.is_v6());
  // Every datagram then says how many the kernel dropped so far for want of
  // buffer space: a loss that would otherwise be silent.
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
  // On a wildcard socket, each datagram also says which of our addresses
  // it was sent to, so the answer can leave from that one.
  if (sock.wildcard()) {
    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
    if (address.is_v6()) setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
  }
  sockaddr_storage local{};
  socklen_t length = to_sockaddr(address, port, address.is_v6(), local);
  if (bind(fd, reinterpret_cast<sockaddr *>(&local), length) != 0) {
    error = errno_text("bind to " + where);
    return std::nullopt;
  }
  length = sizeof local;
  if (getsockname(fd, reinterpret_cast<sockaddr *>(&local), &length) != 0) {
    error = errno_text("getsockname on " + where);
    return std::nullopt;
  }
  sock.local_port_ = from_sockaddr(local).second;
  return sock;
}

UdpSocket::UdpSocket(UdpSocket &&other) noexcept { *this = std::move(other); }

UdpSocket &UdpSocket::operator=(UdpSocket &&other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    address_ = other.address_;
    v6_only_ = other.v6_only_;
    local_port_ = other.local_port_;
    kernel_drops_ = other.kernel_drops_;
  }
  return *this;
}

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) close(fd_);
}

bool UdpSocket::can_reach(const IpAddress &peer) const {
  if (address_.is_v4()) return peer.is_v4();
  return peer.is_v6() || !v6_only_;
}

std::optional<std::string> UdpSocket::set_receive_buffer(int bytes, int &granted) {
  if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0 &&
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) != 0)
    return errno_text("SO_RCVBUF " + std::to_string(bytes));
  socklen_t len = sizeof granted;
  if (getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &granted, &len) != 0) return errno_text("getsockopt SO_RCVBUF");
  return std::nullopt;
}

std::optional<ReceivedDatagram> UdpSocket::receive(std::span<uint8_t> buffer, std::string &error) {
  error.clear();
  sockaddr_storage from{};
  iovec iov{buffer.data(), buffer.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(in6_pktinfo)) +
                                CMSG_SPACE(sizeof(in_pktinfo))];
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = recvmsg(fd_, &msg, 0);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) error = errno_text("recvmsg");
    return std::nullopt;
  }
  IpAddress local;
  for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
      uint32_t dropped;
      std::memcpy(&dropped, CMSG_DATA(c), sizeof dropped);
      kernel_drops_ = dropped;  // cumulative since the socket opened
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      local.family = 4;
      std::memcpy(local.bytes.data(), &info.ipi_addr, 4);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      sockaddr_storage as{};
      auto &sin6 = reinterpret_cast<sockaddr_in6 &>(as);
      sin6.sin6_family = AF_INET6;
      sin6.sin6_addr = info.ipi6_addr;
      local = from_sockaddr(as).first;  // an IPv4-mapped address becomes IPv4
    }
  }
  auto [address, port] = from_sockaddr(from);
  return ReceivedDatagram{address, port, static_cast<size_t>(n), local};
}

bool UdpSocket::wildcard() const {
  return std::all_of(address_.bytes.begin(), address_.bytes.begin() + (address_.is_v4() ? 4 : 16),
                     [](uint8_t b) { return b == 0; });
}

std::optional<std::string> UdpSocket::send(std::span<const uint8_t> bytes, const IpAddress &to, uint16_t port,
                                           const IpAddress &from) {
  if (!can_reach(to)) return "socket on " + address_.to_string() + " cannot reach " + to.to_string();
  sockaddr_storage remote{};
  socklen_t length = to_sockaddr(to, port, address_.is_v6(), remote);
  iovec iov{const_cast<uint8_t *>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_name = &remote;
  msg.msg_namelen = length;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
  if (from.family == to.family && from.family != 0 && wildcard()) {
    msg.msg_control = control;
    cmsghdr *c = reinterpret_cast<cmsghdr *>(control);
    if (!address_.is_v6()) {
      in_pktinfo info{};
      std::memcpy(&info.ipi_spec_dst, from.bytes.data(), 4);
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof info);
      std::memcpy(CMSG_DATA(c), &info, sizeof info);
      msg.msg_controllen = CMSG_SPACE(sizeof info);
    } else {
      in6_pktinfo info{};
      sockaddr_storage as{};
      to_sockaddr(from, 0, true, as);  // IPv4-mapped for an IPv4 peer on a dual-stack socket
      info.ipi6_addr = reinterpret_cast<sockaddr_in6 &>(as).sin6_addr;
      c->cmsg_level = IPPROTO_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof info);
      std::memcpy(CMSG_DATA(c), &info, sizeof info);
      msg.msg_controllen = CMSG_SPACE(sizeof info);
    }
  }
  ssize_t n = sendmsg(fd_, &msg, 0);
  if (n < 0) return errno_text("sendto " + to.to_string() + " port " + std::to_string(port));
  return std::nullopt;
}

}  // namespace nvmove
