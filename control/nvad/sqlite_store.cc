// The Store on SQLite. WAL mode, so a reader (an operator's sqlite3 shell, a
// backup) never blocks nvad; synchronous=NORMAL, so a commit costs no fsync
// (WAL makes that safe against corruption; a power cut can lose the last
// commits, which the NVEs' next refreshes put back).
#include <spdlog/spdlog.h>

#include <map>

#include "control/nvad/sqlite_db.h"
#include "control/nvad/store.h"
#include "control/nvad/store_columns.h"
#include "control/nvad/text_format.h"
#include "control/protocol/address_text.h"

namespace nvmove::nvad {
namespace {

namespace columns = store_columns;

constexpr int kSchemaVersion = 2;

// Version 1, upgraded by the steps below. Any change gets a new version and
// an upgrade step in prepare_schema(); an nvad never opens a database newer
// than it knows.
constexpr const char *kSchemaV1 = R"sql(
CREATE TABLE bindings (
  virtual_network INTEGER NOT NULL,
  vm_id BLOB NOT NULL,
  mac BLOB NOT NULL,
  addresses TEXT NOT NULL,
  serving_address TEXT NOT NULL,
  serving_port INTEGER NOT NULL,
  serving_endpoints TEXT NOT NULL,
  state INTEGER NOT NULL,
  granted_lifetime INTEGER NOT NULL,
  registered_at_ns INTEGER NOT NULL,
  expires_at_ns INTEGER NOT NULL,
  last_move_mode INTEGER NOT NULL,
  move_count INTEGER NOT NULL,
  recent_moves_ns TEXT NOT NULL,
  flapping INTEGER NOT NULL,
  flap_detected_at_ns INTEGER,
  PRIMARY KEY (virtual_network, vm_id)
) WITHOUT ROWID;
CREATE TABLE previous_nves (
  virtual_network INTEGER NOT NULL,
  vm_id BLOB NOT NULL,
  position INTEGER NOT NULL,
  address TEXT NOT NULL,
  port INTEGER NOT NULL,
  endpoints TEXT NOT NULL,
  redirect_until_ns INTEGER NOT NULL,
  state INTEGER NOT NULL,
  retries INTEGER NOT NULL,
  next_retransmit_ns INTEGER NOT NULL,
  attempts TEXT NOT NULL,
  rejected_with INTEGER,
  PRIMARY KEY (virtual_network, vm_id, position),
  FOREIGN KEY (virtual_network, vm_id) REFERENCES bindings ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE last_requests (
  virtual_network INTEGER NOT NULL,
  vm_id BLOB NOT NULL,
  address TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  timestamp_ns INTEGER NOT NULL,
  PRIMARY KEY (virtual_network, vm_id, address),
  FOREIGN KEY (virtual_network, vm_id) REFERENCES bindings ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE peers (
  address TEXT PRIMARY KEY,
  received_sequence INTEGER,
  received_timestamp_ns INTEGER,
  next_sequence INTEGER NOT NULL,
  last_sent_timestamp_ns INTEGER NOT NULL,
  port INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// Version 2: default routers are notified like previous NVEs (PreviousRole).
constexpr const char *kUpgradeToV2 =
    "ALTER TABLE previous_nves ADD COLUMN role INTEGER NOT NULL DEFAULT 0";

int64_t as_column(uint64_t value) { return static_cast<int64_t>(value); }

class SqliteStore final : public Store {
 public:
  SqliteStore(const std::string &path, const Clock &clock) : db_(path), clock_(clock) {
    configure(path);
    prepare_schema();
  }

  std::optional<StoreError> apply(std::span<const StoreWrite> writes) override {
    if (writes.empty()) return std::nullopt;
    try {
      sqlite::Transaction transaction(db_);
      for (const auto &write : writes) std::visit([&](const auto &w) { execute(w); }, write);
      transaction.commit();
      return std::nullopt;
    } catch (const sqlite::Error &e) {
      return StoreError{std::string("store write failed: ") + e.what()};
    }
  }

  proto::Result<StoredState, StoreError> load() override {
    try {
      return load_all();
    } catch (const sqlite::Error &e) {
      return StoreError{std::string("store read failed: ") + e.what()};
    }
  }

 private:
  void configure(const std::string &path) {
    std::string mode = db_.pragma("PRAGMA journal_mode = WAL");
    if (mode != "wal" && mode != "memory")
      spdlog::warn("{}: journal mode is '{}', not WAL (does this filesystem support it?)", path, mode);
    db_.exec("PRAGMA synchronous = NORMAL");
    db_.exec("PRAGMA foreign_keys = ON");
  }

  void prepare_schema() {
    int version = std::stoi(db_.pragma("PRAGMA user_version"));
    if (version == kSchemaVersion) return;
    if (version > kSchemaVersion)
      throw sqlite::Error("schema version " + std::to_string(version) + " is newer than this nvad (" +
                          std::to_string(kSchemaVersion) + "); refusing to touch it");
    sqlite::Transaction transaction(db_);
    if (version < 1) db_.exec(kSchemaV1);
    if (version < 2) db_.exec(kUpgradeToV2);
    db_.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
    transaction.commit();
  }

  void execute(const EraseBinding &write) {
    // Children first: correct whether or not foreign keys are enforced.
    for (const char *sql :
         {"DELETE FROM previous_nves WHERE virtual_network = ?1 AND vm_id = ?2",
          "DELETE FROM last_requests WHERE virtual_network = ?1 AND vm_id = ?2",
          "DELETE FROM bindings WHERE virtual_network = ?1 AND vm_id = ?2"})
      db_.statement(sql)
          .bind(1, int64_t{write.key.virtual_network})
          .bind(2, write.key.vm_id)
          .run();
  }

  void execute(const PutBinding &write) {
    const Binding &b = write.binding;
    execute(EraseBinding{b.key()});
    sqlite::Statement &insert =
        db_.statement("INSERT INTO bindings VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)");
    insert.bind(1, int64_t{b.virtual_network})
        .bind(2, b.vm_id)
        .bind(3, b.mac)
        .bind(4, columns::addresses(b.addresses))
        .bind(5, b.serving.control.to_string())
        .bind(6, int64_t{b.serving.port})
        .bind(7, columns::endpoints(b.serving.endpoints))
        .bind(8, int64_t{static_cast<uint8_t>(b.state)})
        .bind(9, int64_t{b.granted_lifetime})
        .bind(10, as_column(to_wall_ns(b.registered_at, clock_)))
        .bind(11, as_column(to_wall_ns(b.expires_at, clock_)))
        .bind(12, int64_t{static_cast<uint8_t>(b.last_move_mode)})
        .bind(13, as_column(b.move_count))
        .bind(14, columns::instants(b.recent_moves, clock_))
        .bind(15, int64_t{b.flapping});
    if (b.flap_detected_at) insert.bind(16, as_column(to_wall_ns(*b.flap_detected_at, clock_)));
    insert.run();
    insert_previous(b);
    insert_last_requests(b);
  }

  void insert_previous(const Binding &b) {
    sqlite::Statement &insert =
        db_.statement("INSERT INTO previous_nves VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
    for (size_t i = 0; i < b.previous.size(); i++) {
      const PreviousNve &p = b.previous[i];
      insert.bind(1, int64_t{b.virtual_network})
          .bind(2, b.vm_id)
          .bind(3, static_cast<int64_t>(i))
          .bind(4, p.nve.control.to_string())
          .bind(5, int64_t{p.nve.port})
          .bind(6, columns::endpoints(p.nve.endpoints))
          .bind(7, as_column(to_wall_ns(p.redirect_until, clock_)))
          .bind(8, int64_t{static_cast<uint8_t>(p.state)})
          .bind(9, int64_t{p.retries})
          .bind(10, as_column(to_wall_ns(p.next_retransmit, clock_)))
          .bind(11, columns::attempts(p.attempts));
      if (p.rejected_with) insert.bind(12, int64_t{static_cast<uint8_t>(*p.rejected_with)});
      insert.bind(13, int64_t{static_cast<uint8_t>(p.role)});
      insert.run();
    }
  }

  void insert_last_requests(const Binding &b) {
    sqlite::Statement &insert = db_.statement("INSERT INTO last_requests VALUES (?1, ?2, ?3, ?4, ?5)");
    for (const auto &[peer, stamp] : b.last_requests) {
      insert.bind(1, int64_t{b.virtual_network})
          .bind(2, b.vm_id)
          .bind(3, peer.to_string())
          .bind(4, int64_t{stamp.sequence})
          .bind(5, as_column(stamp.timestamp_ns))
          .run();
    }
  }

  void execute(const PutPeerState &write) {
    const PeerState &peer = write.state;
    sqlite::Statement &upsert = db_.statement("INSERT OR REPLACE INTO peers VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    upsert.bind(1, write.peer.to_string());
    if (peer.received.has_history()) {
      upsert.bind(2, int64_t{*peer.received.last_sequence()});
      upsert.bind(3, as_column(*peer.received.last_timestamp_ns()));
    }
    upsert.bind(4, int64_t{peer.next_sequence})
        .bind(5, as_column(peer.last_sent_timestamp_ns))
        .bind(6, int64_t{peer.port})
        .run();
  }

  StoredState load_all();
  Binding read_binding(const sqlite::Statement &row);
  PreviousNve read_previous(const sqlite::Statement &row, const std::string &vm);

  sqlite::Database db_;
  const Clock &clock_;
};

// A row that does not parse stops the load: nvad must not start with half a
// binding cache and quietly forget VMs.
template <typename T>
T require(std::optional<T> value, const std::string &what) {
  if (!value) throw sqlite::Error("damaged row: " + what);
  return std::move(*value);
}

Binding SqliteStore::read_binding(const sqlite::Statement &row) {
  Binding b;
  b.virtual_network = static_cast<uint32_t>(row.integer(0));
  b.vm_id = row.blob(1);
  std::string vm = vm_id_text(b.vm_id);
  auto mac = row.blob(2);
  if (mac.size() != b.mac.size()) throw sqlite::Error("damaged row: MAC of VM " + vm);
  std::copy(mac.begin(), mac.end(), b.mac.begin());
  b.addresses = require(columns::parse_addresses(row.text(3)), "addresses of VM " + vm);
  b.serving.control = require(proto::parse_ip_address(row.text(4)), "serving NVE of VM " + vm);
  b.serving.port = static_cast<uint16_t>(row.integer(5));
  b.serving.endpoints = require(columns::parse_endpoints(row.text(6)), "endpoints of VM " + vm);
  b.state = row.integer(7) == 0 ? BindingState::Active : BindingState::DeregisteredGrace;
  b.granted_lifetime = static_cast<uint16_t>(row.integer(8));
  b.registered_at = from_wall_ns(static_cast<uint64_t>(row.integer(9)), clock_);
  b.expires_at = from_wall_ns(static_cast<uint64_t>(row.integer(10)), clock_);
  b.last_move_mode = static_cast<proto::MobilityMode>(row.integer(11) & 3);
  b.move_count = static_cast<uint64_t>(row.integer(12));
  b.recent_moves = require(columns::parse_instants(row.text(13), clock_), "moves of VM " + vm);
  b.flapping = row.integer(14) != 0;
  if (!row.is_null(15)) b.flap_detected_at = from_wall_ns(static_cast<uint64_t>(row.integer(15)), clock_);
  return b;
}

PreviousNve SqliteStore::read_previous(const sqlite::Statement &row, const std::string &vm) {
  PreviousNve p;
  p.nve.control = require(proto::parse_ip_address(row.text(3)), "previous NVE of VM " + vm);
  p.nve.port = static_cast<uint16_t>(row.integer(4));
  p.nve.endpoints = require(columns::parse_endpoints(row.text(5)), "previous NVE endpoints of VM " + vm);
  p.redirect_until = from_wall_ns(static_cast<uint64_t>(row.integer(6)), clock_);
  int64_t state = row.integer(7);
  if (state < 0 || state > static_cast<int64_t>(NotificationState::Failed))
    throw sqlite::Error("damaged row: notification state of VM " + vm);
  p.state = static_cast<NotificationState>(state);
  p.retries = static_cast<unsigned>(row.integer(8));
  p.next_retransmit = from_wall_ns(static_cast<uint64_t>(row.integer(9)), clock_);
  p.attempts = require(columns::parse_attempts(row.text(10)), "notification attempts of VM " + vm);
  if (!row.is_null(11)) p.rejected_with = static_cast<proto::Status>(row.integer(11));
  const int64_t role = row.integer(12);
  if (role < 0 || role > static_cast<int64_t>(PreviousRole::Router))
    throw sqlite::Error("damaged row: previous NVE role of VM " + vm);
  p.role = static_cast<PreviousRole>(role);
  return p;
}

BindingKey key_of(const sqlite::Statement &row) {
  return BindingKey{static_cast<uint32_t>(row.integer(0)), row.blob(1)};
}

StoredState SqliteStore::load_all() {
  std::map<BindingKey, Binding> bindings;
  sqlite::Statement binding_rows(db_.handle(), "SELECT * FROM bindings");
  while (binding_rows.step()) {
    Binding b = read_binding(binding_rows);
    bindings.emplace(b.key(), std::move(b));
  }
  sqlite::Statement previous_rows(
      db_.handle(), "SELECT * FROM previous_nves ORDER BY virtual_network, vm_id, position");
  while (previous_rows.step()) {
    auto it = bindings.find(key_of(previous_rows));
    if (it == bindings.end()) continue;  // orphan: its binding was deleted
    it->second.previous.push_back(read_previous(previous_rows, vm_id_text(it->first.vm_id)));
  }
  sqlite::Statement request_rows(db_.handle(), "SELECT * FROM last_requests");
  while (request_rows.step()) {
    auto it = bindings.find(key_of(request_rows));
    if (it == bindings.end()) continue;
    auto peer = require(proto::parse_ip_address(request_rows.text(2)),
                        "registering NVE of VM " + vm_id_text(it->first.vm_id));
    it->second.last_requests[peer] = RequestStamp{static_cast<uint16_t>(request_rows.integer(3)),
                                                  static_cast<uint64_t>(request_rows.integer(4))};
  }
  StoredState state;
  sqlite::Statement peer_rows(db_.handle(), "SELECT * FROM peers");
  while (peer_rows.step()) {
    auto peer = require(proto::parse_ip_address(peer_rows.text(0)), "peer " + peer_rows.text(0));
    PeerState &loaded = state.peers[peer];
    if (!peer_rows.is_null(1))
      loaded.received.record(static_cast<uint16_t>(peer_rows.integer(1)),
                             static_cast<uint64_t>(peer_rows.integer(2)));
    loaded.next_sequence = static_cast<uint16_t>(peer_rows.integer(3));
    loaded.last_sent_timestamp_ns = static_cast<uint64_t>(peer_rows.integer(4));
    loaded.port = static_cast<uint16_t>(peer_rows.integer(5));
  }
  for (auto &[key, binding] : bindings) state.bindings.push_back(std::move(binding));
  return state;
}

}  // namespace

proto::Result<std::unique_ptr<Store>, StoreError> open_sqlite_store(const std::string &path,
                                                                    const Clock &clock) {
  try {
    return std::unique_ptr<Store>(std::make_unique<SqliteStore>(path, clock));
  } catch (const sqlite::Error &e) {
    return StoreError{path + ": " + e.what()};
  } catch (const std::exception &e) {  // std::stoi on a corrupt user_version
    return StoreError{path + ": " + e.what()};
  }
}

}  // namespace nvmove::nvad
