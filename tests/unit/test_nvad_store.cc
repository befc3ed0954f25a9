// nvad: the SQLite store, and a restart that resumes pending notifications
// where they were.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "control/nvad/testing/nvad_test_support.h"

namespace nvmove::nvad {
namespace {

using namespace testing;
using namespace std::chrono_literals;
using proto::Status;

// A fresh database file in a temporary directory, removed afterwards.
class TempDatabase {
 public:
  TempDatabase() {
    std::string pattern = (std::filesystem::temp_directory_path() / "nvad-store-XXXXXX").string();
    dir_ = mkdtemp(pattern.data()) ? pattern : "";
    EXPECT_FALSE(dir_.empty());
  }
  ~TempDatabase() { std::filesystem::remove_all(dir_); }
  std::string path() const { return dir_ + "/nvad.db"; }

 private:
  std::string dir_;
};

std::unique_ptr<Store> open_store(const std::string &path, const Clock &clock) {
  auto store = open_sqlite_store(path, clock);
  EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
  return store.ok() ? std::move(store).value() : nullptr;
}

std::string pragma(const std::string &path, const char *name) {
  sqlite3 *db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt *stmt = nullptr;
  std::string value;
  if (sqlite3_prepare_v2(db, (std::string("PRAGMA ") + name).c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW)
    value = reinterpret_cast<const char *>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

// A registrar whose every outcome goes to the store, as the server does it.
struct PersistentHarness : RegistrarHarness {
  explicit PersistentHarness(const std::string &path, RegistrationPolicy policy = {})
      : RegistrarHarness(std::move(policy)), store(open_store(path, clock)) {}
  Outcome persist(Outcome outcome) {
    if (store) {
      auto error = store->apply(outcome.writes);
      EXPECT_FALSE(error) << error->message;
    }
    return outcome;
  }
  std::unique_ptr<Store> store;
};

TEST(NvadStore, UsesWalAndAVersionedSchema) {
  TempDatabase db;
  FakeClock clock;
  ASSERT_TRUE(open_store(db.path(), clock));
  EXPECT_EQ(pragma(db.path(), "journal_mode"), "wal");
  EXPECT_EQ(pragma(db.path(), "user_version"), "2");
}

TEST(NvadStore, UpgradesAVersion1Database) {
  TempDatabase db;
  {
    PersistentHarness h(db.path());
    h.persist(h.register_vm(nve_a(), 1));
    h.persist(h.register_vm(nve_b(), 1));  // A is a previous NVE
  }
  // What an nvad of version 1 left behind: no role column.
  sqlite3 *raw = nullptr;
  sqlite3_open(db.path().c_str(), &raw);
  ASSERT_EQ(sqlite3_exec(raw, "ALTER TABLE previous_nves DROP COLUMN role; PRAGMA user_version = 1", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  FakeClock clock;
  auto store = open_store(db.path(), clock);
  ASSERT_TRUE(store);
  EXPECT_EQ(pragma(db.path(), "user_version"), "2");
  auto loaded = store->load();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->bindings.at(0).previous.size(), 1u);
  EXPECT_EQ(loaded->bindings.at(0).previous[0].role, PreviousRole::Nve);
}

TEST(NvadStore, ADefaultRouterEntryKeepsItsRole) {
  TempDatabase db;
  RegistrationPolicy policy;
  DefaultRouter router;
  router.address = ip("192.0.2.254");
  router.serves = {nve_a().control};
  router.virtual_networks = {kVn};
  policy.default_routers.push_back(router);
  PersistentHarness h(db.path(), policy);
  h.persist(h.register_vm(nve_a(), 1));
  h.persist(h.register_vm(nve_b(), 1));
  auto loaded = open_store(db.path(), h.clock)->load();
  ASSERT_TRUE(loaded.ok());
  const auto &previous = loaded->bindings.at(0).previous;
  ASSERT_EQ(previous.size(), 2u);
  EXPECT_EQ(previous[0].role, PreviousRole::Nve);
  EXPECT_EQ(previous[1].role, PreviousRole::Router);
  EXPECT_EQ(previous[1].nve.control, router.address);
}

TEST(NvadStore, RefusesADatabaseFromANewerNvad) {
  TempDatabase db;
  FakeClock clock;
  ASSERT_TRUE(open_store(db.path(), clock));
  sqlite3 *raw = nullptr;
  sqlite3_open(db.path().c_str(), &raw);
  sqlite3_exec(raw, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  auto reopened = open_sqlite_store(db.path(), clock);
  ASSERT_FALSE(reopened.ok());
  EXPECT_NE(reopened.error().message.find("newer"), std::string::npos);
}

TEST(NvadStore, DamagedRowStopsTheLoadWithAClearError) {
  TempDatabase db;
  PersistentHarness h(db.path());
  h.persist(h.register_vm(nve_a(), 1));
  sqlite3 *raw = nullptr;
  sqlite3_open(db.path().c_str(), &raw);
  sqlite3_exec(raw, "UPDATE bindings SET addresses = '[\"not an address\"]'", nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  auto loaded = h.store->load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("addresses of VM"), std::string::npos);
}

TEST(NvadStore, BindingsSurviveARoundTrip) {
  TempDatabase db;
  PersistentHarness h(db.path());
  h.persist(h.register_vm(nve_a(), 1));
  h.persist(h.register_vm(nve_b(), 1, 150, proto::MobilityMode::Warm));
  h.persist(h.register_vm(nve_a(), 2, 20));
  h.persist(h.deregister(nve_a(), 2));
  const Binding &before = h.binding(1);

  auto loaded = open_store(db.path(), h.clock)->load();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->bindings.size(), 2u);
  const Binding &after = loaded->bindings[0];
  EXPECT_EQ(after.key(), before.key());
  EXPECT_EQ(after.mac, before.mac);
  EXPECT_EQ(after.addresses, before.addresses);
  EXPECT_EQ(after.serving, before.serving);
  EXPECT_EQ(after.state, BindingState::Active);
  EXPECT_EQ(after.granted_lifetime, before.granted_lifetime);
  EXPECT_EQ(after.expires_at, before.expires_at);
  EXPECT_EQ(after.last_move_mode, proto::MobilityMode::Warm);
  EXPECT_EQ(after.move_count, 1u);
  EXPECT_EQ(after.recent_moves, before.recent_moves);
  EXPECT_EQ(after.last_requests, before.last_requests);
  ASSERT_EQ(after.previous.size(), 1u);
  EXPECT_EQ(after.previous[0].nve, before.previous[0].nve);
  EXPECT_EQ(after.previous[0].state, NotificationState::Pending);
  EXPECT_EQ(after.previous[0].attempts, before.previous[0].attempts);
  EXPECT_EQ(after.previous[0].next_retransmit, before.previous[0].next_retransmit);
  EXPECT_EQ(loaded->bindings[1].state, BindingState::DeregisteredGrace);

  const PeerState *a = h.registrar.peers().find(nve_a().control);
  ASSERT_TRUE(a);
  const PeerState &stored_a = loaded->peers.at(nve_a().control);
  EXPECT_EQ(stored_a.next_sequence, a->next_sequence);
  EXPECT_EQ(stored_a.received.last_sequence(), a->received.last_sequence());
  EXPECT_EQ(stored_a.received.last_timestamp_ns(), a->received.last_timestamp_ns());
  EXPECT_EQ(stored_a.port, nve_a().port);
}

TEST(NvadStore, RestartResumesPendingNotificationsWhereTheyWere) {
  TempDatabase db;
  PersistentHarness before(db.path());
  before.persist(before.register_vm(nve_a(), 1));
  before.persist(before.register_vm(nve_c(), 2));
  auto to_a = before.persist(before.register_vm(nve_b(), 1)).notifications.at(0);
  auto to_c = before.persist(before.register_vm(nve_b(), 2)).notifications.at(0);
  before.clock.advance(1s);
  auto first_retry = before.persist(before.registrar.on_timers()).notifications;
  ASSERT_EQ(first_retry.size(), 2u);  // retries = 1 for both
  before.persist(before.acknowledge(to_c));  // C answers before the restart
  before.clock.advance(1500ms);             // nvad dies 2.5 s after the move

  // A new process: same wall clock, a new monotonic origin.
  FakeClock clock(Instant{} + 7h, before.clock.wall_ns());
  Registrar after(RegistrationPolicy{}, clock);
  auto loaded = open_store(db.path(), clock)->load();
  ASSERT_TRUE(loaded.ok());
  after.restore(std::move(loaded).value());
  const Binding *vm1 = after.cache().find(key(1));
  ASSERT_TRUE(vm1);
  EXPECT_EQ(vm1->previous.at(0).retries, 1u);
  EXPECT_EQ(after.cache().find(key(2))->previous.at(0).state, NotificationState::Acknowledged);

  // The second retransmission was due 3 s after the move: 0.5 s from now.
  EXPECT_EQ(after.next_deadline(), clock.now() + 500ms);
  clock.advance(499ms);
  EXPECT_TRUE(after.on_timers().notifications.empty());
  clock.advance(1ms);
  auto resumed = after.on_timers().notifications;
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(resumed[0].to.address, nve_a().control);
  // The per-peer counter continued: the NVE sees strictly newer requests.
  EXPECT_EQ(resumed[0].message.sequence, proto::seq_next(first_retry[0].to.address == nve_a().control
                                                             ? first_retry[0].message.sequence
                                                             : first_retry[1].message.sequence));
  EXPECT_EQ(after.cache().find(key(1))->previous.at(0).retries, 2u);

  // An acknowledgement of a transmission from before the restart still counts.
  auto ack = proto::make_reply(to_a.message, Status::Accepted, 8);
  auto outcome = after.handle_reply(Inbound{nve_a().control, nve_a().port, ack});
  EXPECT_FALSE(outcome.dropped);
  EXPECT_EQ(after.cache().find(key(1))->previous.at(0).state, NotificationState::Acknowledged);
  // Nothing is retransmitted once acknowledged; an hour later the binding
  // has expired and the previous NVEs are told only that (lifetime 0).
  clock.advance(1h);
  for (const auto &n : after.on_timers().notifications) EXPECT_EQ(n.message.lifetime, 0);
}

TEST(NvadStore, RestartKeepsReplayProtection) {
  TempDatabase db;
  PersistentHarness before(db.path());
  auto request = before.request(nve_a(), 1);
  before.persist(before.send(nve_a(), request));

  Registrar after(RegistrationPolicy{}, before.clock);
  auto loaded = open_store(db.path(), before.clock)->load();
  ASSERT_TRUE(loaded.ok());
  after.restore(std::move(loaded).value());
  auto replayed = after.handle_request(Inbound{nve_a().control, nve_a().port, request});
  EXPECT_EQ(replayed.dropped, DropReason::Duplicate);
}

TEST(NvadStore, BindingThatExpiredWhileDownIsRemovedAtTheFirstTick) {
  TempDatabase db;
  PersistentHarness before(db.path());
  before.persist(before.register_vm(nve_a(), 1, 10));  // 40 s

  FakeClock clock(Instant{} + 3h, before.clock.wall_ns() + 60'000'000'000ULL);  // up again 60 s later
  Registrar after(RegistrationPolicy{}, clock);
  auto store = open_store(db.path(), clock);
  auto loaded = store->load();
  ASSERT_TRUE(loaded.ok());
  after.restore(std::move(loaded).value());
  ASSERT_NE(after.cache().find(key(1)), nullptr);
  auto outcome = after.on_timers();
  EXPECT_EQ(after.counters().expirations, 1u);
  EXPECT_FALSE(store->apply(outcome.writes));
  // Ended at the first tick, deleted after the grace period.
  clock.advance(RegistrationPolicy{}.deregistration_grace);
  outcome = after.on_timers();
  EXPECT_EQ(after.cache().find(key(1)), nullptr);
  EXPECT_FALSE(store->apply(outcome.writes));
  auto reloaded = store->load();
  ASSERT_TRUE(reloaded.ok());
  EXPECT_TRUE(reloaded->bindings.empty());
}

}  // namespace
}  // namespace nvmove::nvad
