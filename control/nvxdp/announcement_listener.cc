#include "control/nvxdp/announcement_listener.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "control/nved/vm_announcement.h"
#include "control/nvxdp/packet_socket.h"

namespace nvmove {

namespace {

// ARP, or IPv6 carrying ICMPv6 type 136 (a Neighbour Advertisement) right
// behind its header, as the frame reaches the socket (the kernel has taken
// any VLAN tag off): everything else stays out of this process.
sock_filter kFilter[] = {
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),                // ethertype
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 5, 0),  // ARP: accept
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 5),
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 6),            // next header
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 3),
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 40),           // ICMPv6 type
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 136, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, 0xffff),                     // accept
    BPF_STMT(BPF_RET | BPF_K, 0),                          // drop
};

}  // namespace

AnnouncementListener::~AnnouncementListener() {
  for (const Socket &s : sockets_) close(s.fd);
}

void AnnouncementListener::listen(uint16_t port, unsigned ifindex, const std::string &interface) {
  sock_fprog prog{static_cast<unsigned short>(sizeof kFilter / sizeof kFilter[0]), kFilter};
  sockets_.push_back({open_packet_socket(ifindex, interface, ETH_P_ALL, &prog), port});
}

void AnnouncementListener::poll() {
  uint8_t frame[1600];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(tpacket_auxdata))];
  for (const Socket &s : sockets_) {
    for (int budget = 64; budget > 0; budget--) {  // a flood of ARP cannot hold the loop
      iovec iov{frame, sizeof frame};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      const ssize_t n = recvmsg(s.fd, &msg, 0);
      if (n <= 0) break;
      auto a = parse_vm_announcement(frame, static_cast<size_t>(n));
      if (!a) continue;
      for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
        tpacket_auxdata aux;
        std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
        if (aux.tp_status & TP_STATUS_VLAN_VALID) a->vlan = aux.tp_vlan_tci & 0xfff;
      }
      announcements_++;
      announce_(s.port, a->vlan, a->mac, a->address);
    }
  }
}

}  // namespace nvmove
