// SIGKILL at random moments while a writer adds and deletes and the IVF index trains and saves.
// After reopen: every acknowledged write is searchable, nothing acknowledged as deleted comes
// back, and the index agrees with storage exactly.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <set>
#include <thread>

#include "child_process.h"
#include "db_test_support.h"

using namespace emberdb;
using namespace emberdb_test;

namespace {

constexpr uint32_t kDim = 16;

// Records on the child's stdout: a non-negative n acknowledges batch n's 50 adds; -(n+1)
// acknowledges the deletion of document n.
int RunWriter(const std::string& path, uint32_t seed) {
  const int fd = 1;
  std::unique_ptr<DB> db;
  Options options;
  if (!DB::Open(path, options, &db).ok()) return 3;
  std::shared_ptr<Collection> c;
  if (!db->GetCollection("docs", &c).ok()) return 4;
  auto vecs = ClusteredVectors(60000, kDim, 20, seed);
  std::mt19937 rng(seed);
  for (int32_t batch = 0; batch < 1200; ++batch) {
    std::vector<Document> docs;
    for (int i = 0; i < 50; ++i) {
      int n = batch * 50 + i;
      docs.push_back({"d" + std::to_string(n), "", {}, vecs[n]});
    }
    WriteOptions wo;
    wo.sync = batch % 4 == 0;  // some writes also pay for fsync: slower, and durable on power loss
    if (!c->Add(docs, wo).ok()) return 5;
    if (write(fd, &batch, sizeof batch) != sizeof batch) return 6;
    // Bursts with pauses, as real ingest comes: training starts in the pauses.
    if (batch % 40 == 39) std::this_thread::sleep_for(std::chrono::milliseconds(400));
    if (batch % 2 == 1) {
      int32_t victim = static_cast<int32_t>(rng() % ((batch + 1) * 50));
      uint64_t deleted = 0;
      if (!c->Delete({"d" + std::to_string(victim)}, {}, &deleted).ok()) return 7;
      int32_t record = -(victim + 1);
      if (write(fd, &record, sizeof record) != sizeof record) return 6;
    }
  }
  return 0;
}

RegisterChild ivf_writer("ivf-writer", [](int argc, char** argv) {
  return argc == 2 ? RunWriter(argv[0], static_cast<uint32_t>(std::stoul(argv[1]))) : 2;
});

}  // namespace

TEST_CASE("SIGKILL during writes, deletes, training and index saves loses nothing acknowledged") {
  std::mt19937 rng(2024);
  int trained_rounds = 0;
  for (uint32_t round = 0; round < 6; ++round) {
    CAPTURE(round);
    TempDir dir("ivf-crash");
    {
      auto db = OpenDb(dir.path());
      CollectionOptions o;
      o.dimension = kDim;
      o.train_threshold = 2000;
      o.nprobe = 8;
      std::shared_ptr<Collection> c;
      REQUIRE(db->CreateCollection("docs", o, &c).ok());
    }
    Child child = SpawnChild("ivf-writer", {dir.path(), std::to_string(round)});
    REQUIRE(child.pid > 0);
    // Later rounds die later: early ones during exact ingest, later ones around training.
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + 700 * round + rng() % 500));
    KillChild(child);
    int32_t last_batch = -1, record;
    std::set<int32_t> deleted;
    while (read(child.fd, &record, sizeof record) == sizeof record) {
      if (record >= 0) {
        last_batch = record;
      } else {
        deleted.insert(-record - 1);
      }
    }
    close(child.fd);
    CAPTURE(last_batch);

    auto db = OpenDb(dir.path());
    std::shared_ptr<Collection> c;
    REQUIRE(db->GetCollection("docs", &c).ok());
    auto vecs = ClusteredVectors(60000, kDim, 20, round);
    std::set<std::string> stored;
    for (auto& id : AllIds(*c)) stored.insert(id);
    for (int32_t n = 0; n < (last_batch + 1) * 50; ++n) {
      bool gone = deleted.count(n) > 0;
      if (gone) {
        CHECK(stored.count("d" + std::to_string(n)) == 0);
      } else {
        CHECK(stored.count("d" + std::to_string(n)) == 1);
      }
    }
    // The index holds exactly the stored documents: each is its own nearest neighbour under an
    // exhaustive probe, and deleted ones are never returned.
    CollectionStats s;
    REQUIRE(c->Stats(&s).ok());
    CHECK(s.vectors_indexed == stored.size());
    CHECK(s.documents == stored.size());
    if (s.index_kind != "Flat") ++trained_rounds;
    if (stored.empty()) continue;  // killed before its first acknowledgement
    QueryOptions qo;
    qo.k = 1;
    qo.nprobe = 1 << 20;
    qo.include = kIncludeNone;
    size_t checked = 0;
    for (int32_t n = 0; n < std::min(60000, (last_batch + 2) * 50); n += 23) {
      std::vector<Hit> hits;
      Status qs = c->Query(vecs[n], qo, &hits);
      REQUIRE_MESSAGE(qs.ok(), qs.ToString());
      REQUIRE(hits.size() == 1);
      std::string id = "d" + std::to_string(n);
      if (stored.count(id)) {
        CHECK(hits[0].id == id);
      } else {
        CHECK(hits[0].id != id);
      }
      CHECK(stored.count(hits[0].id) == 1);
      ++checked;
    }
    CHECK(checked > 0);
  }
  CHECK(trained_rounds > 0);  // some rounds were killed after (or while) training
}
