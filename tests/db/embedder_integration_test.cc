// Collections with embedders: vectors computed on ingest and for text queries, identities
// persisted and enforced, failed embedding writes nothing, truncation reported or refused.
#include <filesystem>

#include "db_test_support.h"

using namespace emberdb;
using namespace emberdb_test;

namespace {

const std::string kModels = std::string(EMBERDB_SOURCE_DIR) + "/tests/data/embedder/models/";

std::shared_ptr<Collection> Create(DB* db, const std::string& name, const std::string& spec,
                                   bool truncation_is_error = false) {
  CollectionOptions o;
  o.embedder = spec;
  o.truncation_is_error = truncation_is_error;
  std::shared_ptr<Collection> c;
  Status s = db->CreateCollection(name, o, &c);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return c;
}

}  // namespace

TEST_CASE("an hf: collection embeds on ingest and at query time, and reports truncation") {
  TempDir dir("hf");
  auto db = OpenDb(dir.path());
  auto c = Create(db.get(), "docs", "hf:" + kModels + "tiny-bert-mean");
  CHECK(c->info().options.dimension == 32);
  CHECK(c->info().embedder.kind == "hf");
  std::string long_text;
  for (int i = 0; i < 400; ++i) long_text += "word ";
  std::vector<uint32_t> dropped;
  REQUIRE(c->Add({{"short", "a short sentence about cats", {}, {}},
                  {"long", long_text, {}, {}},
                  {"given", "", {}, std::vector<float>(32, 0.25f)}},
                 {}, &dropped)
              .ok());
  REQUIRE(dropped.size() == 3);
  CHECK(dropped[0] == 0);
  CHECK(dropped[1] == 400 - 254);  // max_seq_length 256 keeps [CLS] + 254 tokens + [SEP]
  CHECK(dropped[2] == 0);          // its vector was given

  // The stored vector is the model's embedding of the text.
  std::unique_ptr<Embedder> model;
  REQUIRE(NewEmbedder("hf:" + kModels + "tiny-bert-mean", EmbedderOptions(), &model).ok());
  std::vector<float> expected;
  REQUIRE(model->EmbedDocuments({"a short sentence about cats"}, &expected).ok());
  std::vector<Document> out;
  GetOptions g;
  g.ids = {"short"};
  g.include = kIncludeVectors;
  REQUIRE(c->Get(g, &out).ok());
  REQUIRE(out.at(0).vector.size() == 32);
  for (size_t i = 0; i < 32; ++i) CHECK(out[0].vector[i] == doctest::Approx(expected[i]));

  std::vector<Hit> hits;
  REQUIRE(c->QueryText("a short sentence about cats", QueryOptions{.k = 1}, &hits).ok());
  CHECK(hits.at(0).id == "short");
  CHECK(hits[0].score == doctest::Approx(1.0).epsilon(1e-4));

  auto strict = Create(db.get(), "strict", "hf:" + kModels + "tiny-bert-mean", true);
  Status s = strict->Add({{"long", long_text, {}, {}}});
  CHECK(s.IsInvalidArgument());
  CHECK(CountOf(*strict) == 0);
}

TEST_CASE("reopening with another model of the same dimension is refused") {
  TempDir dir("hf-identity");
  std::string folder = dir.sub("model");
  std::filesystem::create_directories(dir.path());
  std::filesystem::copy(kModels + "tiny-bert-mean", folder,
                        std::filesystem::copy_options::recursive);
  {
    auto db = OpenDb(dir.sub("db"));
    auto c = Create(db.get(), "docs", "hf:" + folder);
    REQUIRE(c->Add({{"a", "hello", {}, {}}}).ok());
  }
  // Same folder path, different weights (the CLS model has the same shapes and dimension).
  std::filesystem::remove_all(folder);
  std::filesystem::copy(kModels + "tiny-bert-cls", folder,
                        std::filesystem::copy_options::recursive);
  auto db = OpenDb(dir.sub("db"));
  std::shared_ptr<Collection> c;
  Status s = db->GetCollection("docs", &c);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("refusing to mix vector spaces") != std::string::npos);

  // A missing model folder: the collection still opens for vector work; text work explains.
  db.reset();
  std::filesystem::remove_all(folder);
  db = OpenDb(dir.sub("db"));
  REQUIRE(db->GetCollection("docs", &c).ok());
  std::vector<Hit> hits;
  s = c->QueryText("hello", QueryOptions(), &hits);
  CHECK_FALSE(s.ok());
  CHECK_MESSAGE(s.message().find(folder) != std::string::npos, s.ToString());
  std::vector<Document> docs;
  GetOptions g;
  g.include = kIncludeVectors;
  REQUIRE(c->Get(g, &docs).ok());
  REQUIRE(c->Query(docs.at(0).vector, QueryOptions(), &hits).ok());
  CHECK(hits.at(0).id == "a");
}

TEST_CASE("a failing embedder writes nothing for its batch") {
  TempDir dir("failing");
  Options options;
  bool fail = false;
  HostEmbedFunction f;
  f.dimension = 4;
  f.embed = [&fail](const std::vector<std::string>& texts, std::vector<float>* out) {
    if (fail) return Status::IOError("embedding service unavailable");
    out->clear();
    for (const auto& t : texts) {
      out->insert(out->end(), {float(t.size()), 1, 1, 1});
    }
    return Status::OK();
  };
  options.embedder.host_functions["svc"] = f;
  auto db = OpenDb(dir.path(), options);
  auto c = Create(db.get(), "docs", "host:svc");
  REQUIRE(c->Add({{"a", "one", {}, {}}}).ok());
  fail = true;
  Status s = c->Upsert({{"b", "two", {}, {}}, {"c", "three", {}, {}}});
  CHECK(s.IsIOError());
  CHECK(s.message().find("embedding service unavailable") != std::string::npos);
  CHECK(CountOf(*c) == 1);
  std::vector<Hit> hits;
  CHECK(c->QueryText("one", QueryOptions(), &hits).IsIOError());
  fail = false;
  REQUIRE(c->Upsert({{"b", "two", {}, {}}}).ok());
  CHECK(CountOf(*c) == 2);
}
