// Readers run in parallel with a writer: no errors, no torn results.
#include <thread>

#include "db_test_support.h"

using namespace emberdb;
using namespace emberdb_test;

TEST_CASE("queries and gets run while a writer adds and deletes") {
  TempDir dir("concurrent");
  auto db = OpenDb(dir.path());
  const uint32_t dim = 16;
  auto c = MakeCollection(db.get(), "docs", dim);
  std::atomic<bool> done{false};
  std::atomic<int> errors{0}, queries{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937 rng(t);
      while (!done) {
        std::vector<Hit> hits;
        QueryOptions qo;
        qo.k = 5;
        if (t == 2) qo.where = R"({"even": true})";
        Status s = c->Query(RandomVector(rng, dim), qo, &hits);
        if (!s.ok()) ++errors;
        for (const Hit& h : hits) {
          if (h.id.empty() || h.text.empty()) ++errors;  // every hit is a whole document
          if (t == 2 && !std::get<bool>(h.metadata.at("even"))) ++errors;
        }
        ++queries;
      }
    });
  }
  std::mt19937 rng(42);
  for (int batch = 0; batch < 60; ++batch) {
    std::vector<Document> docs;
    for (int i = 0; i < 20; ++i) {
      int n = batch * 20 + i;
      docs.push_back(
          {"d" + std::to_string(n), "text", {{"even", n % 2 == 0}}, RandomVector(rng, dim)});
    }
    REQUIRE(c->Add(docs).ok());
    if (batch % 4 == 3) {
      REQUIRE(c->DeleteWhere(R"({"even": false})", "").ok());
    }
  }
  done = true;
  for (auto& t : readers) t.join();
  CHECK(errors == 0);
  CHECK(queries > 0);
  uint64_t n = CountOf(*c);
  CHECK(n == AllIds(*c).size());
}
