#include "tests/support/dataplane_testbed.h"

#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace nvmove::dp::testbed {

IpAddress addr(const char *text) {
  auto a = IpAddress::parse(text);
  if (!a) throw std::invalid_argument(std::string("test bed: not an address: ") + text);
  return *a;
}

FabricParams fabric() {
  FabricParams f;
  f.port = 0;
  f.port_mac = kFabricMac;
  f.gateway_mac_v4 = kGwMac;
  f.gateway_mac_v6 = kGwMac;
  f.own_v4 = addr("192.0.2.1");
  f.own_v6 = addr("2001:db8::1");
  return f;
}

DataplaneSettings settings() {
  DataplaneSettings s;
  s.ports[0].role = PortRole::Fabric;
  std::memcpy(s.ports[0].mac, kFabricMac.data(), 6);
  s.ports[1].role = PortRole::Access;
  std::memcpy(s.ports[1].mac, kAccessMac.data(), 6);
  s.ports[2].role = PortRole::Access;
  s.ports[2].vlan = 100;
  std::memcpy(s.ports[2].mac, kAccessMac.data(), 6);
  const FabricParams f = fabric();
  s.has_v4 = s.has_v6 = true;
  std::memcpy(s.own_v4, f.own_v4.bytes.data(), 4);
  std::memcpy(s.own_v6, f.own_v6.bytes.data(), 16);
  VnEndpoint &e = s.vn_endpoints[s.n_vn_endpoints++];
  e.vn = 5;
  e.family = kFamilyV4;
  std::memcpy(e.addr, addr("192.0.2.5").bytes.data(), 4);
  s.tunnel_peers[s.n_tunnel_peers++] = *IpPrefix::parse("198.51.100.0/24");
  s.tunnel_peers[s.n_tunnel_peers++] = *IpPrefix::parse("2001:db8::/64");
  return s;
}

std::vector<RouteChange> routes() {
  std::vector<RouteChange> b;
  auto add = [&b](uint32_t vn, const char *a, RouteAction action) {
    RouteChange c;
    c.route = {vn, addr(a)};
    c.action = action;
    b.push_back(c);
  };
  add(0, "10.0.0.5", DeliverLocal{1, kVmMac, 0});
  add(0, "fd00::5", DeliverLocal{1, kVmMac, 0});
  add(0, "10.0.0.9", TunnelToNve{addr("198.51.100.2")});
  add(0, "fd00::9", TunnelToNve{addr("2001:db8::2")});
  add(0, "10.0.0.10", TunnelToNve{addr("2001:db8::2")});
  add(0, "fd00::10", TunnelToNve{addr("2001:db8::2")});
  add(5, "10.0.0.5", DeliverLocal{1, kVn5VmMac, 0});
  add(0, "192.0.2.5", OwnEndpoint{5});
  return b;
}

void wire_worker(WorkerContext &ctx, const DataplaneSettings &s, const RouteTable &table, uint16_t worker,
                 rte_rcu_qsbr *qsbr, rte_mempool *frag_direct, rte_mempool *frag_indirect) {
  ctx.settings = &s;
  ctx.routes = table.view();
  ctx.worker_id = worker;
  ctx.qsbr_thread_id = worker;
  ctx.my_stats = ctx.routes.stats[worker];
  ctx.qsbr = qsbr;
  ctx.frag_direct = frag_direct;
  ctx.frag_indirect = frag_indirect;
  ctx.tsc_hz = 1000000000;
}

Fixture::Fixture(const std::string &tag, uint32_t route_capacity) : settings_(testbed::settings()) {
  pool_ = rte_pktmbuf_pool_create(("tb_pool" + tag).c_str(), 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  direct_ = rte_pktmbuf_pool_create(("tb_dir" + tag).c_str(), 511, 0, 0, RTE_PKTMBUF_HEADROOM + 128, 0);
  indirect_ = rte_pktmbuf_pool_create(("tb_ind" + tag).c_str(), 511, 0, 0, 0, 0);
  large_ = rte_pktmbuf_pool_create(("tb_large" + tag).c_str(), 63, 0, 0, RTE_PKTMBUF_HEADROOM + 9216 + 18, 0);
  qsbr_ = static_cast<rte_rcu_qsbr *>(rte_zmalloc(("tb_q" + tag).c_str(), rte_rcu_qsbr_get_memsize(1), 64));
  if (!pool_ || !direct_ || !indirect_ || !large_ || !qsbr_) throw std::runtime_error("test bed: out of DPDK memory");
  rte_rcu_qsbr_init(qsbr_, 1);
  RouteTableConfig rc;
  rc.name = "tb_routes" + tag;
  rc.capacity = route_capacity;
  routes_ = std::make_unique<RouteTable>(rc, qsbr_);
  routes_->set_fabric(testbed::fabric());
  const auto b = testbed::routes();
  if (routes_->apply(b).applied != b.size()) throw std::runtime_error("test bed: routes not installed");
  ctx_ = std::make_unique<WorkerContext>();
  wire_worker(*ctx_, settings_, *routes_, 0, qsbr_, direct_, indirect_);
}

Fixture::~Fixture() {
  drain_outputs();
  ctx_.reset();
  routes_.reset();
  rte_free(qsbr_);
  rte_mempool_free(indirect_);
  rte_mempool_free(direct_);
  rte_mempool_free(pool_);
  rte_mempool_free(large_);
}

rte_mbuf *Fixture::mbuf(const uint8_t *bytes, size_t len) {
  const bool large = len > RTE_MBUF_DEFAULT_DATAROOM;
  rte_mbuf *m = rte_pktmbuf_alloc(large ? large_ : pool_);
  if (!m) throw std::runtime_error("test bed: out of mbufs");
  auto *to = rte_pktmbuf_append(m, static_cast<uint16_t>(len));
  if (!to) throw std::runtime_error("test bed: frame larger than any mbuf");
  std::memcpy(to, bytes, len);
  // The rest of the buffer, headroom and tailroom, not left as the last
  // packet wrote it: a read past the data finds a pattern no frame has.
  std::memset(m->buf_addr, 0xa5, m->data_off);
  std::memset(to + len, 0xa5, rte_pktmbuf_tailroom(m));
  return m;
}

rte_mbuf *Fixture::chain(const uint8_t *bytes, size_t len, size_t first, size_t rest) {
  rte_mbuf *head = nullptr, *tail = nullptr;
  for (size_t off = 0; off < len || head == nullptr;) {
    const size_t n = std::min(len - off, head == nullptr ? first : rest);
    rte_mbuf *seg = mbuf(bytes + off, n);
    if (head == nullptr) {
      head = tail = seg;
    } else {
      tail->next = seg;
      tail = seg;
      head->nb_segs++;
      head->pkt_len += static_cast<uint32_t>(n);
    }
    off += n;
  }
  return head;
}

void Fixture::drain_outputs() {
  if (!ctx_) return;
  for (auto &q : ctx_->out) {
    rte_pktmbuf_free_bulk(q.pkts, q.n);
    q.n = 0;
  }
}

unsigned Fixture::in_use() const {
  return rte_mempool_in_use_count(pool_) + rte_mempool_in_use_count(direct_) + rte_mempool_in_use_count(indirect_) +
         rte_mempool_in_use_count(large_);
}

}  // namespace nvmove::dp::testbed
