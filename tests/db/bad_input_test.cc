// Bad input: each case is a clear InvalidArgument (or NotFound) and writes nothing.
#include <cmath>
#include <limits>

#include "db_test_support.h"

using namespace emberdb;
using namespace emberdb_test;

TEST_CASE("every kind of bad document is refused and nothing of its batch is written") {
  TempDir dir("bad");
  auto db = OpenDb(dir.path());
  auto c = MakeCollection(db.get(), "docs", 3);
  const Document good{"good", "fine", {{"k", std::string("v")}}, {1, 2, 3}};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  struct Case {
    const char* what;
    Document doc;
    const char* message_part;
  };
  std::vector<Case> cases = {
      {"wrong dimension", {"x", "", {}, {1, 2}}, "dimension 2"},
      {"NaN component", {"x", "", {}, {1, nan, 3}}, "non-finite"},
      {"infinite component", {"x", "", {}, {inf, 1, 1}}, "non-finite"},
      {"zero vector under cosine", {"x", "", {}, {0, 0, 0}}, "all zeros"},
      {"empty id", {"", "", {}, {1, 1, 1}}, "empty"},
      {"oversized id", {std::string(513, 'i'), "", {}, {1, 1, 1}}, "512"},
      {"invalid UTF-8 id", {"bad\xff", "", {}, {1, 1, 1}}, "UTF-8"},
      {"invalid UTF-8 text", {"x", "caf\xc3", {}, {1, 1, 1}}, "UTF-8"},
      {"overlong UTF-8 text", {"x", "\xc0\xaf", {}, {1, 1, 1}}, "UTF-8"},
      {"surrogate in text", {"x", "\xed\xa0\x80", {}, {1, 1, 1}}, "UTF-8"},
      {"null metadata", {"x", "", {{"k", std::monostate()}}, {1, 1, 1}}, "unsupported type"},
      {"NaN metadata", {"x", "", {{"k", double(nan)}}, {1, 1, 1}}, "finite"},
      {"$ field name", {"x", "", {{"$k", int64_t{1}}}, {1, 1, 1}}, "'$'"},
      {"empty field name", {"x", "", {{"", int64_t{1}}}, {1, 1, 1}}, "field name"},
      {"invalid UTF-8 metadata", {"x", "", {{"k", std::string("\xfe")}}, {1, 1, 1}}, "UTF-8"},
      {"no vector and no embedder", {"x", "text", {}, {}}, "no embedder"},
  };
  for (const Case& k : cases) {
    CAPTURE(k.what);
    for (bool upsert : {false, true}) {
      Status s = upsert ? c->Upsert({good, k.doc}) : c->Add({good, k.doc});
      CHECK(s.IsInvalidArgument());
      CHECK_MESSAGE(s.message().find(k.message_part) != std::string::npos, s.ToString());
      CHECK(CountOf(*c) == 0);
    }
  }
  Status dup = c->Add({good, good});
  CHECK(dup.IsInvalidArgument());
  CHECK(dup.message().find("twice") != std::string::npos);
  CHECK(CountOf(*c) == 0);
  REQUIRE(c->Add({good}).ok());

  // A 512-byte id and an empty text with a vector are fine.
  CHECK(c->Add({{std::string(512, 'i'), "", {}, {1, 1, 1}}}).ok());

  // Queries get the same checks.
  std::vector<Hit> hits;
  CHECK(c->Query(std::vector<float>{1, 2}, QueryOptions(), &hits).IsInvalidArgument());
  CHECK(c->Query(std::vector<float>{nan, 1, 1}, QueryOptions(), &hits).IsInvalidArgument());
  CHECK(c->Query(std::vector<float>{0, 0, 0}, QueryOptions(), &hits).IsInvalidArgument());
  CHECK(c->Query(std::vector<float>{1, 1, 1}, QueryOptions{.k = 0}, &hits).IsInvalidArgument());
  CHECK(c->Query(std::vector<float>{}, QueryOptions(), &hits).IsInvalidArgument());

  // Updates too.
  DocumentUpdate u;
  u.id = "good";
  u.vector = std::vector<float>{1, nan, 1};
  CHECK(c->Update({u}).IsInvalidArgument());
  u.vector.reset();
  u.metadata = {{"k", std::vector<double>{1.0, inf}}};
  CHECK(c->Update({u}).IsInvalidArgument());
  std::vector<Document> out;
  GetOptions g;
  g.ids = {"good"};
  REQUIRE(c->Get(g, &out).ok());
  CHECK(out.at(0).metadata == good.metadata);

  GetOptions bad_id;
  bad_id.ids = {"\xff"};
  CHECK(c->Get(bad_id, &out).IsInvalidArgument());
}

TEST_CASE("an unknown database or collection is a clear error") {
  TempDir dir("missing");
  std::unique_ptr<DB> db;
  Options no_create;
  no_create.create_if_missing = false;
  Status s = DB::Open(dir.path(), no_create, &db);
  CHECK(s.IsNotFound());
  CHECK(s.message().find(dir.path()) != std::string::npos);
  CHECK(DB::Open("", Options(), &db).IsInvalidArgument());
  db = OpenDb(dir.path());
  Options exclusive;
  exclusive.error_if_exists = true;
  std::unique_ptr<DB> second;
  db.reset();
  CHECK_FALSE(DB::Open(dir.path(), exclusive, &second).ok());
}
