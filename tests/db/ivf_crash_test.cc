// SIGKILL at random moments while a writer adds and deletes and the IVF index trains and saves.
// After reopen: every acknowledged write is searchable, nothing acknowledged as deleted comes
// back, and the index agrees with storage exactly.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "child_process.h"
#include "db_test_support.h"

using namespace emberdb;
using namespace emberdb_test;

namespace {

constexpr uint32_t kDim = 16;

// "d<n>", built by appending ("d" + ... trips a GCC 12 -Wrestrict false positive at -O3).
std::string DocId(int64_t n) {
  std::string id(1, 'd');
  id += std::to_string(n);
  return id;
}

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
      docs.push_back({DocId(n), "", {}, vecs[n]});
    }
    WriteOptions wo;
    wo.sync = batch % 4 == 0;  // some writes also pay for fsync: slower, and durable on power loss
    if (!c->Add(docs, wo).ok()) return 5;
    if (write(fd, &batch, sizeof batch) != sizeof batch) return 6;
    // Bursts with pauses, as real ingest comes: training starts in the short pauses, and the
    // trained index is saved in the long ones (a save waits for 2 s without writes).
    if (batch % 200 == 79) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    } else if (batch % 40 == 39) {
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
    }
    if (batch % 2 == 1) {
      int32_t victim = static_cast<int32_t>(rng() % ((batch + 1) * 50));
      uint64_t deleted = 0;
      if (!c->Delete({DocId(victim)}, {}, &deleted).ok()) return 7;
      int32_t record = -(victim + 1);
      if (write(fd, &record, sizeof record) != sizeof record) return 6;
    }
  }
  return 0;
}

RegisterChild ivf_writer("ivf-writer", [](int argc, char** argv) {
  return argc == 2 ? RunWriter(argv[0], static_cast<uint32_t>(std::stoul(argv[1]))) : 2;
});

// The index snapshot files in <db>/index: a finished one (.idx) and one being written (.tmp).
struct SnapshotFiles {
  bool saved = false, writing = false;
};
SnapshotFiles SnapshotsIn(const std::string& db_path) {
  SnapshotFiles out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(db_path + "/index", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".idx")) out.saved = true;
    if (name.ends_with(".tmp")) out.writing = true;
  }
  return out;
}

// Waits (up to 60 s) until `ready` holds for the snapshot files of `db_path`.
template <typename Ready>
void WaitForSnapshot(const std::string& db_path, Ready ready) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!ready(SnapshotsIn(db_path)) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

}  // namespace

TEST_CASE("SIGKILL during writes, deletes, training and index saves loses nothing acknowledged") {
  std::mt19937 rng(2024);
  int trained_rounds = 0, snapshot_rounds = 0;
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
    if (round < 3) {
      // Early rounds die at growing times: during exact ingest, then around training.
      std::this_thread::sleep_for(std::chrono::milliseconds(300 + 700 * round + rng() % 500));
    } else if (round == 3) {
      // As soon as a snapshot is being written (or, if the poll missed that, is written).
      WaitForSnapshot(dir.path(), [](SnapshotFiles f) { return f.writing || f.saved; });
    } else {
      // After a snapshot, with writes it lacks in the change log.
      WaitForSnapshot(dir.path(), [](SnapshotFiles f) { return f.saved; });
      std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 800));
    }
    if (SnapshotsIn(dir.path()).saved) ++snapshot_rounds;
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
        CHECK(stored.count(DocId(n)) == 0);
      } else {
        CHECK(stored.count(DocId(n)) == 1);
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
      std::string id = DocId(n);
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
  CHECK(trained_rounds > 0);    // some rounds were killed after (or while) training
  CHECK(snapshot_rounds >= 2);  // and some reopened from a snapshot plus the change log
}
