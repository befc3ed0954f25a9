// The agent's UDP socket toward nvad: the base UdpSocket (non-blocking, CS6
// marked as docs/protocol.md asks), polled by nved's control thread, IPv4 or
// IPv6 by the local address it is bound to.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "control/agent/nve_agent.h"
#include "control/base/udp_socket.h"

namespace nvmove::agent {

class UdpTransport final : public AgentTransport {
 public:
  // Binds local:port (port 0 = any). Throws std::runtime_error.
  UdpTransport(const IpAddress &local, uint16_t port);

  void send(const IpAddress &to, uint16_t port, std::span<const uint8_t> datagram) override;
  // Reads every pending datagram; returns how many.
  int poll(const std::function<void(const IpAddress &, uint16_t, std::span<const uint8_t>)> &on_datagram);
  uint64_t send_errors() const { return send_errors_; }
  uint16_t local_port() const { return socket_.local_port(); }

 private:
  static UdpSocket open(const IpAddress &local, uint16_t port);

  UdpSocket socket_;
  std::vector<uint8_t> buffer_;  // larger than any datagram
  uint64_t send_errors_ = 0;
};

}  // namespace nvmove::agent
