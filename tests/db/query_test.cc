// Exact top-k search: agrees with brute force under every metric, with and without filters.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "db_test_support.h"

using namespace emberdb;
using namespace emberdb_test;

namespace {

double Distance(Metric m, const std::vector<float>& q, const std::vector<float>& v) {
  double dot = 0, qq = 0, vv = 0, l2 = 0;
  for (size_t i = 0; i < q.size(); ++i) {
    dot += double(q[i]) * v[i];
    qq += double(q[i]) * q[i];
    vv += double(v[i]) * v[i];
    l2 += (double(q[i]) - v[i]) * (double(q[i]) - v[i]);
  }
  switch (m) {
    case Metric::kCosine:
      return 1 - dot / std::sqrt(qq * vv);
    case Metric::kL2:
      return l2;
    case Metric::kInnerProduct:
      return -dot;
  }
  return 0;
}

}  // namespace

TEST_CASE("exact search matches brute force for cosine, l2 and inner product") {
  for (Metric metric : {Metric::kCosine, Metric::kL2, Metric::kInnerProduct}) {
    CAPTURE(MetricName(metric));
    TempDir dir("query");
    auto db = OpenDb(dir.path());
    const uint32_t dim = 24;
    auto c = MakeCollection(db.get(), "v", dim, metric);
    std::mt19937 rng(11);
    std::vector<Document> docs;
    for (int i = 0; i < 500; ++i) {
      docs.push_back(
          {"v" + std::to_string(i), "", {{"g", int64_t{i % 10}}}, RandomVector(rng, dim)});
    }
    REQUIRE(c->Add(docs).ok());
    for (int t = 0; t < 10; ++t) {
      std::vector<float> q = RandomVector(rng, dim);
      for (bool filtered : {false, true}) {
        std::vector<size_t> order;
        for (size_t i = 0; i < docs.size(); ++i) {
          if (!filtered || i % 10 == 3) order.push_back(i);
        }
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
          return Distance(metric, q, docs[a].vector) < Distance(metric, q, docs[b].vector);
        });
        QueryOptions qo;
        qo.k = 7;
        if (filtered) qo.where = R"({"g": 3})";
        std::vector<Hit> hits;
        REQUIRE(c->Query(q, qo, &hits).ok());
        REQUIRE(hits.size() == 7);
        for (size_t r = 0; r < hits.size(); ++r) {
          CHECK(hits[r].id == docs[order[r]].id);
          double expected = Distance(metric, q, docs[order[r]].vector);
          CHECK(hits[r].distance == doctest::Approx(expected).epsilon(1e-4));
          if (metric == Metric::kCosine)
            CHECK(hits[r].score == doctest::Approx(1 - expected).epsilon(1e-4));
          if (metric == Metric::kL2)
            CHECK(hits[r].score == doctest::Approx(1 / (1 + expected)).epsilon(1e-4));
          if (metric == Metric::kInnerProduct)
            CHECK(hits[r].score == doctest::Approx(-expected).epsilon(1e-4));
          if (r > 0) CHECK(hits[r - 1].distance <= hits[r].distance);
        }
      }
    }
  }
}

TEST_CASE("results carry what include asks for, k larger than the collection, ties by id") {
  TempDir dir("include");
  auto db = OpenDb(dir.path());
  auto c = MakeCollection(db.get(), "v", 2, Metric::kL2);
  // Four documents at the same distance from the query: ties break by ascending id.
  REQUIRE(c->Add({{"d", "dd", {{"n", int64_t{4}}}, {0, 1}},
                  {"b", "bb", {{"n", int64_t{2}}}, {1, 0}},
                  {"c", "cc", {}, {0, -1}},
                  {"a", "aa", {}, {-1, 0}}})
              .ok());
  QueryOptions qo;
  qo.k = 10;
  qo.include = kIncludeAll;
  std::vector<Hit> hits;
  REQUIRE(c->Query(std::vector<float>{0, 0}, qo, &hits).ok());
  REQUIRE(hits.size() == 4);
  CHECK(hits[0].id == "a");
  CHECK(hits[1].id == "b");
  CHECK(hits[2].id == "c");
  CHECK(hits[3].id == "d");
  CHECK(hits[1].text == "bb");
  CHECK(std::get<int64_t>(hits[1].metadata.at("n")) == 2);
  CHECK(hits[1].vector == std::vector<float>{1, 0});
  qo.include = kIncludeNone;
  REQUIRE(c->Query(std::vector<float>{0, 0}, qo, &hits).ok());
  CHECK(hits[0].text.empty());
  CHECK(hits[0].metadata.empty());

  std::vector<std::vector<Hit>> batch;
  std::vector<float> two = {1, 0, 0, -1};
  qo.k = 1;
  REQUIRE(c->QueryBatch(two, qo, &batch).ok());
  REQUIRE(batch.size() == 2);
  CHECK(batch[0][0].id == "b");
  CHECK(batch[1][0].id == "c");
}

TEST_CASE("filters: metadata operators, where_document and the index agree with a scan") {
  TempDir dir("filters");
  auto db = OpenDb(dir.path());
  const uint32_t dim = 8;
  auto c = MakeCollection(db.get(), "v", dim);
  std::mt19937 rng(5);
  std::vector<Document> docs;
  const char* colors[] = {"red", "green", "blue"};
  for (int i = 0; i < 300; ++i) {
    Metadata m = {{"year", int64_t{2000 + i % 25}},
                  {"price", 0.5 * (i % 40)},
                  {"color", std::string(colors[i % 3])},
                  {"sale", i % 4 == 0}};
    if (i % 5 == 0) m.erase("color");
    docs.push_back({"p" + std::to_string(i), i % 7 == 0 ? "contains magic word" : "plain", m,
                    RandomVector(rng, dim)});
  }
  REQUIRE(c->Add(docs).ok());
  struct Case {
    const char* where;
    const char* where_document;
    std::function<bool(int)> expect;
  };
  std::vector<Case> cases = {
      {R"({"year": 2010})", "", [](int i) { return i % 25 == 10; }},
      {R"({"year": {"$gt": 2020}})", "", [](int i) { return i % 25 > 20; }},
      {R"({"price": {"$lte": 2.0}})", "", [](int i) { return 0.5 * (i % 40) <= 2.0; }},
      {R"({"price": {"$lt": 2}})", "", [](int i) { return 0.5 * (i % 40) < 2.0; }},
      {R"({"color": {"$in": ["red", "blue"]}})", "",
       [](int i) { return i % 5 != 0 && i % 3 != 1; }},
      {R"({"color": {"$nin": ["red"]}})", "", [](int i) { return i % 5 == 0 || i % 3 != 0; }},
      {R"({"color": {"$ne": "green"}})", "", [](int i) { return i % 5 == 0 || i % 3 != 1; }},
      {R"({"$or": [{"sale": true}, {"year": 2001}]})", "",
       [](int i) { return i % 4 == 0 || i % 25 == 1; }},
      {R"({"sale": false, "year": {"$gte": 2005, "$lt": 2007}})", "",
       [](int i) { return i % 4 != 0 && (i % 25 == 5 || i % 25 == 6); }},
      {"", R"({"$contains": "magic"})", [](int i) { return i % 7 == 0; }},
      {R"({"sale": true})", R"({"$not_contains": "magic"})",
       [](int i) { return i % 4 == 0 && i % 7 != 0; }},
  };
  for (const Case& k : cases) {
    CAPTURE(k.where);
    CAPTURE(k.where_document);
    std::vector<std::string> expected;
    for (int i = 0; i < 300; ++i) {
      if (k.expect(i)) expected.push_back("p" + std::to_string(i));
    }
    std::sort(expected.begin(), expected.end());
    GetOptions g;
    g.where = k.where;
    g.where_document = k.where_document;
    g.include = kIncludeNone;
    std::vector<Document> out;
    REQUIRE(c->Get(g, &out).ok());
    std::vector<std::string> got;
    for (auto& d : out) got.push_back(d.id);
    CHECK(got == expected);

    // A filtered query returns k results whenever k documents match.
    QueryOptions qo;
    qo.k = 10;
    qo.where = k.where;
    qo.where_document = k.where_document;
    std::vector<Hit> hits;
    REQUIRE(c->Query(RandomVector(rng, dim), qo, &hits).ok());
    CHECK(hits.size() == std::min<size_t>(10, expected.size()));
    for (const Hit& h : hits) CHECK(std::binary_search(expected.begin(), expected.end(), h.id));
  }
  std::vector<Hit> hits;
  for (const char* bad :
       {"{", "[]", R"({"$and": []})", R"({"x": {"$regex": "a"}})", R"({"x": {"$gt": "a"}})"}) {
    QueryOptions qo;
    qo.where = bad;
    Status s = c->Query(RandomVector(rng, dim), qo, &hits);
    CHECK_MESSAGE(s.IsInvalidArgument(), bad);
  }
  QueryOptions qo;
  qo.where_document = R"({"$eq": "x"})";
  CHECK(c->Query(RandomVector(rng, dim), qo, &hits).IsInvalidArgument());
}

TEST_CASE("text queries go through the collection's embedder") {
  TempDir dir("text");
  auto db = OpenDb(dir.path());
  auto c = MakeCollection(db.get(), "articles", 0, Metric::kCosine, "hash");
  std::vector<uint32_t> dropped;
  REQUIRE(c->Add({{"pw", "How to reset your password when you forgot it", {}, {}},
                  {"bill", "Understanding your monthly invoice and billing cycle", {}, {}},
                  {"ship", "Tracking the shipping status of an order", {}, {}}},
                 {}, &dropped)
              .ok());
  CHECK(dropped == std::vector<uint32_t>{0, 0, 0});
  std::vector<Hit> hits;
  REQUIRE(c->QueryText("I forgot my password", QueryOptions{.k = 3}, &hits).ok());
  REQUIRE(hits.size() == 3);
  CHECK(hits[0].id == "pw");
  REQUIRE(c->QueryText("where is my order shipping", QueryOptions{.k = 1}, &hits).ok());
  CHECK(hits[0].id == "ship");

  auto plain = MakeCollection(db.get(), "plain", 4);
  Status s = plain->QueryText("anything", QueryOptions(), &hits);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("no embedder") != std::string::npos);
  s = plain->Add({{"x", "text without a vector", {}, {}}});
  CHECK(s.IsInvalidArgument());
}
