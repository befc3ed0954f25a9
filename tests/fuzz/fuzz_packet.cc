// libFuzzer target: arbitrary frames through the whole burst pipeline (parse,
// validation, ARP/ND/echo, decapsulation, lookup, encapsulation, ICMP errors,
// fragmentation) on both port roles. Any crash, sanitizer report or leaked
// mbuf is a bug. The first input byte picks the ingress port and tunnel MTU.
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dataplane/classify.h"
#include "dataplane/burst_pipeline.h"
#include "dataplane/route_table.h"

using namespace nvmove;
using namespace nvmove::dp;

namespace {
rte_mempool *g_pool, *g_direct, *g_indirect;
RouteTable *g_routes;
DataplaneSettings g_settings;
WorkerContext *g_ctx;

IpAddress addr(const char *s) { return *IpAddress::parse(s); }

void setup() {
  std::string prefix = "--file-prefix=nvfuzz" + std::to_string(getpid());
  std::vector<std::string> args = {"fuzz", "--no-huge", "-m", "256", "--no-pci", "-l", "0",
                                   "--log-level", "*:error", prefix, "--no-shconf"};
  std::vector<char *> av;
  for (auto &a : args) av.push_back(a.data());
  if (rte_eal_init(static_cast<int>(av.size()), av.data()) < 0) std::abort();
  g_pool = rte_pktmbuf_pool_create("fz_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  g_direct = rte_pktmbuf_pool_create("fz_dir", 511, 0, 0, RTE_PKTMBUF_HEADROOM + 128, 0);
  g_indirect = rte_pktmbuf_pool_create("fz_ind", 511, 0, 0, 0, 0);
  auto *q = static_cast<rte_rcu_qsbr *>(rte_zmalloc("fz_q", rte_rcu_qsbr_get_memsize(1), 64));
  rte_rcu_qsbr_init(q, 1);
  RouteTableConfig rc;
  rc.name = "fz_routes";
  rc.capacity = 64;
  g_routes = new RouteTable(rc, q);
  FabricParams f;
  f.port_mac = {2, 0, 0, 0, 0, 1};
  f.gateway_mac_v4 = f.gateway_mac_v6 = MacAddress{2, 0, 0, 0, 0, 0xfe};
  f.own_v4 = addr("192.0.2.1");
  f.own_v6 = addr("2001:db8::1");
  g_routes->set_fabric(f);
  std::vector<RouteChange> b(6);
  const char *dst[] = {"10.0.0.5", "fd00::5", "10.0.0.9", "fd00::9", "10.0.0.10", "fd00::10"};
  for (int i = 0; i < 6; i++) {
    b[i].route = {0, addr(dst[i])};
    if (i < 2) b[i].action = DeliverLocal{1, {2, 0, 0, 0, 1, 1}, static_cast<uint16_t>(i ? 0 : 0)};
    else if (i < 4) b[i].action = TunnelToNve{addr("198.51.100.2")};
    else b[i].action = TunnelToNve{addr("2001:db8::2")};
  }
  g_routes->apply(b);
  g_settings.ports[0].role = PortRole::Fabric;
  g_settings.ports[1].role = PortRole::Access;
  g_settings.ports[2].role = PortRole::Access;
  g_settings.ports[2].vlan = 100;
  g_settings.has_v4 = g_settings.has_v6 = true;
  std::memcpy(g_settings.own_v4, f.own_v4.bytes.data(), 4);
  std::memcpy(g_settings.own_v6, f.own_v6.bytes.data(), 16);
  g_ctx = new WorkerContext();
  g_ctx->settings = &g_settings;
  g_ctx->routes = g_routes->view();
  g_ctx->my_stats = g_ctx->routes.stats[0];
  g_ctx->frag_direct = g_direct;
  g_ctx->frag_indirect = g_indirect;
  g_ctx->tsc_hz = 1000000000;
}
rte_mbuf *frame_mbuf(const uint8_t *data, size_t size) {
  rte_mbuf *m = rte_pktmbuf_alloc(g_pool);
  if (!m) std::abort();
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(size)), data, size);
  return m;
}

// The straight-line classifier may only accept what the full one passes to
// the lookup, with the same meta, key and hash (dataplane/classify.h).
void check_common_agrees_with_full(uint16_t port, const uint8_t *data, size_t size) {
  const PortSettings &ps = g_settings.ports[port];
  if (ps.vlan != 0) return;  // process_burst never calls it on tagged ports
  rte_mbuf *a = frame_mbuf(data, size);
  PacketMeta pa{}, pb{};
  RouteKey ka, kb;
  uint32_t sa = 0, sb = 0;
  const bool common = classify_common(g_settings, ps, key_prefix(ingress_vn(g_settings, ps)), port, a, pa, ka, sa);
  if (common) {
    rte_mbuf *b = frame_mbuf(data, size);
    if (classify_full(*g_ctx, b, port, pb, kb, sb) != Verdict::Lookup) std::abort();
    const auto off = [](const PacketMeta &pm, rte_mbuf *m) { return pm.l3 - rte_pktmbuf_mtod(m, uint8_t *); };
    if (off(pa, a) != off(pb, b) || pa.l3_len != pb.l3_len || pa.family != pb.family ||
        pa.decapped != pb.decapped || pa.in_port != pb.in_port || pa.frame_off != pb.frame_off ||
        pa.l2_len != pb.l2_len || pa.vlan_tci != pb.vlan_tci || std::memcmp(&ka, &kb, sizeof ka) != 0 ||
        sa != sb || sa != route_key_hash(ka))
      std::abort();
    rte_pktmbuf_free(b);
  }
  rte_pktmbuf_free(a);
  g_ctx->counters.clear();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_ctx) setup();
  if (size < 1) return 0;
  const uint16_t port = data[0] % 3;
  g_settings.tunnel_mtu = static_cast<uint16_t>(576 + (data[0] >> 2) * 16);
  g_settings.default_forward = data[0] & 0x80;
  data++;
  size--;
  if (size > RTE_MBUF_DEFAULT_DATAROOM) size = RTE_MBUF_DEFAULT_DATAROOM;
  g_settings.verify_ipv4_checksum = !(data[-1] & 0x40);
  check_common_agrees_with_full(port, data, size);
  rte_mbuf *m = rte_pktmbuf_alloc(g_pool);
  if (!m) std::abort();
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(size)), data, size);
  process_burst(*g_ctx, port, &m, 1);
  for (auto &q : g_ctx->out) {
    for (uint16_t i = 0; i < q.n; i++) {
      // Every output must be a sane frame.
      if (rte_pktmbuf_pkt_len(q.pkts[i]) < 14 || rte_pktmbuf_pkt_len(q.pkts[i]) > 9000) std::abort();
    }
    rte_pktmbuf_free_bulk(q.pkts, q.n);
    q.n = 0;
  }
  // No mbuf may leak: everything allocated went out or was freed.
  if (rte_mempool_in_use_count(g_pool) != 0 || rte_mempool_in_use_count(g_direct) != 0 ||
      rte_mempool_in_use_count(g_indirect) != 0)
    std::abort();
  return 0;
}
