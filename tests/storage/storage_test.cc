// storage/: key encodings keep value order, records round-trip and reject damage, and the
// store's batches, views, locks and read-only handles behave as db/ relies on.
#include <doctest/doctest.h>

#include <filesystem>
#include <random>

#include "storage/keys.h"
#include "storage/record.h"
#include "storage/store.h"

using namespace emberdb;
using namespace emberdb::storage;

namespace {

std::string TempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("emberdb-storage-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

std::string Encoded(const MetadataValue& v) {
  std::string s;
  REQUIRE(AppendIndexedValue(&s, v));
  return s;
}

}  // namespace

TEST_CASE("ordered doubles sort like the numbers they encode") {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> dist(-1e12, 1e12);
  std::vector<double> values = {0.0, -0.0, 1.0, -1.0, 1e-300, -1e-300, 1e300, -1e300, 0.5};
  for (int i = 0; i < 2000; ++i) values.push_back(dist(rng));
  for (size_t i = 0; i + 1 < values.size(); ++i) {
    double a = values[i], b = values[i + 1];
    std::string ea, eb;
    AppendOrderedDouble(&ea, a);
    AppendOrderedDouble(&eb, b);
    CHECK((a < b) == (ea < eb));
    CHECK((a == b) == (ea == eb));
  }
}

TEST_CASE("indexed values: ints and doubles share one number order, strings keep byte order") {
  CHECK(Encoded(int64_t{3}) == Encoded(3.0));
  CHECK(Encoded(int64_t{-5}) < Encoded(2.5));
  CHECK(Encoded(std::string("ab")) < Encoded(std::string("abc")));
  CHECK(Encoded(std::string("ab")) < Encoded(std::string("ab\0", 3)));
  CHECK(Encoded(std::string("a\0b", 3)) < Encoded(std::string("ab")));
  CHECK(Encoded(false) < Encoded(true));
  // Types sort in a fixed order: bool < number < string.
  CHECK(Encoded(true) < Encoded(int64_t{-100}));
  CHECK(Encoded(1e300) < Encoded(std::string("")));
  std::string list;
  CHECK_FALSE(AppendIndexedValue(&list, std::vector<int64_t>{1, 2}));
}

TEST_CASE("index keys: one per distinct scalar and list element, ending with the label") {
  Metadata m = {{"tags", std::vector<std::string>{"a", "b", "a"}}, {"year", int64_t{2020}}};
  std::vector<std::string> keys;
  IndexKeysFor(9, 42, m, &keys);
  REQUIRE(keys.size() == 3);
  for (const auto& k : keys) {
    CHECK(ReadU32BE(k.data()) == 9u);
    CHECK(ReadU64BE(k.data() + k.size() - 8) == 42u);
  }
}

TEST_CASE("document records round-trip every metadata type") {
  DocRecord doc;
  doc.id = "doc-1";
  doc.text = std::string("héllo\0world", 12);
  doc.metadata = {{"b", true},
                  {"i", int64_t{-7}},
                  {"d", 2.5},
                  {"s", std::string("x")},
                  {"bl", std::vector<bool>{true, false}},
                  {"il", std::vector<int64_t>{1, 2, 3}},
                  {"dl", std::vector<double>{0.25}},
                  {"sl", std::vector<std::string>{"p", "q"}}};
  std::string bytes;
  EncodeDocRecord(doc, &bytes);
  DocRecord back;
  REQUIRE(DecodeDocRecord(bytes, &back).ok());
  CHECK(back.id == doc.id);
  CHECK(back.text == doc.text);
  CHECK(back.metadata == doc.metadata);

  // Every truncation and a trailing byte are detected, never read past the end.
  for (size_t n = 0; n < bytes.size(); ++n) {
    DocRecord r;
    CHECK(DecodeDocRecord(std::string_view(bytes).substr(0, n), &r).IsCorruption());
  }
  CHECK(DecodeDocRecord(bytes + "x", &back).IsCorruption());
}

TEST_CASE("random bytes never decode past their end") {
  std::mt19937 rng(3);
  for (int i = 0; i < 5000; ++i) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    DocRecord r;
    (void)DecodeDocRecord(s, &r);  // must not crash (ASan checks reads)
  }
  float v[4];
  CHECK(DecodeVector(std::string(15, 'x'), 4, v).IsCorruption());
  CHECK(DecodeVector(std::string(16, '\0'), 4, v).ok());
}

TEST_CASE("store: batches are atomic, views are consistent, prefixes iterate in order") {
  std::string dir = TempDir("batch");
  std::unique_ptr<Store> store;
  REQUIRE(Store::Open(dir, StoreOptions(), &store).ok());
  Batch b = store->NewBatch();
  b.Put(Cf::kDocs, LabelKey(1, 2), "two");
  b.Put(Cf::kDocs, LabelKey(1, 1), "one");
  b.Put(Cf::kDocs, LabelKey(2, 1), "other collection");
  REQUIRE(store->Write(&b, true).ok());

  {
    auto view = store->NewReadView();
    Batch del = store->NewBatch();
    del.DeleteRange(Cf::kDocs, CollectionPrefix(1), PrefixSuccessor(CollectionPrefix(1)));
    REQUIRE(store->Write(&del, false).ok());

    std::vector<std::string> seen;
    for (auto it = store->NewIterator(Cf::kDocs, CollectionPrefix(1), view.get()); it->Valid();
         it->Next()) {
      seen.emplace_back(it->value());
    }
    CHECK(seen == std::vector<std::string>{"one", "two"});  // the view predates the delete
    auto now = store->NewIterator(Cf::kDocs, CollectionPrefix(1));
    CHECK_FALSE(now->Valid());
    std::string v;
    bool found = false;
    REQUIRE(store->Get(Cf::kDocs, LabelKey(2, 1), &v, nullptr, &found).ok());
    CHECK(found);
    CHECK(v == "other collection");

    std::vector<std::string> values;
    std::vector<bool> hit;
    REQUIRE(store->MultiGet(Cf::kDocs, {LabelKey(2, 1), LabelKey(1, 1)}, &values, &hit).ok());
    CHECK(hit == std::vector<bool>{true, false});
  }  // views and iterators must be released before the store closes
  store.reset();
  std::filesystem::remove_all(dir);
}

TEST_CASE("store: a second writer is refused as Busy naming the directory, and readers follow") {
  std::string dir = TempDir("lock");
  std::unique_ptr<Store> writer, second, reader;
  REQUIRE(Store::Open(dir, StoreOptions(), &writer).ok());
  Status s = Store::Open(dir, StoreOptions(), &second);
  CHECK(s.IsBusy());
  CHECK(s.message().find(dir) != std::string::npos);

  StoreOptions ro;
  ro.read_only = true;
  REQUIRE(Store::Open(dir, ro, &reader).ok());
  Batch b = writer->NewBatch();
  b.Put(Cf::kIds, "k", "v");
  REQUIRE(writer->Write(&b, false).ok());
  std::string v;
  bool found = true;
  REQUIRE(reader->Get(Cf::kIds, "k", &v, nullptr, &found).ok());
  CHECK_FALSE(found);  // not before catching up
  REQUIRE(reader->CatchUp().ok());
  REQUIRE(reader->Get(Cf::kIds, "k", &v, nullptr, &found).ok());
  CHECK(found);
  Batch w = reader->NewBatch();
  w.Put(Cf::kIds, "x", "y");
  CHECK(reader->Write(&w, false).IsNotSupported());
  reader.reset();
  writer.reset();
  std::filesystem::remove_all(dir);
}

TEST_CASE("store: missing databases, error_if_exists, newer formats and checkpoints") {
  std::string dir = TempDir("open");
  std::unique_ptr<Store> store;
  StoreOptions no_create;
  no_create.create_if_missing = false;
  CHECK(Store::Open(dir, no_create, &store).IsNotFound());
  StoreOptions ro;
  ro.read_only = true;
  CHECK(Store::Open(dir, ro, &store).IsNotFound());

  REQUIRE(Store::Open(dir, StoreOptions(), &store).ok());
  Batch b = store->NewBatch();
  b.Put(Cf::kVectors, "a", "1");
  REQUIRE(store->Write(&b, true).ok());
  std::string copy = dir + "-copy";
  std::filesystem::remove_all(copy);
  REQUIRE(store->Checkpoint(copy).ok());
  uint64_t reclaimed = 0;
  CHECK(store->Compact(&reclaimed).ok());

  // A format version from the future is refused.
  Batch future = store->NewBatch();
  std::string v;
  AppendU32BE(&v, 99);
  future.Put(Cf::kDefault, "format_version", v);
  REQUIRE(store->Write(&future, true).ok());
  store.reset();
  CHECK(Store::Open(dir, StoreOptions(), &store).IsNotSupported());

  StoreOptions exclusive;
  exclusive.error_if_exists = true;
  CHECK_FALSE(Store::Open(copy, exclusive, &store).ok());
  REQUIRE(Store::Open(copy, StoreOptions(), &store).ok());
  bool found = false;
  REQUIRE(store->Get(Cf::kVectors, "a", &v, nullptr, &found).ok());
  CHECK(found);
  store.reset();
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(copy);
}
