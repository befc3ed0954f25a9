// A packet socket on one kernel interface, for what nvxdp reads there (VM
// announcements, the slow path's frames): non-blocking, VLAN tags the
// kernel took off reported (PACKET_AUXDATA), its own sends not read back,
// and nothing received before it is bound to `protocol` on the interface
// with `filter` (a classic BPF program, may be null) on.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>

namespace nvmove {

// The socket's fd; `receive_buffer` bytes of room if not 0. Throws
// std::runtime_error naming the interface.
int open_packet_socket(unsigned ifindex, const std::string &interface, uint16_t protocol, const sock_fprog *filter,
                       int receive_buffer = 0);

}  // namespace nvmove
