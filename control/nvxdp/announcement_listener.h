// VMs announcing themselves on nvxdp's access ports (seed 003 section 8):
// the gratuitous ARP or unsolicited Neighbour Advertisement a VM sends once
// it has moved in, which activates it if it is associated here (as nved's
// control thread does with the frames its workers hand it). The XDP program
// passes ARP and ND to the kernel, so a packet socket per access interface
// sees them (a classic BPF filter keeps everything else out); parsing is
// nved's (control/nved/vm_announcement.h). A VLAN tag the kernel took off
// the frame comes back from the socket's auxiliary data.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/net_types.h"

namespace nvmove {

class AnnouncementListener {
 public:
  using Announce = std::function<void(uint16_t port, uint16_t vlan, const MacAddress &mac, const IpAddress &address)>;
  explicit AnnouncementListener(Announce announce) : announce_(std::move(announce)) {}
  ~AnnouncementListener();
  AnnouncementListener(const AnnouncementListener &) = delete;
  AnnouncementListener &operator=(const AnnouncementListener &) = delete;

  // Listens on `interface` (nved's port `port`). Throws std::runtime_error.
  void listen(uint16_t port, unsigned ifindex, const std::string &interface);
  // Reads what has arrived; never blocks.
  void poll();
  uint64_t announcements() const { return announcements_; }

 private:
  struct Socket {
    int fd;
    uint16_t port;
  };
  Announce announce_;
  std::vector<Socket> sockets_;
  uint64_t announcements_ = 0;
};

}  // namespace nvmove
