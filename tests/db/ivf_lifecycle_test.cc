// The IVF index through its life: exact while small, trained in the background past the
// threshold, retrained at 4x, persisted, caught up on reopen, rebuilt when its file is missing,
// corrupt or stale; filtered, compressed and concurrent search on it.
#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "db_test_support.h"

using namespace emberdb;
using namespace emberdb_test;

namespace {

constexpr uint32_t kDim = 32;

std::shared_ptr<Collection> IvfCollection(DB* db, const std::string& name, size_t threshold,
                                          const std::string& index = "IVF,Flat",
                                          double target_recall = 0) {
  CollectionOptions o;
  o.dimension = kDim;
  o.metric = Metric::kCosine;
  o.index = index;
  o.train_threshold = threshold;
  o.target_recall = target_recall;
  std::shared_ptr<Collection> c;
  Status s = db->CreateCollection(name, o, &c);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return c;
}

// "v<i>", built by appending ("v" + ... trips a GCC 12 -Wrestrict false positive at -O3).
std::string DocId(size_t i) {
  std::string id(1, 'v');
  id += std::to_string(i);
  return id;
}

void AddRange(Collection* c, const std::vector<std::vector<float>>& vecs, size_t from, size_t to,
              size_t batch = 500) {
  for (size_t b = from; b < to; b += batch) {
    std::vector<Document> docs;
    for (size_t i = b; i < std::min(to, b + batch); ++i) {
      docs.push_back(
          {DocId(i), "doc " + std::to_string(i), {{"bucket", int64_t(i % 100)}}, vecs[i]});
    }
    Status s = c->Add(docs);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
}

// recall@10 of the collection's answers against brute force over `live` vectors.
double Recall(const Collection& c, const std::vector<std::vector<float>>& vecs,
              const std::set<size_t>& live, size_t nq, uint32_t seed, int nprobe = 0) {
  std::mt19937 rng(seed);
  std::vector<size_t> ids(live.begin(), live.end());
  double found = 0, total = 0;
  for (size_t q = 0; q < nq; ++q) {
    const auto& query = vecs[ids[rng() % ids.size()]];
    std::vector<std::pair<float, size_t>> exact;
    for (size_t i : ids) {
      float dot = 0;
      for (size_t d = 0; d < kDim; ++d) dot += query[d] * vecs[i][d];
      exact.push_back({-dot, i});
    }
    std::partial_sort(exact.begin(), exact.begin() + 10, exact.end());
    std::set<std::string> truth;
    for (int r = 0; r < 10; ++r) truth.insert(DocId(exact[r].second));
    QueryOptions qo;
    qo.k = 10;
    qo.nprobe = nprobe;
    qo.include = kIncludeNone;
    std::vector<Hit> hits;
    REQUIRE(c.Query(query, qo, &hits).ok());
    for (const Hit& h : hits) found += truth.count(h.id);
    total += 10;
  }
  return found / total;
}

CollectionStats StatsOf(const Collection& c) {
  CollectionStats s;
  REQUIRE(c.Stats(&s).ok());
  return s;
}

}  // namespace

TEST_CASE("exact while small, IVF past the threshold, retrained at 4x, correct throughout") {
  TempDir dir("ivf-life");
  auto vecs = ClusteredVectors(9000, kDim, 40, 1);
  auto db = OpenDb(dir.path());
  auto c = IvfCollection(db.get(), "docs", 2000);
  std::set<size_t> live;
  AddRange(c.get(), vecs, 0, 1500);
  for (size_t i = 0; i < 1500; ++i) live.insert(i);
  CHECK(StatsOf(*c).index_kind == "Flat");
  CHECK(Recall(*c, vecs, live, 20, 1) == doctest::Approx(1.0));

  AddRange(c.get(), vecs, 1500, 2200);
  for (size_t i = 1500; i < 2200; ++i) live.insert(i);
  REQUIRE(c->WaitForIndex().ok());
  CollectionStats s = StatsOf(*c);
  CHECK(s.index_kind.rfind("IVF", 0) == 0);
  CHECK(s.trained_at >= 2000);
  CHECK(s.nlist > 0);
  CHECK(s.nprobe > 0);
  CHECK(s.vectors_indexed == 2200);
  CHECK(s.vectors_pending == 0);
  CHECK(Recall(*c, vecs, live, 50, 2) >= 0.9);
  const uint64_t first_training = s.trained_at;

  AddRange(c.get(), vecs, 2200, 9000);
  for (size_t i = 2200; i < 9000; ++i) live.insert(i);
  REQUIRE(c->WaitForIndex().ok());
  s = StatsOf(*c);
  CHECK(s.trained_at >= 4 * first_training);  // retrained
  CHECK(s.vectors_indexed == 9000);
  CHECK(Recall(*c, vecs, live, 50, 3) >= 0.9);
  // nprobe = nlist is exhaustive: exact results.
  CHECK(Recall(*c, vecs, live, 20, 4, 100000) == doctest::Approx(1.0));
  std::string log = ReadFile(dir.sub("emberdb.log"));
  CHECK(log.find("trained IVF") != std::string::npos);
  CHECK(log.find("measured recall@10") != std::string::npos);
}

TEST_CASE(
    "deletes and updates on a trained index, and filtered search returns k whenever k match") {
  TempDir dir("ivf-ops");
  auto vecs = ClusteredVectors(6000, kDim, 30, 2);
  auto db = OpenDb(dir.path());
  auto c = IvfCollection(db.get(), "docs", 1000);
  AddRange(c.get(), vecs, 0, 6000);
  REQUIRE(c->WaitForIndex().ok());
  REQUIRE(StatsOf(*c).index_kind.rfind("IVF", 0) == 0);

  std::vector<std::string> doomed;
  for (int i = 0; i < 6000; i += 3) doomed.push_back(DocId(i));
  REQUIRE(c->Delete(doomed).ok());
  // Move v1 to where v3 was (v3 is deleted): its own vector's nearest is now v1.
  DocumentUpdate u;
  u.id = "v1";
  u.vector = vecs[3];
  REQUIRE(c->Update({u}).ok());
  std::vector<Hit> hits;
  for (int i = 0; i < 60; i += 3) {
    QueryOptions qo;
    qo.k = 5;
    REQUIRE(c->Query(vecs[i], qo, &hits).ok());
    for (const Hit& h : hits) {
      int n = std::stoi(h.id.substr(1));
      CHECK(n % 3 != 0);  // deleted documents never appear
    }
  }
  REQUIRE(c->Query(vecs[3], QueryOptions{.k = 1}, &hits).ok());
  CHECK(hits.at(0).id == "v1");

  // Selectivities from 50% down to one document.
  for (const char* where :
       {R"({"bucket": {"$lt": 50}})", R"({"bucket": {"$in": [1, 2, 4, 5, 7]}})", R"({"bucket": 7})",
        R"({"$and": [{"bucket": 7}, {"bucket": {"$ne": 7}}]})"}) {
    CAPTURE(where);
    GetOptions g;
    g.where = where;
    g.include = kIncludeNone;
    std::vector<Document> matching;
    REQUIRE(c->Get(g, &matching).ok());
    QueryOptions qo;
    qo.k = 10;
    qo.where = where;
    REQUIRE(c->Query(vecs[100], qo, &hits).ok());
    CHECK(hits.size() == std::min<size_t>(10, matching.size()));
  }
}

TEST_CASE("the trained index is saved, reloaded without retraining, and caught up from the log") {
  TempDir dir("ivf-persist");
  auto vecs = ClusteredVectors(5000, kDim, 30, 3);
  uint64_t trained_at = 0;
  {
    auto db = OpenDb(dir.path());
    auto c = IvfCollection(db.get(), "docs", 3000);
    AddRange(c.get(), vecs, 0, 3500);
    REQUIRE(c->WaitForIndex().ok());
    trained_at = StatsOf(*c).trained_at;
    REQUIRE(trained_at > 0);
    // Writes after the snapshot: adds and deletes that only the change log knows until close.
    AddRange(c.get(), vecs, 3500, 4000);
    REQUIRE(c->Delete({"v0", "v3600"}).ok());
  }
  REQUIRE(std::filesystem::exists(dir.sub("index")));
  {
    auto db = OpenDb(dir.path());
    std::shared_ptr<Collection> c;
    REQUIRE(db->GetCollection("docs", &c).ok());
    CollectionStats s = StatsOf(*c);
    CHECK(s.index_kind.rfind("IVF", 0) == 0);  // loaded, not exact
    CHECK(s.trained_at == trained_at);         // not retrained
    CHECK(s.vectors_indexed == 3998);
    std::vector<Hit> hits;
    QueryOptions qo;
    qo.k = 1;
    REQUIRE(c->Query(vecs[3700], qo, &hits).ok());
    CHECK(hits.at(0).id == "v3700");
    REQUIRE(c->Query(vecs[3600], qo, &hits).ok());
    CHECK(hits.at(0).id != "v3600");
    // Writes after reopen, then a crash-like exit without Close: replayed from the log.
    AddRange(c.get(), vecs, 4000, 4100);
  }
  auto db = OpenDb(dir.path());
  std::shared_ptr<Collection> c;
  REQUIRE(db->GetCollection("docs", &c).ok());
  CHECK(StatsOf(*c).vectors_indexed == 4098);
  std::string log = ReadFile(dir.sub("emberdb.log"));
  CHECK(log.find("rebuilding") == std::string::npos);
}

TEST_CASE("a missing, corrupt or stale snapshot is rebuilt from storage and logged") {
  TempDir dir("ivf-recover");
  auto vecs = ClusteredVectors(4000, kDim, 30, 4);
  std::string snapshot;
  {
    auto db = OpenDb(dir.path());
    auto c = IvfCollection(db.get(), "docs", 2000);
    AddRange(c.get(), vecs, 0, 2500);
    REQUIRE(c->WaitForIndex().ok());
  }
  for (const auto& e : std::filesystem::directory_iterator(dir.sub("index"))) {
    if (e.path().extension() == ".idx") snapshot = e.path().string();
  }
  REQUIRE_FALSE(snapshot.empty());
  const std::string good = ReadFile(snapshot);

  auto reopen_and_check = [&](const std::string& expect_in_log, size_t expect_count) {
    auto db = OpenDb(dir.path());
    std::shared_ptr<Collection> c;
    REQUIRE(db->GetCollection("docs", &c).ok());
    CHECK(StatsOf(*c).vectors_indexed == expect_count);
    std::vector<Hit> hits;
    REQUIRE(c->Query(vecs[10], QueryOptions{.k = 1}, &hits).ok());
    CHECK(hits.at(0).id == "v10");
    REQUIRE(c->WaitForIndex().ok());  // it retrains in the background after a rebuild
    CHECK(StatsOf(*c).index_kind.rfind("IVF", 0) == 0);
    std::string log = ReadFile(dir.sub("emberdb.log"));
    CHECK_MESSAGE(log.find(expect_in_log) != std::string::npos, log);
  };

  SUBCASE("corrupt") {
    std::string bad = good;
    bad[bad.size() / 2] ^= 0x5a;
    std::ofstream(snapshot, std::ios::binary) << bad;
    reopen_and_check("rebuilding", 2500);
  }
  SUBCASE("truncated") {
    std::ofstream(snapshot, std::ios::binary) << good.substr(0, good.size() - 100);
    reopen_and_check("rebuilding", 2500);
  }
  SUBCASE("missing") {
    std::filesystem::remove(snapshot);
    reopen_and_check("trained IVF", 2500);
  }
  SUBCASE("stale beyond the change log") {
    {
      auto db = OpenDb(dir.path());
      std::shared_ptr<Collection> c;
      REQUIRE(db->GetCollection("docs", &c).ok());
      AddRange(c.get(), vecs, 2500, 3000);
    }  // Close saves a newer snapshot and trims the log up to it
    std::ofstream(snapshot, std::ios::binary) << good;  // put the old one back
    reopen_and_check("stale", 3000);
  }
}

TEST_CASE("IVF-SQ8 and IVF-PQ re-rank with exact vectors: recall close to IVF-Flat") {
  TempDir dir("ivf-kinds");
  auto vecs = ClusteredVectors(5000, kDim, 30, 5);
  std::set<size_t> live;
  for (size_t i = 0; i < 5000; ++i) live.insert(i);
  auto db = OpenDb(dir.path());
  for (const char* kind : {"IVF,SQ8", "IVF,PQ8"}) {
    CAPTURE(kind);
    std::string name = std::string(kind) == "IVF,SQ8" ? "sq" : "pq";
    auto c = IvfCollection(db.get(), name, 4000, kind);
    AddRange(c.get(), vecs, 0, 5000);
    REQUIRE(c->WaitForIndex().ok());
    CollectionStats s = StatsOf(*c);
    CHECK(s.index_kind.find(std::string(kind).substr(4)) != std::string::npos);
    CHECK(Recall(*c, vecs, live, 50, 6) >= 0.85);
    std::vector<Hit> hits;
    REQUIRE(c->Query(vecs[42], QueryOptions{.k = 1}, &hits).ok());
    CHECK(hits.at(0).id == "v42");
    CHECK(hits.at(0).distance == doctest::Approx(0).epsilon(1e-4));  // exact distance after re-rank
  }
}

TEST_CASE("queries and writes go on while the index trains") {
  TempDir dir("ivf-concurrent");
  auto vecs = ClusteredVectors(8000, kDim, 30, 6);
  auto db = OpenDb(dir.path());
  auto c = IvfCollection(db.get(), "docs", 3000, "IVF,Flat", 0.9);
  AddRange(c.get(), vecs, 0, 2900);
  std::atomic<bool> done{false};
  std::atomic<int> errors{0};
  std::thread reader([&] {
    std::mt19937 rng(1);
    while (!done) {
      std::vector<Hit> hits;
      if (!c->Query(vecs[rng() % 2900], QueryOptions{.k = 5}, &hits).ok() || hits.size() != 5) {
        ++errors;
      }
    }
  });
  AddRange(c.get(), vecs, 2900, 8000, 100);  // crosses the threshold, trains while we write
  REQUIRE(c->WaitForIndex().ok());
  done = true;
  reader.join();
  CHECK(errors == 0);
  CollectionStats s = StatsOf(*c);
  CHECK(s.vectors_indexed == 8000);
  CHECK(s.index_kind.rfind("IVF", 0) == 0);
  std::set<size_t> live;
  for (size_t i = 0; i < 8000; ++i) live.insert(i);
  CHECK(Recall(*c, vecs, live, 50, 7) >= 0.85);
}

TEST_CASE("a retrain moves the vectors while deletes, updates and queries go on") {
  // Past the threshold the exact index's vectors move into the IVF index, and at 4x the IVF
  // index's into a retrained one; writers and readers run throughout both moves.
  TempDir dir("ivf-move");
  auto vecs = ClusteredVectors(16000, kDim, 40, 9);
  auto db = OpenDb(dir.path());
  auto c = IvfCollection(db.get(), "docs", 1000);
  AddRange(c.get(), vecs, 0, 1200);
  REQUIRE(c->WaitForIndex().ok());
  const uint64_t first_training = StatsOf(*c).trained_at;
  REQUIRE(first_training >= 1000);

  std::atomic<bool> done{false};
  std::atomic<int> errors{0};
  std::mutex first_error_mu;
  std::string first_error;
  std::thread reader([&] {
    std::mt19937 rng(3);
    while (!done) {
      std::vector<Hit> hits;
      Status st = c->Query(vecs[rng() % 1000], QueryOptions{.k = 5}, &hits);
      if (!st.ok() || hits.size() != 5) {
        if (errors++ == 0) {
          std::lock_guard lock(first_error_mu);
          first_error = st.ToString() + ", hits " + std::to_string(hits.size()) + ":";
          for (const Hit& h : hits) first_error += " " + h.id + "@" + std::to_string(h.distance);
        }
      }
    }
  });
  // Grow to well past 4x, then delete and update while the retrain runs.
  AddRange(c.get(), vecs, 1200, 10000, 200);
  std::set<size_t> live;
  for (size_t i = 0; i < 10000; ++i) live.insert(i);
  std::map<size_t, size_t> latest;  // updated document -> the vector it now has
  std::mt19937 rng(11);
  // Keep writing until the retrain has been seen running and has ended (training waits for
  // a pause in writes of at most 3 s, then runs while we go on).
  bool seen_training = false;
  for (size_t round = 0; round < 6000; ++round) {
    const bool training = StatsOf(*c).training;
    seen_training |= training;
    if (seen_training && !training) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const size_t victim = rng() % 10000;
    if (live.erase(victim)) {
      REQUIRE(c->Delete({DocId(victim)}).ok());
    }
    const size_t updated = rng() % 10000;
    if (live.count(updated)) {  // the document now carries another stored vector
      Document d{DocId(updated), "doc", {}, vecs[10000 + round]};
      REQUIRE(c->Upsert({d}).ok());
      latest[updated] = 10000 + round;
    }
  }
  CHECK(seen_training);
  REQUIRE(c->WaitForIndex().ok());
  done = true;
  reader.join();
  INFO(first_error);
  CHECK(errors == 0);
  CollectionStats s = StatsOf(*c);
  CHECK(s.trained_at >= 4 * first_training);
  CHECK(s.vectors_indexed == live.size());
  CHECK(s.documents == live.size());
  // Exhaustive search: every deleted document is gone, every updated one is found by its new
  // vector, not its old one.
  QueryOptions all{.k = 1, .nprobe = 100000};
  for (size_t i = 0; i < 10000; ++i) {
    if (live.count(i)) continue;
    std::vector<Hit> hits;
    REQUIRE(c->Query(vecs[i], all, &hits).ok());
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].id != DocId(i));
  }
  for (const auto& [doc, vector] : latest) {
    if (!live.count(doc)) continue;
    std::vector<Hit> hits;
    REQUIRE(c->Query(vecs[vector], all, &hits).ok());
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].id == DocId(doc));
  }
  // The documents never updated are found by their own vectors.
  for (size_t i = 0; i < 10000; i += 37) {
    if (!live.count(i) || latest.count(i)) continue;
    std::vector<Hit> hits;
    REQUIRE(c->Query(vecs[i], all, &hits).ok());
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].distance == doctest::Approx(0).epsilon(1e-4));
  }
}

TEST_CASE("broad filters are applied to the hits, and fall back to exact when few pass") {
  // 40,000 documents. bucket < 50 keeps 20,000: searched within the plan's labels, hits
  // checked. bucket >= 10 keeps 36,000, more than are worth listing: searched unfiltered for
  // more results, hits checked. Adding a where_document clause the plan cannot see leaves 80
  // true matches, which the widening cannot reach: the exact fallback must find them all.
  constexpr size_t kN = 40000;
  TempDir dir("ivf-broad");
  auto vecs = ClusteredVectors(kN, kDim, 20, 4);
  auto db = OpenDb(dir.path());
  auto c = IvfCollection(db.get(), "docs", 1000);
  for (size_t b = 0; b < kN; b += 2000) {
    std::vector<Document> docs;
    for (size_t i = b; i < b + 2000; ++i) {
      docs.push_back({DocId(i),
                      i % 500 == 57 ? "special doc" : "doc",
                      {{"bucket", int64_t(i % 100)}},
                      vecs[i]});
    }
    REQUIRE(c->Add(docs).ok());
  }
  REQUIRE(c->WaitForIndex().ok());
  struct Case {
    const char* where;
    bool (*keeps)(size_t bucket);
  };
  const Case cases[] = {{R"({"bucket": {"$lt": 50}})", [](size_t b) { return b < 50; }},
                        {R"({"bucket": {"$gte": 10}})", [](size_t b) { return b >= 10; }}};
  for (const Case& filter : cases) {
    for (size_t q = 0; q < 10; ++q) {
      const auto& query = vecs[q * 131];
      QueryOptions broad{.k = 10, .where = filter.where, .nprobe = 100000};
      std::vector<Hit> hits;
      REQUIRE(c->Query(query, broad, &hits).ok());
      REQUIRE(hits.size() == 10);
      // Exhaustive nprobe: exactly the brute-force top 10 among the documents kept.
      std::vector<std::pair<float, size_t>> exact;
      for (size_t i = 0; i < kN; ++i) {
        if (!filter.keeps(i % 100)) continue;
        float dot = 0;
        for (size_t d = 0; d < kDim; ++d) dot += query[d] * vecs[i][d];
        exact.push_back({-dot, i});
      }
      std::partial_sort(exact.begin(), exact.begin() + 10, exact.end());
      for (size_t r = 0; r < 10; ++r) CHECK(hits[r].id == DocId(exact[r].second));

      QueryOptions rare = broad;
      rare.k = 100;
      rare.where_document = R"({"$contains": "special"})";
      REQUIRE(c->Query(query, rare, &hits).ok());
      // Every match (all in bucket 57), though k is larger; none when the filter drops 57.
      CHECK(hits.size() == (filter.keeps(57) ? 80u : 0u));
      for (const Hit& h : hits) {
        const size_t i = std::stoul(h.id.substr(1));
        CHECK(i % 500 == 57);
      }
    }
  }
}
