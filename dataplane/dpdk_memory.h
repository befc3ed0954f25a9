// Allocation failures from DPDK's heap. rte_malloc() does not set rte_errno,
// so "strerror(rte_errno)" would print whatever an earlier call left there:
// say what ran out and what the operator can do instead.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace nvmove::dp {

[[noreturn]] inline void throw_out_of_dpdk_memory(const std::string &what, size_t bytes) {
  throw std::runtime_error("cannot allocate " + what + " (" + std::to_string(bytes) +
                           " bytes): out of DPDK memory; give the EAL more (-m, or more hugepages) "
                           "or lower route_table.capacity / workers.mbufs");
}

}  // namespace nvmove::dp
