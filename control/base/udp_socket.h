// A non-blocking UDP socket bound to one address, speaking IpAddress, with
// the protocol's CS6 marking (docs/protocol.md section 2): nvad's sockets and
// nved's agent socket are this one class. An
// IPv6 socket bound to "::" without v6_only also serves IPv4 peers, which it
// sees as IPv4-mapped addresses (::ffff:a.b.c.d); those are turned back into
// plain IPv4 here, so the key file and the binding cache see one spelling.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common/net_types.h"

namespace nvmove {

struct ReceivedDatagram {
  IpAddress from;
  uint16_t port = 0;
  size_t size = 0;
  // The address the datagram was sent to (from IP_PKTINFO / IPV6_PKTINFO on
  // a socket bound to a wildcard address; unset otherwise). Answering from
  // it is what the sender expects: it checks replies come from the address
  // it sent to.
  IpAddress local;
};

class UdpSocket {
 public:
  // Binds address:port (port 0: the kernel chooses). nullopt with `error`
  // set (naming the address and the system's reason) on failure.
  static std::optional<UdpSocket> open(const IpAddress &address, uint16_t port, bool v6_only, std::string &error);
  UdpSocket(UdpSocket &&other) noexcept;
  UdpSocket &operator=(UdpSocket &&other) noexcept;
  UdpSocket(const UdpSocket &) = delete;
  UdpSocket &operator=(const UdpSocket &) = delete;
  ~UdpSocket();

  int fd() const { return fd_; }
  uint16_t local_port() const { return local_port_; }
  const IpAddress &local_address() const { return address_; }
  // Whether a datagram to `peer` can leave through this socket.
  bool can_reach(const IpAddress &peer) const;

  // The kernel's receive buffer for this socket, in bytes (SO_RCVBUF; as
  // root beyond net.core.rmem_max with SO_RCVBUFFORCE). A burst of
  // registrations larger than the buffer is lost in the kernel: counted in
  // kernel_drops(). Returns the size the kernel granted (it doubles the
  // request for its bookkeeping) or an error.
  std::optional<std::string> set_receive_buffer(int bytes, int &granted);
  // Datagrams the kernel dropped because this socket's buffer was full
  // (SO_RXQ_OVFL), as of the last datagram received: the kernel stamps each
  // datagram with the count when it queues it, so a burst's losses show with
  // the next datagram after it.
  uint64_t kernel_drops() const { return kernel_drops_; }

  // One waiting datagram into `buffer`; nullopt when none is waiting, or on
  // an error (put in `error`, empty when simply none was waiting).
  std::optional<ReceivedDatagram> receive(std::span<uint8_t> buffer, std::string &error);
  // nullopt when sent, else why not. `from`: the source address to use on a
  // socket bound to a wildcard address (family 0: the kernel's choice).
  std::optional<std::string> send(std::span<const uint8_t> bytes, const IpAddress &to, uint16_t port,
                                  const IpAddress &from = IpAddress{});
  // Bound to 0.0.0.0 or ::: the kernel picks each reply's source unless told.
  bool wildcard() const;

 private:
  UdpSocket(int fd, IpAddress address, bool v6_only, uint16_t local_port)
      : fd_(fd), address_(address), v6_only_(v6_only), local_port_(local_port) {}

  int fd_ = -1;
  IpAddress address_;
  bool v6_only_ = true;
  uint16_t local_port_ = 0;
  uint64_t kernel_drops_ = 0;
};

}  // namespace nvmove
