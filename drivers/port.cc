#include "drivers/port.h"

#include <rte_ethdev.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace nvmove::drivers {

std::string port_name(uint16_t port_id) {
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  rte_eth_dev_get_name_by_port(port_id, name);
  return "port " + std::to_string(port_id) + " (" + name + ")";
}

namespace {

[[noreturn]] void fail(uint16_t port_id, const std::string &what, int rc) {
  throw std::runtime_error(port_name(port_id) + ": " + what + ": " + rte_strerror(-rc));
}

int on_link_change(uint16_t port_id, rte_eth_event_type, void *, void *) {
  rte_eth_link link{};
  if (rte_eth_link_get_nowait(port_id, &link) == 0) {
    char text[RTE_ETH_LINK_MAX_STR_LEN];
    rte_eth_link_to_str(text, sizeof text, &link);
    spdlog::info("{}: {}", port_name(port_id), text);
  }
  return 0;
}

}  // namespace

std::string port_driver(uint16_t port_id) {
  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(port_id, &info) != 0 || !info.driver_name) return "?";
  return info.driver_name;
}

void port_queue_limits(uint16_t port_id, uint16_t &max_rx, uint16_t &max_tx) {
  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(port_id, &info) != 0) {
    max_rx = max_tx = 1;
    return;
  }
  max_rx = info.max_rx_queues;
  max_tx = info.max_tx_queues;
}

PortInfo port_start(const PortSetup &s) {
  if (!rte_eth_dev_is_valid_port(s.port_id))
    throw std::runtime_error("port " + std::to_string(s.port_id) +
                             " does not exist: give one -a/--vdev per configured port");
  rte_eth_dev_info info{};
  int rc = rte_eth_dev_info_get(s.port_id, &info);
  if (rc != 0) fail(s.port_id, "cannot read device info", rc);

  PortInfo out;
  out.driver = info.driver_name ? info.driver_name : "?";
  out.rx_queues = std::min<uint16_t>(s.rx_queues, info.max_rx_queues);
  out.tx_queues = s.tx_queues;
  if (s.tx_queues > info.max_tx_queues)
    throw std::runtime_error(port_name(s.port_id) + ": needs " + std::to_string(s.tx_queues) +
                             " TX queues (one per worker), has " +
                             std::to_string(info.max_tx_queues));

  rte_eth_conf conf{};
  out.rss_types = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP) & info.flow_type_rss_offloads;
  const uint16_t spread = s.rss_queues ? std::min(s.rss_queues, out.rx_queues) : out.rx_queues;
  if (spread > 1 && out.rss_types) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = out.rss_types;
    out.rss = true;
  }
  // Offload only what the port says it can do; the fast path computes in
  // software otherwise.
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
    out.tx_ipv4_cksum = true;
  }
  if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
    conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
    out.rx_ipv4_cksum = true;
  }
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) {
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    out.tx_multi_seg = true;
  }
  // Fragments we produce are chained mbufs: never free them as if simple.
  conf.txmode.offloads &= ~RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
  if (*info.dev_flags & RTE_ETH_DEV_INTR_LSC) {
    conf.intr_conf.lsc = 1;
    out.lsc_interrupt = true;
  }

  // The frame the MTU implies (ethdev adds the Ethernet header and CRC) must
  // fit the driver's largest frame too: net_af_packet's is 1518 in DPDK 22.11.
  const uint32_t frame = s.mtu + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
  if (s.mtu > info.max_mtu || s.mtu < info.min_mtu || frame > info.max_rx_pktlen)
    throw std::runtime_error(port_name(s.port_id) + ": mtu " + std::to_string(s.mtu) + " is outside what driver " +
                             out.driver + " allows (mtu " + std::to_string(info.min_mtu) + ".." +
                             std::to_string(info.max_mtu) + ", frames up to " + std::to_string(info.max_rx_pktlen) +
                             " bytes)");
  conf.rxmode.mtu = s.mtu;
  // workers.rx_scatter: frames larger than an mbuf arrive as chains, which
  // the driver must be able to build: RX scatter, or net_pcap, which chains
  // a long frame by itself (without offering the offload). Any other driver
  // would drop every jumbo frame: refused, naming the way out.
  const uint32_t room = rte_pktmbuf_data_room_size(s.pool) - RTE_PKTMBUF_HEADROOM;
  if (frame > room) {
    if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) {
      conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
      out.rx_scatter = true;
    } else if (out.driver != "net_pcap") {
      throw std::runtime_error(port_name(s.port_id) + ": frames up to " + std::to_string(frame) + " bytes (mtu " +
                               std::to_string(s.mtu) + ") on " + std::to_string(room) + "-byte mbufs need RX scatter, which driver " +
                               out.driver + " does not offer: set workers.rx_scatter: false (mbufs that hold the largest frame)");
    }
  }
  rc = rte_eth_dev_configure(s.port_id, out.rx_queues, out.tx_queues, &conf);
  if (rc != 0) fail(s.port_id, "configure", rc);
  uint16_t rxd = s.rx_desc, txd = s.tx_desc;
  rc = rte_eth_dev_adjust_nb_rx_tx_desc(s.port_id, &rxd, &txd);
  if (rc != 0) fail(s.port_id, "adjust descriptors", rc);
  const int socket = rte_eth_dev_socket_id(s.port_id);
  const unsigned sock = socket < 0 ? 0 : static_cast<unsigned>(socket);
  for (uint16_t q = 0; q < out.rx_queues; q++) {
    rc = rte_eth_rx_queue_setup(s.port_id, q, rxd, sock, nullptr, s.pool);
    if (rc != 0) fail(s.port_id, "RX queue " + std::to_string(q), rc);
  }
  rte_eth_txconf txc = info.default_txconf;
  txc.offloads = conf.txmode.offloads;
  for (uint16_t q = 0; q < out.tx_queues; q++) {
    rc = rte_eth_tx_queue_setup(s.port_id, q, txd, sock, &txc);
    if (rc != 0) fail(s.port_id, "TX queue " + std::to_string(q), rc);
  }
  if (out.lsc_interrupt)
    rte_eth_dev_callback_register(s.port_id, RTE_ETH_EVENT_INTR_LSC, on_link_change, nullptr);

  rte_ether_addr mac{};
  rc = rte_eth_macaddr_get(s.port_id, &mac);
  if (rc != 0) fail(s.port_id, "read MAC address", rc);
  std::memcpy(out.mac.data(), mac.addr_bytes, 6);

  rc = rte_eth_dev_start(s.port_id);
  if (rc != 0) fail(s.port_id, "start", rc);
  // Access ports receive frames for every VM MAC behind them; the fabric port
  // is addressed to our MAC, but promiscuous costs nothing on a VF that
  // filters anyway and is needed on virtual ports.
  rte_eth_promiscuous_enable(s.port_id);
  spdlog::info("{}: driver {}, MAC {}, {} RX / {} TX queues{}{}, IPv4 checksums: RX {}, TX {}, TX chains {}",
               port_name(s.port_id), out.driver, mac_to_string(out.mac), out.rx_queues, out.tx_queues,
               out.rss ? ", RSS" : "", out.rx_scatter ? ", RX scatter" : "", out.rx_ipv4_cksum ? "offload" : "software",
               out.tx_ipv4_cksum ? "offload" : "software", out.tx_multi_seg ? "yes" : "copied");
  return out;
}

void port_stop(uint16_t port_id) {
  rte_eth_dev_stop(port_id);
  rte_eth_dev_close(port_id);
}

}  // namespace nvmove::drivers
