// Durability: reopen after close, crash (SIGKILL) atomicity, locking, read-only followers.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "child_process.h"
#include "db_test_support.h"

using namespace emberdb;
using namespace emberdb_test;

TEST_CASE("everything written is there after close and reopen, exactly") {
  TempDir dir("reopen");
  std::mt19937 rng(2);
  std::vector<Document> docs;
  for (int i = 0; i < 200; ++i) {
    docs.push_back({"id" + std::to_string(i),
                    "text " + std::to_string(i),
                    {{"i", int64_t{i}},
                     {"f", i * 0.25},
                     {"s", std::string("x")},
                     {"l", std::vector<int64_t>{i, i + 1}}},
                    RandomVector(rng, 16)});
  }
  {
    auto db = OpenDb(dir.path());
    auto c = MakeCollection(db.get(), "docs", 16, Metric::kL2);
    REQUIRE(c->Add(docs).ok());
    REQUIRE(c->Delete({"id5"}).ok());
    REQUIRE(db->Close().ok());
    CHECK(c->Count(nullptr).IsAborted());
  }
  auto db = OpenDb(dir.path());
  std::shared_ptr<Collection> c;
  REQUIRE(db->GetCollection("docs", &c).ok());
  CHECK(CountOf(*c) == 199);
  std::vector<Document> out;
  GetOptions all;
  all.include = kIncludeAll;
  REQUIRE(c->Get(all, &out).ok());
  REQUIRE(out.size() == 199);
  std::map<std::string, Document> by_id;
  for (auto& d : out) by_id[d.id] = d;
  for (const Document& d : docs) {
    if (d.id == "id5") {
      CHECK(by_id.count("id5") == 0);
      continue;
    }
    const Document& got = by_id.at(d.id);
    CHECK(got.text == d.text);
    CHECK(got.metadata == d.metadata);
    CHECK(got.vector == d.vector);
  }
  std::vector<Hit> hits;
  REQUIRE(c->Query(docs[42].vector, QueryOptions{.k = 1}, &hits).ok());
  CHECK(hits.at(0).id == "id42");
  CHECK(hits.at(0).distance == doctest::Approx(0).epsilon(1e-6));
}

TEST_CASE(
    "a second writer gets Busy naming the directory, and read-only handles follow on Refresh") {
  TempDir dir("lock");
  auto writer = OpenDb(dir.path());
  auto c = MakeCollection(writer.get(), "docs", 2, Metric::kL2);
  REQUIRE(c->Add({{"a", "", {}, {1, 0}}}).ok());

  std::unique_ptr<DB> second;
  Status s = DB::Open(dir.path(), Options(), &second);
  CHECK(s.IsBusy());
  CHECK(s.message().find(dir.path()) != std::string::npos);
  CHECK(s.message().find("locked") != std::string::npos);

  Options ro;
  ro.read_only = true;
  auto reader = OpenDb(dir.path(), ro);
  std::shared_ptr<Collection> rc;
  Status gs = reader->GetCollection("docs", &rc);
  REQUIRE_MESSAGE(gs.ok(), gs.ToString());
  CHECK(CountOf(*rc) == 1);
  CHECK(rc->Add({{"x", "", {}, {1, 1}}}).IsNotSupported());
  CHECK(reader->DropCollection("docs").IsNotSupported());

  REQUIRE(c->Add({{"b", "", {}, {0, 1}}}).ok());
  MakeCollection(writer.get(), "later", 3);
  CHECK(CountOf(*rc) == 1);  // not yet
  REQUIRE(reader->Refresh().ok());
  CHECK(CountOf(*rc) == 2);
  std::vector<Hit> hits;
  REQUIRE(rc->Query(std::vector<float>{0, 1}, QueryOptions{.k = 1}, &hits).ok());
  CHECK(hits.at(0).id == "b");
  std::shared_ptr<Collection> later;
  CHECK(reader->GetCollection("later", &later).ok());

  REQUIRE(writer->DropCollection("docs").ok());
  REQUIRE(reader->Refresh().ok());
  CHECK(rc->Count(nullptr).IsNotFound());
}

// The child writes batches of 10 documents and reports each acknowledged batch on its stdout;
// the parent kills it at a random moment. On reopen, every acknowledged batch is complete and
// no batch is partial.
static int BatchWriter(const std::string& path, int round) {
  std::unique_ptr<DB> db;
  if (!DB::Open(path, Options(), &db).ok()) return 3;
  std::shared_ptr<Collection> c;
  if (!db->GetCollection("docs", &c).ok()) return 4;
  std::mt19937 rng(round);
  for (int32_t batch = 0;; ++batch) {
    std::vector<Document> docs;
    for (int i = 0; i < 10; ++i) {
      docs.push_back(
          {"b" + std::to_string(batch) + "-" + std::to_string(i), "", {}, RandomVector(rng, 8)});
    }
    if (!c->Add(docs).ok()) return 5;
    if (batch % 3 == 2) c->Delete({"b" + std::to_string(batch - 1) + "-0"});
    if (write(1, &batch, sizeof batch) != sizeof batch) return 6;
  }
}

static RegisterChild batch_writer("batch-writer", [](int argc, char** argv) {
  return argc == 2 ? BatchWriter(argv[0], std::stoi(argv[1])) : 2;
});
TEST_CASE("SIGKILL during writes loses no acknowledged batch and leaves no partial batch") {
  std::mt19937 rng(99);
  for (int round = 0; round < 6; ++round) {
    TempDir dir("crash");
    {
      auto db = OpenDb(dir.path());
      MakeCollection(db.get(), "docs", 8, Metric::kL2);
    }
    Child child = SpawnChild("batch-writer", {dir.path(), std::to_string(round)});
    REQUIRE(child.pid > 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 400));
    KillChild(child);
    int32_t last = -1, v;
    while (read(child.fd, &v, sizeof v) == sizeof v) last = v;
    close(child.fd);
    CAPTURE(round);
    CAPTURE(last);

    auto db = OpenDb(dir.path());
    std::shared_ptr<Collection> c;
    REQUIRE(db->GetCollection("docs", &c).ok());
    std::map<int, std::set<int>> batches;
    for (const std::string& id : AllIds(*c)) {
      size_t dash = id.find('-');
      batches[std::stoi(id.substr(1, dash - 1))].insert(std::stoi(id.substr(dash + 1)));
    }
    for (int b = 0; b <= last; ++b) {
      CAPTURE(b);
      REQUIRE(batches.count(b));
      // Deletions of element 0 happen right after batch b+1 is written.
      // (for the last acknowledged batch that deletion may have happened, unacknowledged)
      bool deleted_zero = (b + 1) % 3 == 2 && b + 1 <= last;
      bool maybe_deleted = (b + 1) % 3 == 2 && b == last;
      if (maybe_deleted) {
        CHECK(batches[b].size() >= 9u);
      } else {
        CHECK(batches[b].size() == (deleted_zero ? 9u : 10u));
      }
    }
    for (const auto& [b, members] : batches) {
      CHECK(b <= last + 1);  // at most the batch in flight, and then complete
      CHECK(members.size() >= 9);
    }
    // The index agrees with storage.
    CHECK(CountOf(*c) == AllIds(*c).size());
    CollectionStats stats;
    REQUIRE(c->Stats(&stats).ok());
    CHECK(stats.vectors_indexed == stats.documents);
  }
}
