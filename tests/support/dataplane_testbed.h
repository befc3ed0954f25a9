// The dataplane test bed, written once: the unit tests (test_forward.cc),
// the packet fuzzer and the fast-path benchmark build their settings, route
// table contents and worker contexts here instead of each by hand. Its
// addresses are those of the traffic scenarios (tests/traffic/lib/nvtraffic.py):
//   port 0 fabric, MAC 02:00:00:00:00:01, gateway 02:00:00:00:00:fe;
//   port 1 access (VN 0), MAC 02:00:00:00:00:02; port 2 access, VLAN 100;
//   this NVE 192.0.2.1 / 2001:db8::1 (VN 0), 192.0.2.5 (VN 5);
//   tunnels accepted from 198.51.100.0/24 and 2001:db8::/64;
//   VM 10.0.0.5 / fd00::5 local (MAC 02:00:00:00:01:01), and in VN 5 on
//   port 1 (MAC 02:00:00:00:05:05); 10.0.0.9 / fd00::9 moved to
//   198.51.100.2 / 2001:db8::2; 10.0.0.10 / fd00::10 moved to 2001:db8::2.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dataplane/route_table.h"
#include "dataplane/settings.h"
#include "dataplane/worker_context.h"

struct rte_mempool;
struct rte_mbuf;
struct rte_rcu_qsbr;

namespace nvmove::dp::testbed {

inline const MacAddress kFabricMac{2, 0, 0, 0, 0, 1}, kAccessMac{2, 0, 0, 0, 0, 2}, kGwMac{2, 0, 0, 0, 0, 0xfe},
    kVmMac{2, 0, 0, 0, 1, 1}, kVn5VmMac{2, 0, 0, 0, 5, 5};

IpAddress addr(const char *text);

// Outer headers: our addresses, the fabric port's and the gateway's MACs.
FabricParams fabric();
// Ports, own addresses, the VN 5 endpoint and the tunnel peers above.
DataplaneSettings settings();
// The routes above (the own endpoint included).
std::vector<RouteChange> routes();
// A worker's context on `table`: settings, route view, its statistics slot,
// RCU slot and fragmentation pools.
void wire_worker(WorkerContext &ctx, const DataplaneSettings &s, const RouteTable &table, uint16_t worker,
                 rte_rcu_qsbr *qsbr, rte_mempool *frag_direct, rte_mempool *frag_indirect);

// Everything one worker needs, with the test bed installed (needs an EAL).
class Fixture {
 public:
  explicit Fixture(const std::string &tag, uint32_t route_capacity = 256);
  ~Fixture();
  Fixture(const Fixture &) = delete;
  Fixture &operator=(const Fixture &) = delete;

  RouteTable &table() { return *routes_; }
  DataplaneSettings &settings() { return settings_; }
  WorkerContext &ctx() { return *ctx_; }
  // A fresh view after route changes that may have grown the table.
  void refresh_view() { ctx_->routes = routes_->view(); }
  // One mbuf holding the frame (a jumbo one from a pool of large mbufs).
  rte_mbuf *mbuf(const uint8_t *bytes, size_t len);
  // The frame as a chain: `first` bytes in the first segment, `rest` in
  // each of the others (RX scatter, or a driver chaining a large frame).
  rte_mbuf *chain(const uint8_t *bytes, size_t len, size_t first, size_t rest);
  rte_mempool *pool() { return pool_; }  // where mbuf() takes them from
  rte_mempool *large_pool() { return large_; }  // mbufs of a 9216-byte frame
  // Frees what the worker's output stage holds, as transmitting would.
  void drain_outputs();
  // mbufs allocated and not yet freed, over all pools (a leak check).
  unsigned in_use() const;

 private:
  rte_mempool *pool_ = nullptr, *direct_ = nullptr, *indirect_ = nullptr, *large_ = nullptr;
  rte_rcu_qsbr *qsbr_ = nullptr;
  std::unique_ptr<RouteTable> routes_;
  DataplaneSettings settings_;
  std::unique_ptr<WorkerContext> ctx_;
};

}  // namespace nvmove::dp::testbed
