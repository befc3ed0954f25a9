// Ethernet port bring-up: queues, RSS where the port has several RX queues,
// checksum offload only where the port reports it, link-state logging.
#pragma once

#include <cstdint>
#include <string>

#include "common/net_types.h"

struct rte_mempool;

namespace nvmove::drivers {

struct PortSetup {
  uint16_t port_id = 0;
  uint16_t rx_queues = 1;
  uint16_t tx_queues = 1;
  // Queues RSS spreads over, when fewer than rx_queues (rte_flow's control
  // queue takes only what rules steer to it); 0: every RX queue.
  uint16_t rss_queues = 0;
  uint16_t rx_desc = 1024;
  uint16_t tx_desc = 1024;
  uint16_t mtu = 1500;  // above the driver's max_mtu: port_start throws, naming both
  rte_mempool *pool = nullptr;
};

struct PortInfo {
  std::string driver;
  MacAddress mac{};
  uint16_t rx_queues = 0;  // as configured (may be fewer than asked)
  uint16_t tx_queues = 0;
  bool tx_ipv4_cksum = false;
  bool rx_ipv4_cksum = false;
  bool lsc_interrupt = false;
  bool rss = false;
  uint64_t rss_types = 0;  // the hash types RSS uses (IP, UDP, TCP as the port has them)
  // Sends chained mbufs (RTE_ETH_TX_OFFLOAD_MULTI_SEGS). Without it (net_af_xdp
  // copies only the first segment) the fast path sends chains linearized.
  bool tx_multi_seg = false;
  // RTE_ETH_RX_OFFLOAD_SCATTER asked for: frames above one mbuf arrive as chains.
  bool rx_scatter = false;
};

// "port 0 (0000:3b:02.0)": how logs and errors name a port (DPDK's device name).
std::string port_name(uint16_t port_id);

// The port's driver ("net_mlx5"), or "?".
std::string port_driver(uint16_t port_id);

// Highest RX / TX queue counts the port supports.
void port_queue_limits(uint16_t port_id, uint16_t &max_rx, uint16_t &max_tx);

// Configures and starts the port. Throws std::runtime_error naming the port
// and DPDK's reason.
PortInfo port_start(const PortSetup &setup);

// Stops and closes (net_pcap writes its output file on close).
void port_stop(uint16_t port_id);

}  // namespace nvmove::drivers
