// Documents: Chroma's add/upsert/update/delete/get semantics, atomic batches, idempotence.
#include <filesystem>

#include "db_test_support.h"

using namespace emberdb;
using namespace emberdb_test;

namespace {

Document Doc(const std::string& id, float x, Metadata m = {}, const std::string& text = "") {
  return {id, text.empty() ? "text of " + id : text, std::move(m), {x, 1.0f, 0.5f}};
}

uint64_t WalBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".log") total += e.file_size();
  }
  return total;
}

}  // namespace

TEST_CASE("add inserts, and fails without writing anything when any id exists") {
  TempDir dir("add");
  auto db = OpenDb(dir.path());
  auto c = MakeCollection(db.get(), "docs", 3);
  REQUIRE(c->Add({Doc("a", 1), Doc("b", 2)}).ok());
  Status s = c->Add({Doc("c", 3), Doc("a", 4)});
  CHECK(s.IsAlreadyExists());
  CHECK(s.message().find("'a'") != std::string::npos);
  CHECK(AllIds(*c) == std::vector<std::string>{"a", "b"});  // "c" was not written either
  CHECK(c->Add({}).ok());
}

TEST_CASE("get returns documents by id, by filter, with limit, offset and include") {
  TempDir dir("get");
  auto db = OpenDb(dir.path());
  auto c = MakeCollection(db.get(), "docs", 3);
  std::vector<Document> docs;
  for (int i = 0; i < 20; ++i) {
    docs.push_back(Doc("d" + std::to_string(100 + i), float(i),
                       {{"i", int64_t{i}},
                        {"even", i % 2 == 0},
                        {"tags", std::vector<std::string>{"t" + std::to_string(i % 3)}}}));
  }
  REQUIRE(c->Add(docs).ok());

  std::vector<Document> out;
  GetOptions by_id;
  by_id.ids = {"d105", "missing", "d101"};
  by_id.include = kIncludeAll;
  REQUIRE(c->Get(by_id, &out).ok());
  REQUIRE(out.size() == 2);
  CHECK(out[0].id == "d105");  // in the order asked
  CHECK(out[0].text == "text of d105");
  CHECK(std::get<int64_t>(out[0].metadata.at("i")) == 5);
  CHECK(out[0].vector == std::vector<float>{5, 1.0f, 0.5f});
  CHECK(out[1].id == "d101");

  GetOptions filtered;
  filtered.where = R"({"$and": [{"even": true}, {"i": {"$gte": 6}}]})";
  filtered.offset = 1;
  filtered.limit = 3;
  filtered.include = kIncludeMetadatas;
  REQUIRE(c->Get(filtered, &out).ok());
  REQUIRE(out.size() == 3);
  CHECK(out[0].id == "d108");
  CHECK(out[1].id == "d110");
  CHECK(out[2].id == "d112");
  CHECK(out[0].text.empty());  // not included
  CHECK(out[0].vector.empty());

  GetOptions list_field;
  list_field.where = R"({"tags": "t1"})";
  REQUIRE(c->Get(list_field, &out).ok());
  CHECK(out.size() == 7);  // i = 1, 4, 7, 10, 13, 16, 19

  GetOptions page;
  page.offset = 18;
  page.limit = 5;
  REQUIRE(c->Get(page, &out).ok());
  REQUIRE(out.size() == 2);
  CHECK(out[0].id == "d118");

  GetOptions text;
  text.where_document = R"({"$contains": "d11"})";
  REQUIRE(c->Get(text, &out).ok());
  CHECK(out.size() == 10);

  REQUIRE(c->Peek(3, &out).ok());
  REQUIRE(out.size() == 3);
  CHECK(out[0].id == "d100");
  CHECK(out[0].vector.size() == 3);

  GetOptions bad;
  bad.where = R"({"i": {"$gt": "five"}})";
  Status s = c->Get(bad, &out);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("$gt") != std::string::npos);
}

TEST_CASE("upsert inserts or replaces, and an identical upsert writes nothing") {
  TempDir dir("upsert");
  auto db = OpenDb(dir.path());
  auto c = MakeCollection(db.get(), "docs", 3);
  std::vector<Document> docs;
  for (int i = 0; i < 100; ++i)
    docs.push_back(Doc("id" + std::to_string(i), float(i), {{"v", int64_t{i}}}));
  REQUIRE(c->Upsert(docs).ok());
  CHECK(CountOf(*c) == 100);

  uint64_t wal = WalBytes(dir.path());
  REQUIRE(c->Upsert(docs).ok());
  CHECK(WalBytes(dir.path()) == wal);  // re-ingesting the same corpus does not grow the database
  CHECK(CountOf(*c) == 100);

  docs[7].metadata["v"] = int64_t{700};
  docs[7].vector = {-1, -1, -1};
  REQUIRE(c->Upsert(docs).ok());
  CHECK(WalBytes(dir.path()) > wal);
  CHECK(CountOf(*c) == 100);
  std::vector<Document> out;
  GetOptions g;
  g.ids = {"id7"};
  g.include = kIncludeAll;
  REQUIRE(c->Get(g, &out).ok());
  CHECK(std::get<int64_t>(out[0].metadata.at("v")) == 700);
  CHECK(out[0].vector == std::vector<float>{-1, -1, -1});
  // The metadata index follows the change: the old value no longer matches.
  GetOptions old_value;
  old_value.where = R"({"v": 7})";
  REQUIRE(c->Get(old_value, &out).ok());
  CHECK(out.empty());
  old_value.where = R"({"v": 700})";
  REQUIRE(c->Get(old_value, &out).ok());
  CHECK(out.size() == 1);
  // And the search index: the nearest neighbour of the new vector is id7.
  std::vector<Hit> hits;
  REQUIRE(c->Query(std::vector<float>{-1, -1, -1}, QueryOptions{.k = 1}, &hits).ok());
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].id == "id7");
}

TEST_CASE("update merges metadata, replaces text and vector, and needs every id to exist") {
  TempDir dir("update");
  auto db = OpenDb(dir.path());
  auto c = MakeCollection(db.get(), "docs", 3);
  REQUIRE(
      c->Add({Doc("a", 1, {{"keep", int64_t{1}}, {"drop", std::string("x")}}), Doc("b", 2)}).ok());
  DocumentUpdate u;
  u.id = "a";
  u.text = "new text";
  u.metadata = {{"drop", std::monostate()}, {"added", 2.5}};
  REQUIRE(c->Update({u}).ok());
  std::vector<Document> out;
  GetOptions g;
  g.ids = {"a"};
  g.include = kIncludeAll;
  REQUIRE(c->Get(g, &out).ok());
  CHECK(out[0].text == "new text");
  CHECK(out[0].metadata == Metadata{{"keep", int64_t{1}}, {"added", 2.5}});
  CHECK(out[0].vector == std::vector<float>{1, 1, 0.5f});

  DocumentUpdate v;
  v.id = "b";
  v.vector = std::vector<float>{9, 9, 9};
  DocumentUpdate missing;
  missing.id = "zzz";
  missing.text = "x";
  Status s = c->Update({v, missing});
  CHECK(s.IsNotFound());
  CHECK(s.message().find("zzz") != std::string::npos);
  g.ids = {"b"};
  REQUIRE(c->Get(g, &out).ok());
  CHECK(out[0].vector == std::vector<float>{2, 1, 0.5f});  // nothing written
  REQUIRE(c->Update({v}).ok());
  REQUIRE(c->Get(g, &out).ok());
  CHECK(out[0].vector == std::vector<float>{9, 9, 9});
}

TEST_CASE("delete by ids and by filter: deleted documents never come back") {
  TempDir dir("delete");
  auto db = OpenDb(dir.path());
  auto c = MakeCollection(db.get(), "docs", 3);
  std::vector<Document> docs;
  for (int i = 0; i < 10; ++i)
    docs.push_back(Doc("d" + std::to_string(i), float(i), {{"i", int64_t{i}}}));
  REQUIRE(c->Add(docs).ok());
  uint64_t deleted = 0;
  REQUIRE(c->Delete({"d1", "d2", "nope"}, {}, &deleted).ok());
  CHECK(deleted == 2);
  REQUIRE(c->DeleteWhere(R"({"i": {"$gte": 8}})", "", {}, &deleted).ok());
  CHECK(deleted == 2);
  CHECK(c->DeleteWhere("", "", {}, &deleted).IsInvalidArgument());
  CHECK(c->DeleteWhere("{\"i\": ", "", {}, &deleted).IsInvalidArgument());
  CHECK(CountOf(*c) == 6);
  CHECK(AllIds(*c) == std::vector<std::string>{"d0", "d3", "d4", "d5", "d6", "d7"});
  std::vector<Hit> hits;
  REQUIRE(c->Query(std::vector<float>{1, 1, 0.5f}, QueryOptions{.k = 10}, &hits).ok());
  CHECK(hits.size() == 6);
  for (const Hit& h : hits) CHECK((h.id != "d1" && h.id != "d2" && h.id != "d8" && h.id != "d9"));
  // A deleted id can be added again.
  REQUIRE(c->Add({Doc("d1", 1)}).ok());
  CHECK(CountOf(*c) == 7);
}

TEST_CASE("compaction reclaims the space of deleted documents and backups open as databases") {
  TempDir dir("compact");
  auto db = OpenDb(dir.path());
  auto c = MakeCollection(db.get(), "docs", 64, Metric::kL2);
  std::mt19937 rng(1);
  std::vector<Document> docs;
  for (int i = 0; i < 3000; ++i) {
    docs.push_back({"id" + std::to_string(i), std::string(200, 'x'), {}, RandomVector(rng, 64)});
  }
  REQUIRE(c->Add(docs).ok());
  uint64_t reclaimed = 0;
  REQUIRE(db->Compact(&reclaimed).ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 3000; ++i) ids.push_back("id" + std::to_string(i));
  REQUIRE(c->Delete(ids).ok());
  REQUIRE(db->Compact(&reclaimed).ok());
  CHECK(reclaimed > 3000 * 64 * 4 / 2);  // most of the vectors' bytes came back
  REQUIRE(c->Add({docs[0], docs[1]}).ok());

  std::string backup = dir.sub("backup");
  REQUIRE(db->Backup(backup).ok());
  CHECK_FALSE(db->Backup(backup).ok());  // the target must not exist
  REQUIRE(c->Add({docs[2]}).ok());       // after the backup: not in it
  auto copy = OpenDb(backup);
  std::shared_ptr<Collection> cc;
  REQUIRE(copy->GetCollection("docs", &cc).ok());
  CHECK(AllIds(*cc) == std::vector<std::string>{"id0", "id1"});
  std::vector<Hit> hits;
  REQUIRE(cc->Query(docs[1].vector, QueryOptions{.k = 1}, &hits).ok());
  CHECK(hits.at(0).id == "id1");
}
