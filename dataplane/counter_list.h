/* Every outcome and drop of the fast path, declared once, in plain C so that
 * the DPDK workers (dataplane/counters.h) and the XDP program
 * (drivers/xdp/nve_xdp.bpf.c) count under the same names, in the same order. */
#ifndef NVMOVE_COUNTER_LIST_H
#define NVMOVE_COUNTER_LIST_H

// X(name, is_drop, help)
#define NVE_COUNTERS(X)                                                                          \
  X(rx_packets, false, "packets received from all ports")                                         \
  X(tx_packets, false, "packets handed to a port and accepted")                                   \
  X(delivered_local, false, "packets delivered to a local VM on an access port")                  \
  X(encap_ipv4_in_ipv4, false, "IPv4 packets tunnelled in IPv4 (RFC 2003)")                       \
  X(encap_ipv6_in_ipv6, false, "IPv6 packets tunnelled in IPv6 (RFC 2473)")                       \
  X(encap_ipv4_in_ipv6, false, "IPv4 packets tunnelled in IPv6")                                  \
  X(encap_ipv6_in_ipv4, false, "IPv6 packets tunnelled in IPv4")                                  \
  X(decap_ipv4_outer, false, "tunnelled packets decapsulated from an IPv4 outer header")          \
  X(decap_ipv6_outer, false, "tunnelled packets decapsulated from an IPv6 outer header")          \
  X(decap_ecn_logged, false, "decapsulations RFC 6040 says to log (ECT outer on Not-ECT inner, " \
                             "ECT(1) outer on CE inner)")                                        \
  X(reencap, false, "decapsulated packets tunnelled again to a newer NVE")                        \
  X(forwarded_default, false, "packets without a host route sent to the fabric gateway")          \
  X(ipv4_fragmented, false, "IPv4 packets without DF fragmented to fit the tunnel or the egress port's mtu")\
  X(ipv4_fragments_out, false, "fragments produced by fragmentation")                            \
  X(tx_linearized, false, "chained packets (fragments, frames received in segments) copied into one mbuf for a port that sends no chains")\
  X(arp_replied, false, "ARP requests for our addresses answered")                                \
  X(nd_replied, false, "Neighbour Solicitations for our addresses answered")                      \
  X(echo_replied, false, "ICMP/ICMPv6 echo requests to our addresses answered")                   \
  X(icmp_time_exceeded_sent, false, "ICMP/ICMPv6 Time Exceeded sent")                             \
  X(icmp_frag_needed_sent, false, "ICMP Fragmentation Needed sent")                               \
  X(icmp6_too_big_sent, false, "ICMPv6 Packet Too Big sent")                                      \
  X(to_control, false, "packets passed to the control thread (ARP/ND replies)")                   \
  X(ipv4_options_seen, false, "IPv4 packets with options (forwarded as they are)")                \
  X(drop_l2_truncated, true, "frame shorter than its Ethernet/VLAN header")                        \
  X(drop_l2_unsupported, true, "EtherType neither IPv4, IPv6 nor ARP")                            \
  X(drop_l2_not_for_us, true, "unicast IP in a frame not addressed to our MAC (broadcast, multicast or another host)")\
  X(drop_ip_multicast, true, "multicast or broadcast IP destination (nved does not route multicast)")\
  X(drop_vlan_mismatch, true, "VLAN tag absent or different from the access port's")              \
  X(drop_ipv4_truncated, true, "IPv4 header cut short")                                           \
  X(drop_ipv4_bad_version, true, "IPv4 EtherType with a version other than 4")                   \
  X(drop_ipv4_bad_ihl, true, "IPv4 IHL below 5 or beyond the frame")                              \
  X(drop_ipv4_bad_length, true, "IPv4 total length below the header or beyond the frame")        \
  X(drop_ipv4_bad_checksum, true, "IPv4 header checksum wrong")                                   \
  X(drop_ipv4_bad_source, true, "IPv4 source multicast, broadcast, loopback or network 0")         \
  X(drop_ipv6_truncated, true, "IPv6 header cut short")                                           \
  X(drop_ipv6_bad_version, true, "IPv6 EtherType with a version other than 6")                   \
  X(drop_ipv6_bad_length, true, "IPv6 payload length beyond the frame")                           \
  X(drop_ipv6_bad_source, true, "IPv6 source multicast or loopback")                              \
  X(drop_no_route, true, "no host route and the default action is drop")                          \
  X(drop_ttl_exceeded, true, "TTL/hop limit ran out (ICMP Time Exceeded sent if the rate allowed)")\
  X(drop_icmp_rate_limited, true, "ICMP error not sent: rate limit reached")                      \
  X(drop_too_big, true, "packet too big for the tunnel MTU or the egress port's mtu, with DF set or IPv6 (ICMP sent)")\
  X(drop_fragmentation_failed, true, "fragmentation failed (no mbufs)")                           \
  X(drop_decap_ecn_ce_not_ect, true, "RFC 6040: CE outer on a Not-ECT inner packet")              \
  X(drop_decap_fragmented, true, "tunnelled packet arrived as outer fragments (no reassembly)")   \
  X(drop_decap_inner_bad, true, "decapsulated inner packet malformed or of the wrong family")     \
  X(drop_decap_unknown_peer, true, "tunnel from an outer source that is no known NVE (neither in tunnel.peers nor learnt from nvad)")\
  X(drop_decap_nested, true, "decapsulated packet addressed to one of our endpoints again")       \
  X(drop_ipv4_options, true, "XDP mode: IPv4 options on a packet it must route (host route, or decapsulated)")\
  X(drop_neighbour_unresolved, true, "fabric gateway MAC not yet known")                          \
  X(drop_nve_unknown, true, "tunnel route to an NVE with no outer header (being replaced)")       \
  X(drop_no_source_address, true, "no own address of the needed family for an outer header/ICMP")\
  X(drop_no_headroom, true, "not enough mbuf headroom for the outer header")                      \
  X(drop_frame_too_long, true, "frame longer than the ingress port's mtu + 18 bytes (Ethernet and VLAN headers)")\
  X(drop_multisegment, true, "chained packet whose first segment does not hold its headers, or that could not be made contiguous where it must be")\
  X(drop_arp_malformed, true, "ARP that is not Ethernet/IPv4 or is cut short")                    \
  X(drop_nd_malformed, true, "Neighbour Discovery message failing RFC 4861 validity checks")     \
  X(drop_control_ring_full, true, "control-thread ring full")                                     \
  X(drop_tx_multisegment, true, "chained packet for a port that sends no chains that could not be copied into one mbuf (none large enough, or none free)")\
  X(drop_tx_full, true, "port TX queue full")

#endif
