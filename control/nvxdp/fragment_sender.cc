#include "control/nvxdp/fragment_sender.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "drivers/xdp/nve_xdp_abi.h"
#include "drivers/xdp/xdp_fragments.h"

namespace nvmove {

FragmentSender::~FragmentSender() {
  for (const int fd : sockets_) close(fd);
}

void FragmentSender::listen(unsigned ifindex, const std::string &interface) {
  // Protocol 0 until bind(): then only the slow path's EtherType, on this
  // interface (the program drops such frames from the wire: only it makes them).
  const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("packet socket on " + interface + ": " + std::strerror(errno));
  const int on = 1;
  sockaddr_ll at{};
  at.sll_family = AF_PACKET;
  at.sll_protocol = htons(NVE_XDP_SLOW_ETHERTYPE);
  at.sll_ifindex = static_cast<int>(ifindex);
  if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &on, sizeof on) != 0 ||
      bind(fd, reinterpret_cast<sockaddr *>(&at), sizeof at) != 0) {
    const std::string why = std::strerror(errno);
    close(fd);
    throw std::runtime_error("packet socket on " + interface + ": " + why);
  }
  sockets_.push_back(fd);
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

void FragmentSender::poll(uint64_t now_ms) {
  static thread_local std::vector<uint8_t> frame(16384);
  for (const int fd : sockets_) {
    for (int budget = 64; budget > 0; budget--) {  // one busy port cannot hold the loop
      const ssize_t n = recv(fd, frame.data(), frame.size(), MSG_TRUNC);
      if (n <= 0) break;
      if (static_cast<size_t>(n) > frame.size()) {
        fail(now_ms, "a frame of " + std::to_string(n) + " bytes");
        continue;
      }
      std::string why;
      const auto slow = drivers::parse_slow_frame(std::span<const uint8_t>(frame.data(), static_cast<size_t>(n)), why);
      if (!slow) {
        fail(now_ms, why);
        continue;
      }
      const auto t = routes_.tunnel_template(slow->nve);
      if (!t) {
        fail(now_ms, "NVE " + std::to_string(slow->nve) + " is gone");
        continue;
      }
      const auto out = interfaces_.find(t->out_port);
      if (out == interfaces_.end()) {
        fail(now_ms, "no interface for port " + std::to_string(t->out_port));
        continue;
      }
      const auto pieces = drivers::fragment_into_tunnel(slow->inner, *t, tunnel_mtu_, dscp_set_, ip_id_);
      if (pieces.empty()) {
        fail(now_ms, "cannot be fragmented for tunnel.mtu " + std::to_string(tunnel_mtu_));
        continue;
      }
      sockaddr_ll to{};
      to.sll_family = AF_PACKET;
      to.sll_protocol = htons(ETH_P_IP);  // (the outer header's family does not matter to the driver)
      to.sll_ifindex = static_cast<int>(out->second);
      to.sll_halen = 6;
      std::memcpy(to.sll_addr, t->hdr, 6);  // the gateway's MAC
      bool sent = true;
      for (const auto &piece : pieces) {
        if (sendto(fd, piece.data(), piece.size(), 0, reinterpret_cast<sockaddr *>(&to), sizeof to) < 0) {
          fail(now_ms, std::string("send on ifindex ") + std::to_string(out->second) + ": " + std::strerror(errno));
          sent = false;
          break;
        }
        fragments_++;
      }
      if (sent) packets_++;
    }
  }
}

}  // namespace nvmove
