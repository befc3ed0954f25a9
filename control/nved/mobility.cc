#include "control/nved/mobility.h"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include <rte_mbuf.h>

#include "control/agent/nvad_list.h"
#include "control/nved/agent_commands.h"
#include "control/nved/vm_announcement.h"

namespace nvmove {

agent::AgentConfig agent_config_of(const NvedConfig &cfg) {
  agent::AgentConfig ac;
  ac.nvads = cfg.agent.nvads;
  ac.nvad_port = cfg.agent.nvad_port;
  if (cfg.nve_ipv4.is_v4()) ac.self.ipv4 = cfg.nve_ipv4;
  if (cfg.nve_ipv6.is_v6()) ac.self.ipv6 = cfg.nve_ipv6;
  ac.lifetime_units = static_cast<uint16_t>(cfg.agent.lifetime_s / 4);
  ac.retransmit_initial_ms = cfg.agent.retransmit_initial_ms;
  ac.retransmit_max_ms = cfg.agent.retransmit_max_ms;
  ac.retransmit_count = cfg.agent.retransmit_count;
  ac.bul_idle_ms = cfg.agent.idle_timeout_s * 1000;
  ac.timestamp_window = std::chrono::milliseconds(cfg.agent.timestamp_window_ms);
  for (const auto &e : cfg.vn_endpoints) {
    proto::NveAddresses &a = ac.vn_endpoints[e.vn];
    if (e.ipv4.family) a.ipv4 = e.ipv4;
    if (e.ipv6.family) a.ipv6 = e.ipv6;
  }
  if (cfg.agent.router) {
    agent::RouterSettings &r = ac.router;
    r.enabled = true;
    r.vns = {cfg.fabric_vn};
    r.on_link = cfg.agent.router_on_link;
    r.prefixes = cfg.agent.router_prefixes;
    if (const PortConfig *fabric = cfg.fabric_port()) r.fabric_port = fabric->port_id;
  }
  return ac;
}

std::unique_ptr<Mobility> Mobility::start(const NvedConfig &cfg, NvedRuntime &rt, ctl::CtlServer &ctl,
                                          ControlLoop &loop) {
  if (!cfg.agent.enabled) return nullptr;
  std::unique_ptr<Mobility> m(new Mobility());
  m->key_file_ = cfg.agent.key_file;
  m->nvads_ = cfg.agent.nvads;
  if (auto why = agent::load_agent_keys(m->key_file_, m->nvads_, m->keys_)) throw std::runtime_error("agent.key_file: " + *why);
  m->transport_ = std::make_unique<agent::UdpTransport>(cfg.agent.listen, cfg.agent.listen_port);
  m->agent_ = std::make_unique<agent::NveAgent>(agent_config_of(cfg), rt.routes(), *m->transport_, m->keys_, m->clock_);
  m->state_file_ = std::make_unique<agent::AgentStateFile>(cfg.agent.state_file, *m->agent_);
  register_agent_commands(ctl, *m->agent_, cfg);
  if (cfg.agent.router) {
    // The default router's next hops are resolved on the fabric like the
    // gateway, and each MAC learnt installs the host routes waiting for it.
    agent::NveAgent *ag = m->agent_.get();
    loop.neighbours().watch([ag] { return ag->router_next_hops(); },
                            [ag](const IpAddress &a, const MacAddress &mac) { ag->on_neighbour(a, mac); });
  }
  // A VM's gratuitous ARP / unsolicited NA on an access port: the earliest
  // sign it finished moving in (seed 003 section 8).
  loop.add_packet_handler([self = m.get(), &cfg](const rte_mbuf *pkt) {
    const PortConfig *port = nullptr;
    for (const auto &p : cfg.ports)
      if (p.port_id == pkt->port && p.role == PortConfig::Role::Access) port = &p;
    if (!port || pkt->nb_segs != 1) return false;
    const auto a = parse_vm_announcement(rte_pktmbuf_mtod(pkt, const uint8_t *), pkt->data_len);
    if (!a) return false;
    self->agent_->on_vm_announcement(pkt->port, a->vlan, a->mac, a->address);
    return true;
  });
  Mobility *self = m.get();
  loop.add_poller([self] {
    self->transport_->poll([self](const IpAddress &from, uint16_t port, std::span<const uint8_t> d) {
      self->agent_->on_datagram(from, port, d);
    });
    self->agent_->tick();
    self->state_file_->save_if_changed();
  });
  m->state_file_->restore();
  spdlog::info("mobility agent: nvad {} port {}, listening on {} port {}", agent::nvads_text(cfg.agent.nvads),
               cfg.agent.nvad_port, cfg.agent.listen.to_string(), m->transport_->local_port());
  return m;
}

std::optional<std::string> Mobility::reload_keys() {
  return agent::load_agent_keys(key_file_, nvads_, keys_);  // in place: the agent holds a reference to keys_
}

}  // namespace nvmove
