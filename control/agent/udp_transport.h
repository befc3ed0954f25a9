// The agent's UDP socket toward nvad: non-blocking, polled by the control
// thread, IPv4 or IPv6 by the local address it is bound to.
#pragma once

#include <functional>
#include <string>

#include "control/agent/nve_agent.h"

namespace nvmove::agent {

class UdpTransport final : public AgentTransport {
 public:
  // Binds local:port (port 0 = any). Throws std::runtime_error.
  UdpTransport(const IpAddress &local, uint16_t port);
  ~UdpTransport() override;
  UdpTransport(const UdpTransport &) = delete;
  UdpTransport &operator=(const UdpTransport &) = delete;

  void send(const IpAddress &to, uint16_t port, std::span<const uint8_t> datagram) override;
  // Reads every pending datagram; returns how many.
  int poll(const std::function<void(const IpAddress &, uint16_t, std::span<const uint8_t>)> &on_datagram);
  uint64_t send_errors() const { return send_errors_; }
  uint16_t local_port() const;

 private:
  int fd_ = -1;
  uint8_t family_ = 4;
  uint64_t send_errors_ = 0;
};

}  // namespace nvmove::agent
