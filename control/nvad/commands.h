// nvad's answers to nvectl (-d nvad): show bindings, show peers, show
// protocol stats, from the same state_json() the tests read.
#pragma once

#include "control/ctl/ctl_socket.h"
#include "control/nvad/server.h"

namespace nvmove::nvad {

void register_nvad_commands(ctl::CtlServer &ctl, Server &server);

// show cluster: this nvad's role among those sharing an etcd store, or
// that it runs alone (cluster null: SQLite).
void register_cluster_commands(ctl::CtlServer &ctl, Cluster *cluster, const NvadConfig &config);

class ExaBgpExport;
// show exported: the host routes announced through the BGP speaker (export:).
void register_export_commands(ctl::CtlServer &ctl, const ExaBgpExport &exporter);

}  // namespace nvmove::nvad
