#include "control/nvxdp/fragment_sender.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <span>
#include <stdexcept>

#include "control/nvxdp/packet_socket.h"
#include "drivers/xdp/nve_xdp_abi.h"
#include "drivers/xdp/xdp_fragments.h"

namespace nvmove {

FragmentSender::~FragmentSender() {
  for (const int fd : sockets_) close(fd);
}

void FragmentSender::listen(unsigned ifindex, const std::string &interface) {
  // Only the slow path's EtherType (the program drops such frames from the
  // wire: only it makes them), with room for a burst of them; the kernel's
  // drops are read back (PACKET_STATISTICS) and counted as failures.
  sockets_.push_back(open_packet_socket(ifindex, interface, NVE_XDP_SLOW_ETHERTYPE, nullptr, 8 << 20));
}

void FragmentSender::fail(uint64_t now_ms, const std::string &why) {
  failures_++;
  if (now_ms < next_log_ms_) {
    unlogged_++;
    return;
  }
  spdlog::warn("slow path: a packet too big for its tunnel not fragmented: {}{}", why,
               unlogged_ ? " (and " + std::to_string(unlogged_) + " more since the last report)" : "");
  unlogged_ = 0;
  next_log_ms_ = now_ms + 10000;
}

// One frame from the program, cut and sent (drivers::slow_path_output); why
// it was not, else.
std::optional<std::string> FragmentSender::handle(int fd, std::span<const uint8_t> frame) {
  std::string why;
  const auto output = drivers::slow_path_output(routes_, frame, tunnel_mtu_, dscp_set_, ip_id_, why);
  if (!output) return why;
  const dp::TunnelTemplate &t = output->t;
  const auto out = interfaces_.find(t.out_port);
  if (out == interfaces_.end()) return "no interface for port " + std::to_string(t.out_port);
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  std::memcpy(&to.sll_protocol, t.hdr + 12, 2);  // the outer header's EtherType, as the frame has it
  to.sll_ifindex = static_cast<int>(out->second);
  to.sll_halen = 6;
  std::memcpy(to.sll_addr, t.hdr, 6);  // the gateway's MAC
  for (const auto &piece : output->pieces) {
    if (sendto(fd, piece.data(), piece.size(), 0, reinterpret_cast<sockaddr *>(&to), sizeof to) < 0)
      return std::string("send on ifindex ") + std::to_string(out->second) + ": " + std::strerror(errno);
    fragments_++;
  }
  packets_++;
  return std::nullopt;
}

void FragmentSender::poll(uint64_t now_ms) {
  static thread_local std::vector<uint8_t> frame(16384);
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(tpacket_auxdata))];
  for (const int fd : sockets_) {
    for (int budget = 1024; budget > 0; budget--) {  // one busy port cannot hold the loop
      iovec iov{frame.data(), frame.size()};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      const ssize_t n = recvmsg(fd, &msg, MSG_TRUNC);
      if (n <= 0) break;
      bool tagged = false;  // the kernel took a VLAN tag off: never the program's frame
      for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
        tpacket_auxdata aux;
        std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
        tagged = tagged || (aux.tp_status & TP_STATUS_VLAN_VALID);
      }
      std::optional<std::string> why;
      if (tagged) why = "a VLAN-tagged frame: not the program's";
      else if (static_cast<size_t>(n) > frame.size()) why = "a frame of " + std::to_string(n) + " bytes";
      else why = handle(fd, std::span<const uint8_t>(frame.data(), static_cast<size_t>(n)));
      if (why) fail(now_ms, *why);
    }
    tpacket_stats st{};
    socklen_t len = sizeof st;
    if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0 && st.tp_drops) {
      failures_ += st.tp_drops - 1;  // (fail() counts one)
      fail(now_ms, std::to_string(st.tp_drops) + " frame(s) dropped by the kernel: the socket's buffer was full");
    }
  }
}

}  // namespace nvmove
