#include "control/nvxdp/packet_socket.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace nvmove {

int open_packet_socket(unsigned ifindex, const std::string &interface, uint16_t protocol, const sock_fprog *filter,
                       int receive_buffer) {
  // Protocol 0: nothing is received until bind(), by which time the filter
  // is on and the interface chosen.
  const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("packet socket on " + interface + ": " + std::strerror(errno));
  if (receive_buffer && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &receive_buffer, sizeof receive_buffer) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);  // (capped by net.core.rmem_max)
  const int on = 1;
  sockaddr_ll at{};
  at.sll_family = AF_PACKET;
  at.sll_protocol = htons(protocol);
  at.sll_ifindex = static_cast<int>(ifindex);
  if ((filter && setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, filter, sizeof *filter) != 0) ||
      setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &on, sizeof on) != 0 ||
      setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &on, sizeof on) != 0 ||
      bind(fd, reinterpret_cast<sockaddr *>(&at), sizeof at) != 0) {
    const std::string why = std::strerror(errno);
    close(fd);
    throw std::runtime_error("packet socket on " + interface + ": " + why);
  }
  return fd;
}

}  // namespace nvmove
