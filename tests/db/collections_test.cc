// Collections: create, get, list, drop, persisted configuration, names and options.
#include "db_test_support.h"

using namespace emberdb;
using namespace emberdb_test;

TEST_CASE("collections are created, listed, reopened with their configuration, and dropped") {
  TempDir dir("collections");
  {
    auto db = OpenDb(dir.path());
    CollectionOptions o;
    o.dimension = 8;
    o.metric = Metric::kL2;
    o.index = "IVF,SQ8";
    o.nprobe = 7;
    o.train_threshold = 500;
    std::shared_ptr<Collection> c;
    REQUIRE(db->CreateCollection("alpha", o, &c).ok());
    MakeCollection(db.get(), "beta", 4, Metric::kInnerProduct);
    REQUIRE(c->Add({{"a", "", {}, std::vector<float>(8, 1.0f)}}).ok());
    CHECK(db->CreateCollection("alpha", o, &c).IsAlreadyExists());
  }
  auto db = OpenDb(dir.path());
  std::vector<CollectionInfo> infos;
  REQUIRE(db->ListCollections(&infos).ok());
  REQUIRE(infos.size() == 2);
  CHECK(infos[0].name == "alpha");
  CHECK(infos[0].options.dimension == 8);
  CHECK(infos[0].options.metric == Metric::kL2);
  CHECK(infos[0].options.index == "IVF,SQ8");
  CHECK(infos[0].options.nprobe == 7);
  CHECK(infos[0].options.train_threshold == 500);
  CHECK(infos[0].count == 1);
  CHECK(infos[1].name == "beta");
  CHECK(infos[1].options.metric == Metric::kInnerProduct);

  std::shared_ptr<Collection> alpha;
  REQUIRE(db->GetCollection("alpha", &alpha).ok());
  CHECK(CountOf(*alpha) == 1);
  REQUIRE(db->DropCollection("alpha").ok());
  CHECK(alpha->Count(nullptr).IsNotFound());  // the handle outlives the collection
  std::shared_ptr<Collection> gone;
  CHECK(db->GetCollection("alpha", &gone).IsNotFound());
  CHECK(db->DropCollection("alpha").IsNotFound());

  // A new collection of the same name starts empty: the drop removed every key.
  auto again = MakeCollection(db.get(), "alpha", 8);
  CHECK(CountOf(*again) == 0);
  CHECK(AllIds(*again).empty());
  std::vector<Hit> hits;
  REQUIRE(again->Query(std::vector<float>(8, 1.0f), QueryOptions(), &hits).ok());
  CHECK(hits.empty());
}

TEST_CASE("collection names and options are validated") {
  TempDir dir("collection-options");
  auto db = OpenDb(dir.path());
  std::shared_ptr<Collection> c;
  CollectionOptions o;
  o.dimension = 4;
  for (const char* bad : {"", "has space", "slash/name", "-dash", ".dot", "ünï"}) {
    Status s = db->CreateCollection(bad, o, &c);
    CHECK_MESSAGE(s.IsInvalidArgument(), bad);
  }
  CHECK(db->CreateCollection(std::string(200, 'a'), o, &c).IsInvalidArgument());
  CHECK(db->CreateCollection("ok-name_1.v2", o, &c).ok());

  CollectionOptions no_dim;
  Status s = db->CreateCollection("nodim", no_dim, &c);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("dimension") != std::string::npos);

  CollectionOptions bad_index = o;
  bad_index.index = "HNSW32";
  CHECK(db->CreateCollection("badindex", bad_index, &c).IsInvalidArgument());

  CollectionOptions bad_embedder = o;
  bad_embedder.embedder = "word2vec:/nowhere";
  CHECK(db->CreateCollection("badembedder", bad_embedder, &c).IsInvalidArgument());

  CollectionOptions mismatch;
  mismatch.embedder = "hash:dim=64";
  mismatch.dimension = 32;
  CHECK(db->CreateCollection("mismatch", mismatch, &c).IsInvalidArgument());
  mismatch.dimension = 0;
  REQUIRE(db->CreateCollection("fromembedder", mismatch, &c).ok());
  CHECK(c->info().options.dimension == 64);
  CHECK(c->info().embedder.kind == "hash");

  std::vector<CollectionInfo> infos;
  REQUIRE(db->ListCollections(&infos).ok());
  CHECK(infos.size() == 2);  // nothing was created by the failed calls

  CHECK(db->GetCollection("missing", &c).IsNotFound());
  std::shared_ptr<Collection> got;
  CollectionOptions same = o;
  REQUIRE(db->GetOrCreateCollection("ok-name_1.v2", same, &got).ok());
  CHECK(got->info().options.dimension == 4);
  CollectionOptions other = o;
  other.dimension = 5;
  CHECK(db->GetOrCreateCollection("ok-name_1.v2", other, &got).IsInvalidArgument());
  REQUIRE(db->GetOrCreateCollection("fresh", o, &got).ok());
  CHECK(got->name() == "fresh");
}

TEST_CASE("a collection refuses to reopen with an embedder of another vector space") {
  TempDir dir("identity");
  {
    auto db = OpenDb(dir.path());
    CollectionOptions o;
    o.embedder = "hash:dim=32";
    std::shared_ptr<Collection> c;
    REQUIRE(db->CreateCollection("docs", o, &c).ok());
    REQUIRE(c->Add({{"a", "hello world", {}, {}}}).ok());
  }
  auto db = OpenDb(dir.path());
  std::shared_ptr<Collection> c;
  REQUIRE(db->GetCollection("docs", &c).ok());
  std::vector<Hit> hits;
  REQUIRE(c->QueryText("hello", QueryOptions(), &hits).ok());
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].id == "a");
}

TEST_CASE("reopening with a host embedder of another dimension is refused") {
  TempDir dir("identity-host");
  auto constant = [](uint32_t dim) {
    HostEmbedFunction f;
    f.dimension = dim;
    f.embed = [dim](const std::vector<std::string>& texts, std::vector<float>* out) {
      out->assign(texts.size() * dim, 0.5f);
      return Status::OK();
    };
    return f;
  };
  {
    Options opts;
    opts.embedder.host_functions["mine"] = constant(4);
    auto db = OpenDb(dir.path(), opts);
    CollectionOptions o;
    o.embedder = "host:mine";
    std::shared_ptr<Collection> c;
    REQUIRE(db->CreateCollection("docs", o, &c).ok());
    CHECK(c->info().options.dimension == 4);
    REQUIRE(c->Add({{"a", "text", {}, {}}}).ok());
  }
  Options opts;
  opts.embedder.host_functions["mine"] = constant(8);
  auto db = OpenDb(dir.path(), opts);
  std::shared_ptr<Collection> c;
  Status s = db->GetCollection("docs", &c);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("refusing to mix vector spaces") != std::string::npos);
}
