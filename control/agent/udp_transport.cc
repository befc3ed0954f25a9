#include "control/agent/udp_transport.h"

#include <spdlog/spdlog.h>

#include <stdexcept>

namespace nvmove::agent {

UdpSocket UdpTransport::open(const IpAddress &local, uint16_t port) {
  std::string error;
  auto socket = UdpSocket::open(local, port, /*v6_only=*/true, error);
  if (!socket) throw std::runtime_error("agent socket: " + error);
  return std::move(*socket);
}

UdpTransport::UdpTransport(const IpAddress &local, uint16_t port) : socket_(open(local, port)), buffer_(65536) {}

void UdpTransport::send(const IpAddress &to, uint16_t port, std::span<const uint8_t> datagram) {
  if (auto error = socket_.send(datagram, to, port)) {
    send_errors_++;
    spdlog::warn("agent: {}", *error);
  }
}

int UdpTransport::poll(const std::function<void(const IpAddress &, uint16_t, std::span<const uint8_t>)> &on_datagram) {
  int n = 0;
  std::string error;
  while (auto got = socket_.receive(buffer_, error)) {
    on_datagram(got->from, got->port, std::span<const uint8_t>(buffer_.data(), got->size));
    n++;
  }
  if (!error.empty()) spdlog::warn("agent: {}", error);
  return n;
}

}  // namespace nvmove::agent
