// Unit tests of the ingest engine's write pattern against an in-memory Collection: which calls
// it makes, when a source counts as unchanged, and how a changed source is replaced.
#include "../../tools/cli/ingester.h"

#include <doctest/doctest.h>

#include <map>
#include <nlohmann/json.hpp>

using emberdb::Collection;
using emberdb::Document;
using emberdb::Status;
using emberdb::cli::ChunkOptions;
using emberdb::cli::Ingester;
using emberdb::cli::SourceDocument;

namespace {

// Stores documents in a map and understands the two filters the ingester sends:
// {"source": S} and {"$and": [{"source": S}, {"content_hash": H}]}.
class FakeCollection : public Collection {
 public:
  std::map<std::string, Document> docs;
  int upserts = 0, deletes = 0;

  const std::string& name() const override { return name_; }
  emberdb::CollectionInfo info() const override { return {}; }
  Status Add(const std::vector<Document>&, const emberdb::WriteOptions&,
             std::vector<uint32_t>*) override {
    return Status::NotSupported("Add");
  }
  Status Upsert(const std::vector<Document>& batch, const emberdb::WriteOptions&,
                std::vector<uint32_t>*) override {
    ++upserts;
    for (const auto& d : batch) docs[d.id] = d;
    return Status::OK();
  }
  Status Update(const std::vector<emberdb::DocumentUpdate>&,
                const emberdb::WriteOptions&) override {
    return Status::NotSupported("Update");
  }
  Status Delete(const std::vector<std::string>& ids, const emberdb::WriteOptions&,
                uint64_t* deleted) override {
    ++deletes;
    uint64_t n = 0;
    for (const auto& id : ids) n += docs.erase(id);
    if (deleted) *deleted = n;
    return Status::OK();
  }
  Status DeleteWhere(const std::string& where, const std::string&, const emberdb::WriteOptions&,
                     uint64_t* deleted) override {
    std::vector<std::string> ids;
    for (const auto& [id, d] : docs) {
      if (Matches(where, d)) ids.push_back(id);
    }
    return Delete(ids, {}, deleted);
  }
  Status Get(const emberdb::GetOptions& o, std::vector<Document>* out) const override {
    out->clear();
    size_t skipped = 0;
    for (const auto& [id, d] : docs) {
      if (!o.where.empty() && !Matches(o.where, d)) continue;
      if (skipped++ < o.offset) continue;
      if (out->size() >= o.limit) break;
      out->push_back(d);
    }
    return Status::OK();
  }
  Status Count(uint64_t* count) const override {
    *count = docs.size();
    return Status::OK();
  }
  Status Peek(size_t, std::vector<Document>*) const override { return Status::NotSupported(""); }
  Status Query(std::span<const float>, const emberdb::QueryOptions&,
               std::vector<emberdb::Hit>*) const override {
    return Status::NotSupported("");
  }
  Status QueryBatch(std::span<const float>, const emberdb::QueryOptions&,
                    std::vector<std::vector<emberdb::Hit>>*) const override {
    return Status::NotSupported("");
  }
  Status QueryText(const std::string&, const emberdb::QueryOptions&,
                   std::vector<emberdb::Hit>*) const override {
    return Status::NotSupported("");
  }
  Status Stats(emberdb::CollectionStats*) const override { return Status::NotSupported(""); }
  Status WaitForIndex() override { return Status::OK(); }

 private:
  static bool Matches(const std::string& where, const Document& d) {
    const auto filter = nlohmann::json::parse(where);
    auto field = [&](const std::string& key) {
      auto it = d.metadata.find(key);
      return it == d.metadata.end() ? std::string() : std::get<std::string>(it->second);
    };
    if (filter.contains("$and")) {
      for (const auto& clause : filter["$and"]) {
        for (auto it = clause.begin(); it != clause.end(); ++it) {
          if (field(it.key()) != it.value().get<std::string>()) return false;
        }
      }
      return true;
    }
    for (auto it = filter.begin(); it != filter.end(); ++it) {
      if (field(it.key()) != it.value().get<std::string>()) return false;
    }
    return true;
  }
  std::string name_ = "fake";
};

std::vector<SourceDocument> Doc(const std::string& base, const std::string& text) {
  return {SourceDocument{base, text, {}}};
}

std::string Words(int n, const std::string& w) {
  std::string s;
  for (int i = 0; i < n; ++i) s += w + std::to_string(i) + " ";
  return s;
}

}  // namespace

TEST_CASE("ingester: unchanged sources are skipped, changed ones replaced without gaps") {
  FakeCollection c;
  Ingester ingester(&c, ChunkOptions{10, 2}, 256);
  REQUIRE(ingester.AddSource("a", "h1", Doc("a", Words(40, "x"))).ok());
  REQUIRE(ingester.Flush().ok());
  const size_t first = c.docs.size();
  CHECK(first == 5);      // 40 words, 8 new per passage after the first
  CHECK(c.upserts == 1);  // one small source: one atomic write
  CHECK(c.deletes == 0);

  REQUIRE(ingester.AddSource("a", "h1", Doc("a", Words(40, "x"))).ok());
  REQUIRE(ingester.Flush().ok());
  CHECK(ingester.counters().sources_unchanged == 1);
  CHECK(c.upserts == 1);

  // Shorter new version: same ids overwritten, extra ids deleted after the write.
  REQUIRE(ingester.AddSource("a", "h2", Doc("a", Words(12, "y"))).ok());
  REQUIRE(ingester.Flush().ok());
  CHECK(c.upserts == 2);
  CHECK(c.deletes == 1);
  CHECK(c.docs.size() == 2);
  for (const auto& [id, d] : c.docs) {
    CHECK(std::get<std::string>(d.metadata.at("content_hash")) == "h2");
    CHECK(std::get<int64_t>(d.metadata.at("passages")) == 2);
  }
}

TEST_CASE("ingester: an incomplete source (stopped mid-way) is not mistaken for unchanged") {
  FakeCollection c;
  Ingester ingester(&c, ChunkOptions{10, 0}, 2);
  int flushes = 0;
  ingester.should_stop = [&] { return ++flushes == 1; };
  const Status s = ingester.AddSource("big", "h", Doc("big", Words(60, "w")));
  CHECK(s.IsAborted());
  CHECK(c.docs.size() == 2);  // the first batch stays
  ingester.should_stop = nullptr;
  Ingester again(&c, ChunkOptions{10, 0}, 2);
  REQUIRE(again.AddSource("big", "h", Doc("big", Words(60, "w"))).ok());
  REQUIRE(again.Flush().ok());
  CHECK(again.counters().sources_unchanged == 0);
  CHECK(again.counters().sources_ingested == 1);
  CHECK(c.docs.size() == 6);
}

TEST_CASE("ingester: record ids must be unique, and a source cannot take another's ids") {
  FakeCollection c;
  Ingester ingester(&c, ChunkOptions{}, 256);
  std::vector<std::string> problems;
  ingester.report = [&](const std::string& p) { problems.push_back(p); };
  std::vector<SourceDocument> records = {
      {"r1", "first", {}}, {"r1", "duplicate", {}}, {"r2", "second", {}}};
  REQUIRE(ingester.AddSource("one.jsonl", "h", records).ok());
  REQUIRE(ingester.AddSource("two.jsonl", "h", Doc("r2", "stolen")).ok());
  REQUIRE(ingester.Flush().ok());
  CHECK(c.docs.size() == 2);
  CHECK(c.docs.at("r1#0").text == "first");
  CHECK(c.docs.at("r2#0").text == "second");
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].find("duplicate id 'r1'") != std::string::npos);
  CHECK(problems[1].find("already ingested from one.jsonl") != std::string::npos);
}

TEST_CASE("ingester: prune removes only vanished sources under the given roots") {
  FakeCollection c;
  Ingester ingester(&c, ChunkOptions{}, 256);
  for (const char* s : {"/d/a.txt", "/d/sub/b.txt", "/dx/c.txt", "/e/d.txt"}) {
    REQUIRE(ingester.AddSource(s, "h", Doc(s, "some words")).ok());
  }
  REQUIRE(ingester.Flush().ok());
  REQUIRE(ingester.Prune({"/d"}, {"/d/a.txt"}).ok());
  CHECK(ingester.counters().sources_pruned == 1);
  CHECK(c.docs.count("/d/sub/b.txt#0") == 0);
  CHECK(c.docs.count("/dx/c.txt#0") == 1);  // "/dx" is not under "/d"
  CHECK(c.docs.count("/e/d.txt#0") == 1);
  CHECK(c.docs.count("/d/a.txt#0") == 1);
}
