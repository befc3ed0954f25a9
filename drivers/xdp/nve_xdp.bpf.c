// nvmove's second fast path, in the kernel's XDP hook (issue 16). The common
// path of the DPDK worker (dataplane/burst_pipeline.cc), on the same routes
// and with the same counters: an untagged IPv4 frame to the port's MAC,
// looked up as (port's VN, destination) in the host-route map, is delivered
// to a local VM (L2 rewritten, TTL decremented, redirected to its port) or
// tunnelled IPv4-in-IPv4 toward the NVE now serving it (RFC 2003; RFC 6040
// normal mode: the inner ECN copied, DSCP copied or set; DF copied; the
// outer header from the NVE's template, as the DPDK path writes it).
// Everything else goes to the kernel (XDP_PASS): ARP and ND, packets to our
// own addresses (tunnels to decapsulate, echo), TTL running out (the kernel
// sends Time Exceeded), packets too big for the tunnel, IPv4 options, IPv6,
// VLAN tags, and destinations without a host route. docs/xdp.md lists every
// difference from the DPDK path.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "drivers/xdp/nve_xdp_abi.h"

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1 << 20);
  __type(key, struct nve_xdp_key);
  __type(value, struct nve_xdp_route);
  __uint(map_flags, BPF_F_NO_PREALLOC);
} nve_routes SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, NVE_XDP_MAX_NVES);
  __type(key, __u32);
  __type(value, struct nve_xdp_nve);
} nve_nves SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, NVE_XDP_MAX_PORTS);
  __type(key, __u32);
  __type(value, struct nve_xdp_port);
} nve_ports SEC(".maps");

// Port index -> ifindex, for bpf_redirect_map.
struct {
  __uint(type, BPF_MAP_TYPE_DEVMAP);
  __uint(max_entries, NVE_XDP_MAX_PORTS);
  __type(key, __u32);
  __type(value, __u32);
} nve_tx_ports SEC(".maps");

// Our ifindex -> port index.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u32);
} nve_ifindex_port SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct nve_xdp_settings);
} nve_settings SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, NVE_XDP_COUNTERS);
  __type(key, __u32);
  __type(value, __u64);
} nve_counters SEC(".maps");

// The next IPv4 identification of non-DF outer packets, per CPU (the DPDK
// path keeps one per worker).
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} nve_ip_id SEC(".maps");

static __always_inline void count(__u32 c) {
  __u64 *v = bpf_map_lookup_elem(&nve_counters, &c);
  if (v) *v += 1;  // per CPU: no atomic needed
}

static __always_inline __u16 fold(__u32 s) {
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return (__u16)~s;
}

// RFC 1624 TTL decrement: the checksum word holding TTL goes down by 0x0100.
static __always_inline void decrement_ttl(struct iphdr *ip) {
  __u32 check = (__u32)ip->check + (__u32)bpf_htons(0x0100);
  ip->check = (__u16)(check + (check >= 0xffff));
  ip->ttl--;
}

// (No memcmp in BPF: clang would call it.)
static __always_inline int mac_equal(const __u8 *a, const __u8 *b) {
  int same = 1;
#pragma unroll
  for (int i = 0; i < 6; i++) same &= a[i] == b[i];
  return same;
}

static __always_inline int to_kernel(__u32 why) {
  count(why);
  return XDP_PASS;
}

// Does nothing: what a bpf_prog_test_run costs around any program, which
// the benchmark subtracts (tests/bench/bench_xdp.cc).
SEC("xdp")
int nve_xdp_baseline(struct xdp_md *ctx) { return XDP_PASS; }

SEC("xdp")
int nve_xdp(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  count(NVE_XDP_C_rx_packets);

  __u32 ifindex = ctx->ingress_ifindex;
  __u32 *in_port = bpf_map_lookup_elem(&nve_ifindex_port, &ifindex);
  if (!in_port) return XDP_PASS;  // not one of ours
  struct nve_xdp_port *port = bpf_map_lookup_elem(&nve_ports, in_port);
  if (!port) return XDP_PASS;

  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) return to_kernel(NVE_XDP_C_drop_l2_truncated);
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;  // ARP, IPv6, VLAN: the kernel
  if (!mac_equal(eth->h_dest, port->mac)) return XDP_PASS;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end) return to_kernel(NVE_XDP_C_drop_ipv4_truncated);
  if (ip->version != 4 || ip->ihl != 5) return XDP_PASS;  // options, bad version: the kernel judges
  if (ip->ttl <= 1) return XDP_PASS;  // the kernel sends Time Exceeded

  struct nve_xdp_key key = {};
  key.vn = port->vn;
  key.family = 4;
  __builtin_memcpy(key.addr, &ip->daddr, 4);
  struct nve_xdp_route *route = bpf_map_lookup_elem(&nve_routes, &key);
  if (!route) return XDP_PASS;  // no host route: the kernel's routing table

  if (route->kind == NVE_XDP_LOCAL) {
    __u32 out = route->port;
    struct nve_xdp_port *op = bpf_map_lookup_elem(&nve_ports, &out);
    if (!op) return XDP_PASS;
    decrement_ttl(ip);
    __builtin_memcpy(eth->h_dest, route->mac, 6);
    __builtin_memcpy(eth->h_source, op->mac, 6);
    count(NVE_XDP_C_delivered_local);
    count(NVE_XDP_C_tx_packets);
    if (out == *in_port) return XDP_TX;
    return bpf_redirect_map(&nve_tx_ports, out, XDP_PASS);  // no such port: the kernel
  }
  if (route->kind != NVE_XDP_TUNNEL) return XDP_PASS;

  __u32 nve_idx = route->nve;
  struct nve_xdp_nve *nve = bpf_map_lookup_elem(&nve_nves, &nve_idx);
  if (!nve || !nve->valid) return to_kernel(NVE_XDP_C_drop_nve_unknown);
  __u32 zero = 0;
  struct nve_xdp_settings *set = bpf_map_lookup_elem(&nve_settings, &zero);
  if (!set) return XDP_PASS;
  const __u16 inner_len = bpf_ntohs(ip->tot_len);
  if (inner_len + sizeof(struct iphdr) > set->tunnel_mtu) return XDP_PASS;  // fragmentation / ICMP: the kernel
  const __u8 inner_tos = ip->tos;
  const int df = (ip->frag_off & bpf_htons(0x4000)) != 0;
  decrement_ttl(ip);

  if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr))) return to_kernel(NVE_XDP_C_drop_no_headroom);
  data = (void *)(long)ctx->data;
  data_end = (void *)(long)ctx->data_end;
  if (data + 34 > data_end) return XDP_ABORTED;
  __builtin_memcpy(data, nve->hdr, 34);
  struct iphdr *outer = data + 14;
  outer->tos = set->dscp_set ? (__u8)((set->dscp << 2) | (inner_tos & 3)) : inner_tos;
  outer->tot_len = bpf_htons(inner_len + sizeof(struct iphdr));
  if (df) {
    outer->id = 0;  // RFC 6864: an atomic datagram needs no unique ID
    outer->frag_off = bpf_htons(0x4000);
  } else {
    __u32 *id = bpf_map_lookup_elem(&nve_ip_id, &zero);
    __u32 next = id ? *id + 1 : 1;
    if (id) *id = next;
    outer->id = bpf_htons((__u16)next);
    outer->frag_off = 0;
  }
  outer->protocol = IPPROTO_IPIP;
  outer->check = 0;
  __u32 sum = 0;
  __u16 *w = (__u16 *)outer;
#pragma unroll
  for (int i = 0; i < 10; i++) sum += w[i];
  outer->check = fold(sum);
  count(NVE_XDP_C_encap_ipv4_in_ipv4);
  count(NVE_XDP_C_tx_packets);
  __u32 out = nve->out_port;
  if (out == *in_port) return XDP_TX;
  return bpf_redirect_map(&nve_tx_ports, out, XDP_PASS);  // no such port: the kernel
}
