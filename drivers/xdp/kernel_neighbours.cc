#include "drivers/xdp/kernel_neighbours.h"

#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace nvmove::drivers {

namespace {

// States in which the entry's link-layer address is the neighbour's.
constexpr uint16_t kUsable = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;

struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace

std::map<IpAddress, MacAddress> kernel_neighbours(unsigned ifindex, uint8_t family) {
  std::map<IpAddress, MacAddress> found;
  Fd sock(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (sock.fd < 0) return found;
  timeval tv{1, 0};  // a dump of one interface's table: never this long
  setsockopt(sock.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct {
    nlmsghdr nh;
    ndmsg nd;
  } req{};
  req.nh.nlmsg_len = sizeof req;
  req.nh.nlmsg_type = RTM_GETNEIGH;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.nh.nlmsg_seq = 1;
  req.nd.ndm_family = family == 4 ? AF_INET : AF_INET6;
  req.nd.ndm_ifindex = static_cast<int>(ifindex);
  if (send(sock.fd, &req, sizeof req, 0) != static_cast<ssize_t>(sizeof req)) return found;
  const size_t alen = family == 4 ? 4 : 16;
  std::vector<char> buf(32 * 1024);
  for (;;) {
    const ssize_t got = recv(sock.fd, buf.data(), buf.size(), 0);
    if (got <= 0) return found;
    unsigned left = static_cast<unsigned>(got);
    for (auto *nh = reinterpret_cast<nlmsghdr *>(buf.data()); NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
      if (nh->nlmsg_type == NLMSG_DONE || nh->nlmsg_type == NLMSG_ERROR) return found;
      if (nh->nlmsg_type != RTM_NEWNEIGH) continue;
      const auto *nd = static_cast<const ndmsg *>(NLMSG_DATA(nh));
      // (Older kernels dump every interface whatever ndm_ifindex says.)
      if (nd->ndm_ifindex != static_cast<int>(ifindex) || !(nd->ndm_state & kUsable)) continue;
      const uint8_t *dst = nullptr, *lladdr = nullptr;
      size_t lladdr_len = 0;
      int len = static_cast<int>(RTM_PAYLOAD(nh));
      for (auto *a = reinterpret_cast<rtattr *>(reinterpret_cast<char *>(const_cast<ndmsg *>(nd)) +
                                                NLMSG_ALIGN(sizeof(ndmsg)));
           RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == NDA_DST && RTA_PAYLOAD(a) == alen) dst = static_cast<const uint8_t *>(RTA_DATA(a));
        if (a->rta_type == NDA_LLADDR) {
          lladdr = static_cast<const uint8_t *>(RTA_DATA(a));
          lladdr_len = RTA_PAYLOAD(a);
        }
      }
      if (dst && lladdr && lladdr_len == 6) {
        IpAddress a;
        a.family = family;
        std::memcpy(a.bytes.data(), dst, alen);
        std::memcpy(found[a].data(), lladdr, 6);
      }
    }
  }
}

std::optional<std::string> poke_neighbour(const std::string &interface, const IpAddress &address) {
  const bool v4 = address.is_v4();
  Fd sock(socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (sock.fd < 0) return std::string("socket: ") + std::strerror(errno);
  if (setsockopt(sock.fd, SOL_SOCKET, SO_BINDTODEVICE, interface.c_str(), static_cast<socklen_t>(interface.size())) != 0)
    return "bind to " + interface + ": " + std::strerror(errno);
  sockaddr_storage to{};
  socklen_t to_len;
  if (v4) {
    auto *s4 = reinterpret_cast<sockaddr_in *>(&to);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(9);  // discard
    std::memcpy(&s4->sin_addr, address.bytes.data(), 4);
    to_len = sizeof *s4;
  } else {
    auto *s6 = reinterpret_cast<sockaddr_in6 *>(&to);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(9);
    std::memcpy(&s6->sin6_addr, address.bytes.data(), 16);
    to_len = sizeof *s6;
  }
  if (sendto(sock.fd, "", 0, 0, reinterpret_cast<sockaddr *>(&to), to_len) != 0)
    return std::string("send: ") + std::strerror(errno);
  return std::nullopt;
}

}  // namespace nvmove::drivers
