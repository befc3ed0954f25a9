/* The XDP fast path's maps, byte for byte: shared by the BPF program
 * (nve_xdp.bpf.c) and the user-space side that fills them (xdp_program.h).
 * Plain C, fixed-width fields, no padding left implicit (checked below). */
#ifndef NVMOVE_NVE_XDP_ABI_H
#define NVMOVE_NVE_XDP_ABI_H

#ifdef __bpf__
#include <linux/types.h>
typedef __u8 nve_u8;
typedef __u16 nve_u16;
typedef __u32 nve_u32;
typedef __u64 nve_u64;
typedef __s32 nve_s32;
#else
#include <stdint.h>
typedef uint8_t nve_u8;
typedef uint16_t nve_u16;
typedef uint32_t nve_u32;
typedef uint64_t nve_u64;
typedef int32_t nve_s32;
#endif

#include "dataplane/counter_list.h"

/* Counter indices: dataplane/counter_list.h's order, the DPDK path's. */
#define NVE_XDP_COUNTER_ENUM(name, is_drop, help) NVE_XDP_C_##name,
enum nve_xdp_counter { NVE_COUNTERS(NVE_XDP_COUNTER_ENUM) NVE_XDP_COUNTERS };
#undef NVE_XDP_COUNTER_ENUM

#define NVE_XDP_MAX_PORTS 16
#define NVE_XDP_MAX_NVES 4096

/* Host route key: (VN, address), as dataplane/route_entry.h's RouteKey
 * without its hash-alignment padding. */
struct nve_xdp_key {
  nve_u32 vn;
  nve_u8 family; /* 4 or 6 */
  nve_u8 pad[3];
  nve_u8 addr[16]; /* IPv4 in the first 4 bytes, the rest zero */
};

#define NVE_XDP_LOCAL 1  /* deliver on `port` to `mac` */
#define NVE_XDP_TUNNEL 2 /* encapsulate toward NVE template `nve` */
#define NVE_XDP_PEER 3   /* key (NVE_XDP_PEER_VN, an NVE's address): tunnels from it are decapsulated */
#define NVE_XDP_PEER_VN 0xFFFFFFFFu /* common/route_change.h's kTunnelPeerVn: no VN is it */

struct nve_xdp_route {
  nve_u8 kind;
  nve_u8 pad;
  nve_u16 port; /* LOCAL: the port index (nve_xdp_port, the devmap) */
  nve_u32 nve;  /* TUNNEL: index in the template array */
  nve_u8 mac[6];
  nve_u16 vlan; /* LOCAL: the 802.1Q TCI to tag it with (an access port's VLAN), 0: untagged */
  /* Use, written by the program in the entry itself (no other memory
   * touched) and at most once per tick of NVE_XDP_TICK_SHIFT: the tick of
   * the last packet that took the route, and how many ticks it has been
   * taken in (the agent's idle timers need only that it grows). */
  nve_u32 used_tick;
  nve_u32 used_ticks;
};

/* A tick: 2^20 ns (about 1 ms) of bpf_ktime_get_coarse_ns(), CLOCK_MONOTONIC
 * at the kernel's tick resolution. */
#define NVE_XDP_TICK_SHIFT 20

/* One port nved runs XDP on, by its index in the configuration. */
struct nve_xdp_port {
  nve_u32 ifindex;
  nve_u32 vn; /* the VN its native packets are looked up in (dp::ingress_vn) */
  nve_u8 mac[6];
  nve_u16 vlan; /* access port's VLAN: its untagged frames are dropped */
  nve_s32 trace; /* packets still to trace (nvectl trace add PORT N); <= 0: none */
  nve_u32 pad;
};

/* The outer headers toward one NVE: Ethernet + IPv4 or IPv6 from the DPDK
 * path's template (dataplane/tunnel_template.h), fixed up per packet. */
struct nve_xdp_nve {
  nve_u8 hdr[54]; /* Ethernet (to the gateway) + IPv4 (34 bytes used) or IPv6 (54) */
  nve_u8 valid;    /* 0: no NVE here (drop_nve_unknown) */
  nve_u8 out_port; /* port index the tunnel leaves through */
  nve_u8 resolved; /* 0: the gateway's MAC unknown yet (drop_neighbour_unresolved) */
  nve_u8 outer_family; /* 4 or 6 */
  nve_u8 pad[2];
};

#define NVE_XDP_MAX_OWN 8
#define NVE_XDP_MAX_PEER_PREFIXES 16

/* An IPv6 address or prefix as four words in network order. */
struct nve_xdp_in6 {
  nve_u32 w[4];
};

/* Fast-path settings (one entry). */
struct nve_xdp_settings {
  nve_u16 tunnel_mtu; /* largest outer IP packet */
  nve_u8 dscp_set;    /* 0: copy the inner DSCP; 1: write `dscp` */
  nve_u8 dscp;
  nve_u8 n_own;       /* own IPv4 addresses below */
  /* 1: send back out the receiving port with bpf_redirect_map, not XDP_TX
   * (veth: its XDP_TX frames did not reach the peer on the test machines'
   * kernel, redirected ones did). */
  nve_u8 tx_redirect;
  nve_u8 fabric_port; /* tunnels are decapsulated only from it */
  nve_u8 n_peers;     /* tunnel.peers IPv4 prefixes below */
  nve_u8 n_own6;      /* own IPv6 addresses below */
  nve_u8 n_peers6;    /* tunnel.peers IPv6 prefixes below */
  nve_u8 pad[2];
  nve_u32 own_v4[NVE_XDP_MAX_OWN]; /* network order: a tunnel to one is decapsulated */
  nve_u32 own_vn[NVE_XDP_MAX_OWN]; /* the VN its tunnels carry ("Tenants on the fabric") */
  nve_u32 peer_v4[NVE_XDP_MAX_PEER_PREFIXES];   /* network order, masked */
  nve_u32 peer_mask[NVE_XDP_MAX_PEER_PREFIXES]; /* network order */
  struct nve_xdp_in6 own_v6[NVE_XDP_MAX_OWN];
  nve_u32 own6_vn[NVE_XDP_MAX_OWN];
  struct nve_xdp_in6 peer_v6[NVE_XDP_MAX_PEER_PREFIXES]; /* masked */
  struct nve_xdp_in6 peer6_mask[NVE_XDP_MAX_PEER_PREFIXES];
  /* ICMP and ICMPv6 errors (dataplane/icmp_error.h): from nve.ipv4 /
   * nve.ipv6 (has_src4/6: configured), at most icmp_rate a second per CPU
   * after a burst of icmp_burst (0: none sent), with TTL / hop limit
   * icmp_ttl. */
  nve_u32 icmp_rate;
  nve_u32 icmp_burst;
  nve_u32 src_v4;
  struct nve_xdp_in6 src_v6;
  nve_u8 has_src4;
  nve_u8 has_src6;
  nve_u8 icmp_ttl;
  nve_u8 pad2;
  /* A random number nvxdp draws at start: the program puts it in every
   * slow-path frame (struct nve_xdp_slow), nvxdp takes only frames that
   * carry it, so no frame a VM sends can pass for one. */
  nve_u32 slow_cookie[2];
};

/* The slow path: an IPv4 packet without DF too big for the tunnel, which
 * the DPDK path fragments and one XDP run cannot (one run sends one frame).
 * The program applies the router hop (TTL, the ECN of a decapsulated
 * packet), counts what the fragments will be, and passes the kernel a frame
 *   Ethernet (to and from the port's MAC, EtherType NVE_XDP_SLOW_ETHERTYPE)
 *   struct nve_xdp_slow
 *   the inner IPv4 packet
 * which the kernel has no handler for (IEEE 802 local experimental
 * EtherType 1: dropped after the packet taps, never routed); nvxdp reads it
 * on a packet socket per port, fragments it and sends the fragments in the
 * NVE's tunnel (drivers/xdp/xdp_fragments.h), after looking the route up
 * again (VN, destination): the NVE it names then. The program drops such
 * frames arriving from the wire, and 802.1ad (QinQ) frames, which could
 * carry one behind a tag (drop_l2_unsupported); nvxdp takes only untagged
 * frames with the settings' slow_cookie. */
#define NVE_XDP_SLOW_ETHERTYPE 0x88b5
#define NVE_XDP_SLOW_FRAGMENT 1
#define NVE_XDP_MAX_FRAGMENTS 16 /* the DPDK path's kMaxFragments */
struct nve_xdp_slow {
  nve_u32 cookie[2]; /* the settings' slow_cookie */
  nve_u32 vn;        /* the VN the packet was looked up in: nvxdp looks its route up again */
  nve_u8 reason;     /* NVE_XDP_SLOW_FRAGMENT */
  nve_u8 pad[3];
};

/* A packet trace record (nvectl trace add / show trace, as nved's): what
 * arrived, the counters it moved, what the program sent, in the ring buffer
 * nve_trace_ring while the port it came in on has trace budget. */
#define NVE_XDP_TRACE_BYTES 128
#define NVE_XDP_TRACE_WORDS ((NVE_XDP_COUNTERS + 63) / 64)
struct nve_xdp_trace {
  nve_u64 ns;       /* bpf_ktime_get_ns() at receipt (CLOCK_MONOTONIC) */
  nve_u32 port;     /* the port it came in on */
  nve_u32 cpu;
  nve_u32 in_len;   /* the frame's length as received */
  nve_u32 out_len;  /* as the program left it */
  nve_u32 verdict;  /* XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT */
  nve_u32 pad;
  nve_u64 moved[NVE_XDP_TRACE_WORDS]; /* bit i: counter i moved */
  nve_u8 in[NVE_XDP_TRACE_BYTES];
  nve_u8 out[NVE_XDP_TRACE_BYTES];
  nve_u64 before[NVE_XDP_COUNTERS]; /* (the program's scratch: its CPU's counters before the packet) */
};

/* Per CPU: the ICMP errors' token bucket. */
struct nve_xdp_icmp_bucket {
  nve_u64 tokens;
  nve_u64 last_ns; /* 0: never used (a full bucket) */
};

/* Every counter, one per-CPU entry: one lookup per packet. */
struct nve_xdp_counters {
  nve_u64 c[NVE_XDP_COUNTERS];
};

#ifdef __cplusplus
#define NVE_XDP_ASSERT_SIZE(t, n) static_assert(sizeof(struct t) == (n), #t " is shared: its size must not move")
#else
#define NVE_XDP_ASSERT_SIZE(t, n) _Static_assert(sizeof(struct t) == (n), #t " is shared: its size must not move")
#endif
NVE_XDP_ASSERT_SIZE(nve_xdp_key, 24);
NVE_XDP_ASSERT_SIZE(nve_xdp_route, 24);
NVE_XDP_ASSERT_SIZE(nve_xdp_port, 24);
NVE_XDP_ASSERT_SIZE(nve_xdp_nve, 60);
NVE_XDP_ASSERT_SIZE(nve_xdp_in6, 16);
NVE_XDP_ASSERT_SIZE(nve_xdp_settings, 204 + 128 + 32 + 256 + 256 + 32 + 8);
NVE_XDP_ASSERT_SIZE(nve_xdp_icmp_bucket, 16);
NVE_XDP_ASSERT_SIZE(nve_xdp_slow, 16);

#endif
