// nvmove's second fast path, in the kernel's XDP hook (issue 16). The common
// path of the DPDK worker (dataplane/classify.cc, actions.h, encap.h), on the
// same routes and with the same counters: an untagged IPv4 frame to the
// port's MAC, valid as the DPDK path checks it (the same drops on the same
// counters), looked up as (the port's VN, destination) in the host-route map,
// is delivered to a local VM (L2 rewritten, TTL decremented, redirected to
// its port) or tunnelled IPv4-in-IPv4 toward the NVE now serving it (RFC
// 2003; RFC 6040 normal mode: the inner ECN copied, DSCP copied or set; DF
// copied; the outer header from the NVE's template, as the DPDK path writes
// it). Ethernet padding is trimmed as the DPDK path trims it. What the
// program does not do yet goes to the kernel (XDP_PASS): ARP and ND, IPv6,
// VLAN-tagged frames, IPv4 options, packets to our own addresses (tunnels to
// decapsulate, echo), destinations without a host route. A packet with a
// host route that cannot be forwarded is dropped and counted, never passed
// (the kernel would route a tenant's packet natively): TTL running out and
// packets too big for the tunnel get no ICMP from here yet. docs/xdp.md lists
// every difference from the DPDK path; the differential test checks them.
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

// Sized with nve_routes by the loader (route_table.capacity).
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1 << 16);
  __type(key, __u32);
  __type(value, struct nve_xdp_route_stat);
} nve_route_stats SEC(".maps");

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
} nve_port_by_if SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct nve_xdp_settings);
} nve_settings SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct nve_xdp_counters);
} nve_counters SEC(".maps");

// The next IPv4 identification of non-DF outer packets, per CPU (the DPDK
// path keeps one per worker).
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} nve_ip_id SEC(".maps");

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

// The 20-byte header's checksum is right (its words sum to 0xffff).
static __always_inline int ipv4_checksum_ok(const struct iphdr *ip) {
  const __u16 *w = (const __u16 *)ip;
  __u32 sum = 0;
#pragma unroll
  for (int i = 0; i < 10; i++) sum += w[i];
  return fold(sum) == 0;
}

// Sources a router never forwards (RFC 1812): network 0, 127, 224 and up.
static __always_inline int source_never_forwarded(__u8 first_octet) {
  return first_octet == 0 || first_octet == 127 || first_octet >= 224;
}

// Which of our own addresses `daddr` is (its index), or -1.
static __always_inline int own_index(const struct nve_xdp_settings *set, __u32 daddr) {
  int found = -1;
#pragma unroll
  for (int i = 0; i < NVE_XDP_MAX_OWN; i++)
    if (found < 0 && i < set->n_own && set->own_v4[i] == daddr) found = i;
  return found;
}

// One more hit of a route (per CPU: plain stores).
static __always_inline void record_hit(const struct nve_xdp_route *route) {
  __u32 slot = route->stat;
  struct nve_xdp_route_stat *st = bpf_map_lookup_elem(&nve_route_stats, &slot);
  if (!st) return;
  st->hits++;
  st->last_ns = bpf_ktime_get_ns();
}

// Tunnels are decapsulated only from known NVEs (docs/protocol.md 7, "Who
// may tunnel to an NVE"): tunnel.peers, then the peers learnt from nvad.
static __always_inline int peer_known(const struct nve_xdp_settings *set, __u32 saddr) {
  int known = 0;
#pragma unroll
  for (int i = 0; i < NVE_XDP_MAX_PEER_PREFIXES; i++)
    known |= i < set->n_peers && (saddr & set->peer_mask[i]) == set->peer_v4[i];
  if (known) return 1;
  struct nve_xdp_key key = {};
  key.vn = NVE_XDP_PEER_VN;
  key.family = 4;
  __builtin_memcpy(key.addr, &saddr, 4);
  struct nve_xdp_route *r = bpf_map_lookup_elem(&nve_routes, &key);
  if (!r || r->kind != NVE_XDP_PEER) return 0;
  record_hit(r);  // the learnt peer's route counts the tunnels it sent
  return 1;
}

// RFC 6040 section 4.2 (dataplane/ecn.h): the inner ECN field after
// decapsulation, -1 to drop; *log: a combination worth logging.
static __always_inline int ecn_decapsulate(__u8 inner, __u8 outer, int *log) {
  *log = 0;
  if (inner == 0) {
    *log = outer != 0;
    return outer == 3 ? -1 : 0;
  }
  if (outer == 3) return 3;
  if (inner == 3) {
    *log = outer == 1;
    return 3;
  }
  if (outer == 1) return 1;
  return inner;
}

static __always_inline void ipv4_checksum_set(struct iphdr *ip) {
  ip->check = 0;
  const __u16 *w = (const __u16 *)ip;
  __u32 sum = 0;
#pragma unroll
  for (int i = 0; i < 10; i++) sum += w[i];
  ip->check = fold(sum);
}

#define COUNT(cnt, name) ((cnt)->c[NVE_XDP_C_##name]++)  // per CPU: no atomic needed
#define DROP(cnt, name) (COUNT(cnt, name), XDP_DROP)

// The NVE's Ethernet + outer IPv4 header at `data` (34 bytes, checked by the
// caller) in front of an inner packet of `inner_tot` bytes, fixed up as the
// DPDK path's write_outer() does (dataplane/encap.h).
static __always_inline void write_outer(void *data, const struct nve_xdp_nve *nve,
                                        const struct nve_xdp_settings *set, __u8 inner_tos, __u32 inner_tot,
                                        int df) {
  __builtin_memcpy(data, nve->hdr, 34);
  struct iphdr *outer = data + 14;
  outer->tos = set->dscp_set ? (__u8)((set->dscp << 2) | (inner_tos & 3)) : inner_tos;
  outer->tot_len = bpf_htons(inner_tot + sizeof(struct iphdr));
  if (df) {
    outer->id = 0;  // RFC 6864: an atomic datagram needs no unique ID
    outer->frag_off = bpf_htons(0x4000);
  } else {
    __u32 zero = 0;
    __u32 *id = bpf_map_lookup_elem(&nve_ip_id, &zero);
    __u32 next = id ? *id + 1 : 1;
    if (id) *id = next;
    outer->id = bpf_htons((__u16)next);
    outer->frag_off = 0;
  }
  outer->protocol = IPPROTO_IPIP;
  ipv4_checksum_set(outer);
}

// Cuts what follows the IP packet (Ethernet padding), as the DPDK path's
// reframe() does. 0 on success.
static __always_inline int trim_to(struct xdp_md *ctx, __u32 frame_len) {
  const __s32 excess = (__s32)(ctx->data_end - ctx->data) - (__s32)frame_len;
  if (excess <= 0) return 0;
  return bpf_xdp_adjust_tail(ctx, -excess);
}

SEC("xdp")
int nve_xdp_baseline(struct xdp_md *ctx) { return XDP_PASS; }

SEC("xdp")
int nve_xdp(struct xdp_md *ctx) {
  __u32 zero = 0;
  struct nve_xdp_counters *cnt = bpf_map_lookup_elem(&nve_counters, &zero);
  struct nve_xdp_settings *set = bpf_map_lookup_elem(&nve_settings, &zero);
  if (!cnt || !set) return XDP_PASS;
  __u32 ifindex = ctx->ingress_ifindex;
  __u32 *in_port = bpf_map_lookup_elem(&nve_port_by_if, &ifindex);
  if (!in_port) return XDP_PASS;  // not one of ours
  const __u32 in = *in_port;
  struct nve_xdp_port *port = bpf_map_lookup_elem(&nve_ports, &in);
  if (!port) return XDP_PASS;
  COUNT(cnt, rx_packets);

  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) return DROP(cnt, drop_l2_truncated);
  if (eth->h_proto == bpf_htons(ETH_P_8021Q)) return XDP_PASS;  // tagged: not in the program yet
  if (port->vlan) return DROP(cnt, drop_vlan_mismatch);         // untagged on a VLAN port
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;     // ARP, IPv6: the kernel

  // validate_ipv4 (dataplane/ip_validate.h), in its order.
  struct iphdr *ip = (void *)(eth + 1);
  const __u32 avail = (__u32)(data_end - (void *)ip);
  if ((void *)(ip + 1) > data_end) return DROP(cnt, drop_ipv4_truncated);
  if (ip->version != 4) return DROP(cnt, drop_ipv4_bad_version);
  const __u32 ihl = ip->ihl * 4u;
  if (ihl < sizeof(struct iphdr) || ihl > avail) return DROP(cnt, drop_ipv4_bad_ihl);
  const __u32 tot = bpf_ntohs(ip->tot_len);
  if (tot < ihl || tot > avail) return DROP(cnt, drop_ipv4_bad_length);
  if (ihl > sizeof(struct iphdr)) return XDP_PASS;  // options: the kernel
  if (!ipv4_checksum_ok(ip)) return DROP(cnt, drop_ipv4_bad_checksum);
  if (source_never_forwarded(((__u8 *)&ip->saddr)[0])) return DROP(cnt, drop_ipv4_bad_source);
  if (((__u8 *)&ip->daddr)[0] >= 224) return DROP(cnt, drop_ip_multicast);
  if (!mac_equal(eth->h_dest, port->mac)) return DROP(cnt, drop_l2_not_for_us);

  // IPv4-in-IPv4 to one of our addresses, on the fabric port, from a known
  // NVE: decapsulated into the VN of the address it was sent to (classify.cc's
  // decapsulate(), its checks in its order). Anything else to our addresses
  // (echo, IPv6 inside): the kernel.
  __u32 vn = port->vn;
  struct iphdr *inner = 0;
  int new_ecn = -1, ecn_log = 0;
  const int own = own_index(set, ip->daddr);
  if (own >= 0) {
    if (ip->protocol != IPPROTO_IPIP || in != set->fabric_port) return XDP_PASS;
    if (!peer_known(set, ip->saddr)) return DROP(cnt, drop_decap_unknown_peer);
    if (ip->frag_off & bpf_htons(0x3fff)) return DROP(cnt, drop_decap_fragmented);
    inner = (void *)(ip + 1);
    const __u32 inner_avail = tot - sizeof(struct iphdr);
    if (inner_avail >= 1) {
      if ((void *)inner + 1 > data_end) return XDP_ABORTED;
      if ((*(__u8 *)inner >> 4) != 4) return DROP(cnt, drop_decap_inner_bad);
    }
    if (inner_avail < sizeof(struct iphdr) || (void *)(inner + 1) > data_end) return DROP(cnt, drop_ipv4_truncated);
    const __u32 inner_ihl = inner->ihl * 4u;
    if (inner_ihl < sizeof(struct iphdr) || inner_ihl > inner_avail) return DROP(cnt, drop_ipv4_bad_ihl);
    const __u32 inner_tot = bpf_ntohs(inner->tot_len);
    if (inner_tot < inner_ihl || inner_tot > inner_avail) return DROP(cnt, drop_ipv4_bad_length);
    if (inner_ihl > sizeof(struct iphdr)) return XDP_PASS;  // inner options: the kernel
    if (!ipv4_checksum_ok(inner)) return DROP(cnt, drop_ipv4_bad_checksum);
    if (source_never_forwarded(((__u8 *)&inner->saddr)[0])) return DROP(cnt, drop_ipv4_bad_source);
    // Counted decapsulated (as the DPDK path counts) on every outcome but a
    // pass: what goes to the kernel leaves untouched and uncounted.
    if (((__u8 *)&inner->daddr)[0] >= 224) return COUNT(cnt, decap_ipv4_outer), DROP(cnt, drop_ip_multicast);
    new_ecn = ecn_decapsulate(inner->tos & 3, ip->tos & 3, &ecn_log);
    if (new_ecn < 0) {
      COUNT(cnt, decap_ipv4_outer);
      COUNT(cnt, decap_ecn_logged);
      return DROP(cnt, drop_decap_ecn_ce_not_ect);
    }
    vn = set->own_vn[own & (NVE_XDP_MAX_OWN - 1)];
  }
  struct iphdr *l3 = inner ? inner : ip;

  struct nve_xdp_key key = {};
  key.vn = vn;
  key.family = 4;
  __builtin_memcpy(key.addr, &l3->daddr, 4);
  struct nve_xdp_route *route = bpf_map_lookup_elem(&nve_routes, &key);
  if (!route) return XDP_PASS;  // no host route: the kernel's routing table
  if (l3->ttl <= 1) {
    if (inner) COUNT(cnt, decap_ipv4_outer);
    return DROP(cnt, drop_ttl_exceeded);  // no Time Exceeded from here yet
  }
  if (route->kind == NVE_XDP_LOCAL || route->kind == NVE_XDP_TUNNEL) record_hit(route);

  if (inner && route->kind == NVE_XDP_TUNNEL) {
    // Decapsulated for a VM that moved on: tunnelled again, the outer header
    // replaced in place (the same size), as the DPDK path's tunnel() does.
    __u32 nve_idx = route->nve;
    struct nve_xdp_nve *nve = bpf_map_lookup_elem(&nve_nves, &nve_idx);
    if (!nve || !nve->valid) return COUNT(cnt, decap_ipv4_outer), DROP(cnt, drop_nve_unknown);
    if (!nve->resolved) return COUNT(cnt, decap_ipv4_outer), DROP(cnt, drop_neighbour_unresolved);
    const __u32 inner_tot = bpf_ntohs(inner->tot_len);
    if (inner_tot + sizeof(struct iphdr) > set->tunnel_mtu) return COUNT(cnt, decap_ipv4_outer), DROP(cnt, drop_too_big);
    if (trim_to(ctx, sizeof(struct ethhdr) + sizeof(struct iphdr) + inner_tot)) return DROP(cnt, drop_l2_truncated);
    data = (void *)(long)ctx->data;
    data_end = (void *)(long)ctx->data_end;
    if (data + 34 + sizeof(struct iphdr) > data_end) return XDP_ABORTED;
    inner = data + 34;
    inner->tos = (inner->tos & ~3) | (__u8)new_ecn;
    inner->ttl--;
    ipv4_checksum_set(inner);
    write_outer(data, nve, set, inner->tos, inner_tot, (inner->frag_off & bpf_htons(0x4000)) != 0);
    COUNT(cnt, decap_ipv4_outer);
    if (ecn_log) COUNT(cnt, decap_ecn_logged);
    COUNT(cnt, encap_ipv4_in_ipv4);
    COUNT(cnt, reencap);
    COUNT(cnt, tx_packets);
    const __u32 out = nve->out_port;
    if (out == in && !set->tx_redirect) return XDP_TX;
    return bpf_redirect_map(&nve_tx_ports, out, 0);
  }
  if (inner) {
    // Decapsulated: to a local VM.
    if (route->kind != NVE_XDP_LOCAL) return XDP_PASS;
    __u32 out = route->port;
    struct nve_xdp_port *op = bpf_map_lookup_elem(&nve_ports, &out);
    if (!op || !op->ifindex) return XDP_ABORTED;
    const __u32 inner_tot = bpf_ntohs(inner->tot_len);
    if (trim_to(ctx, sizeof(struct ethhdr) + sizeof(struct iphdr) + inner_tot)) return DROP(cnt, drop_l2_truncated);
    data = (void *)(long)ctx->data;
    data_end = (void *)(long)ctx->data_end;
    inner = data + sizeof(struct ethhdr) + sizeof(struct iphdr);
    if ((void *)(inner + 1) > data_end) return XDP_ABORTED;
    inner->tos = (inner->tos & ~3) | (__u8)new_ecn;
    inner->ttl--;
    ipv4_checksum_set(inner);
    COUNT(cnt, decap_ipv4_outer);
    if (ecn_log) COUNT(cnt, decap_ecn_logged);
    // The outer header goes: Ethernet moves up by its size.
    if (bpf_xdp_adjust_head(ctx, (int)sizeof(struct iphdr))) return XDP_ABORTED;
    data = (void *)(long)ctx->data;
    data_end = (void *)(long)ctx->data_end;
    eth = data;
    if ((void *)(eth + 1) > data_end) return XDP_ABORTED;
    __builtin_memcpy(eth->h_dest, route->mac, 6);
    __builtin_memcpy(eth->h_source, op->mac, 6);
    eth->h_proto = bpf_htons(ETH_P_IP);
    COUNT(cnt, delivered_local);
    COUNT(cnt, tx_packets);
    if (out == in && !set->tx_redirect) return XDP_TX;
    return bpf_redirect_map(&nve_tx_ports, out, 0);
  }

  if (route->kind == NVE_XDP_LOCAL) {
    __u32 out = route->port;
    struct nve_xdp_port *op = bpf_map_lookup_elem(&nve_ports, &out);
    if (!op || !op->ifindex) return XDP_ABORTED;  // a route to a port never described: a bug
    if (trim_to(ctx, sizeof(struct ethhdr) + tot)) return DROP(cnt, drop_l2_truncated);
    data = (void *)(long)ctx->data;
    data_end = (void *)(long)ctx->data_end;
    eth = data;
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end) return XDP_ABORTED;
    decrement_ttl(ip);
    __builtin_memcpy(eth->h_dest, route->mac, 6);
    __builtin_memcpy(eth->h_source, op->mac, 6);
    COUNT(cnt, delivered_local);
    COUNT(cnt, tx_packets);
    if (out == in && !set->tx_redirect) return XDP_TX;
    return bpf_redirect_map(&nve_tx_ports, out, 0);
  }
  if (route->kind != NVE_XDP_TUNNEL) return XDP_PASS;

  __u32 nve_idx = route->nve;
  struct nve_xdp_nve *nve = bpf_map_lookup_elem(&nve_nves, &nve_idx);
  if (!nve || !nve->valid) return DROP(cnt, drop_nve_unknown);
  if (!nve->resolved) return DROP(cnt, drop_neighbour_unresolved);
  if (tot + sizeof(struct iphdr) > set->tunnel_mtu) return DROP(cnt, drop_too_big);  // no ICMP, no fragments yet
  const __u8 inner_tos = ip->tos;
  const int df = (ip->frag_off & bpf_htons(0x4000)) != 0;
  // Room first, then changes: a failure leaves the packet as it came.
  if (trim_to(ctx, sizeof(struct ethhdr) + tot)) return DROP(cnt, drop_l2_truncated);
  if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr))) return DROP(cnt, drop_no_headroom);
  data = (void *)(long)ctx->data;
  data_end = (void *)(long)ctx->data_end;
  if (data + 34 + sizeof(struct iphdr) > data_end) return XDP_ABORTED;
  decrement_ttl((struct iphdr *)(data + 34));  // the packet being tunnelled
  write_outer(data, nve, set, inner_tos, tot, df);
  COUNT(cnt, encap_ipv4_in_ipv4);
  COUNT(cnt, tx_packets);
  const __u32 out = nve->out_port;
  if (out == in && !set->tx_redirect) return XDP_TX;
  return bpf_redirect_map(&nve_tx_ports, out, 0);
}
