#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "ann/vector_index.h"
#include "synthetic_data.h"

using namespace emberdb::ann;
using namespace emberdb::ann::testing;

namespace {

void CheckMatchesBruteForce(Metric metric, size_t nq) {
  const Dataset base = GaussianMixture(3000, 24, 10, 0.4f, metric == Metric::kInnerProduct, 1);
  const Dataset queries = GaussianMixture(nq, 24, 10, 0.4f, metric == Metric::kInnerProduct, 2);
  auto index = NewFlatIndex(24, metric);
  index->Add(base.n, base.labels.data(), base.vectors.data());
  REQUIRE(index->size() == base.n);
  const size_t k = 10;
  std::vector<float> d(nq * k);
  std::vector<int64_t> l(nq * k);
  index->Search(nq, queries.vectors.data(), k, SearchParams{}, d.data(), l.data());
  std::vector<float> td;
  std::vector<int64_t> tl;
  for (size_t q = 0; q < nq; ++q) {
    BruteForce(base, metric, &queries.vectors[q * 24], k, nullptr, &td, &tl);
    for (size_t j = 0; j < k; ++j) {
      CHECK(l[q * k + j] == tl[j]);
      CHECK(d[q * k + j] == doctest::Approx(td[j]).epsilon(1e-3));
    }
  }
}

}  // namespace

TEST_CASE("Flat search equals brute force for L2 and inner product in single and batched queries") {
  for (Metric m : {Metric::kL2, Metric::kInnerProduct}) {
    CheckMatchesBruteForce(m, 1);   // per-query SIMD path
    CheckMatchesBruteForce(m, 50);  // BLAS path (nq >= 20)
  }
}

TEST_CASE("Flat remove and replace") {
  const uint32_t dim = 8;
  Dataset base = GaussianMixture(500, dim, 5, 0.3f, false, 3);
  auto index = NewFlatIndex(dim, Metric::kL2);
  index->Add(base.n, base.labels.data(), base.vectors.data());
  // Remove every other label, plus one absent label and one repeated.
  std::vector<int64_t> removed;
  for (size_t i = 0; i < base.n; i += 2) removed.push_back(base.labels[i]);
  removed.push_back(999999);
  removed.push_back(base.labels[0]);
  index->Remove(removed.size(), removed.data());
  CHECK(index->size() == base.n / 2);
  for (size_t i = 0; i < base.n; ++i) CHECK(index->Contains(base.labels[i]) == (i % 2 == 1));

  // Each remaining vector finds itself first; removed ones never come back.
  for (size_t i = 0; i < base.n; ++i) {
    float d[5];
    int64_t l[5];
    index->Search(1, &base.vectors[i * dim], 5, SearchParams{}, d, l);
    for (int64_t label : l)
      CHECK(std::find(removed.begin(), removed.end(), label) == removed.end());
    if (i % 2 == 1) {
      CHECK(l[0] == base.labels[i]);
      CHECK(d[0] == doctest::Approx(0.0).epsilon(1e-5));
    }
  }

  // Replace: label 10's vector moves; a duplicate within one batch keeps the last copy.
  std::vector<float> v(dim, 100.0f), w(2 * dim, -100.0f);
  const int64_t label = base.labels[1];
  index->Add(1, &label, v.data());
  const int64_t twice[2] = {42424242, 42424242};
  std::fill(w.begin() + dim, w.end(), 50.0f);
  index->Add(2, twice, w.data());
  CHECK(index->size() == base.n / 2 + 1);
  float d[2];
  int64_t l[2];
  index->Search(1, v.data(), 2, SearchParams{}, d, l);
  CHECK(l[0] == label);
  CHECK(l[1] == 42424242);  // the copy at 50, not the one at -100
  CHECK(d[0] == 0.0f);
}

TEST_CASE("Flat filtered search returns exactly the nearest allowed labels") {
  const uint32_t dim = 16;
  const Dataset base = GaussianMixture(2000, dim, 8, 0.5f, true, 4);
  auto index = NewFlatIndex(dim, Metric::kInnerProduct);
  index->Add(base.n, base.labels.data(), base.vectors.data());
  std::vector<int64_t> allowed_labels;
  std::vector<bool> allowed(base.n);
  for (size_t i = 0; i < base.n; ++i) {
    allowed[i] = i % 7 == 3;
    if (allowed[i]) allowed_labels.push_back(base.labels[i]);
  }
  SetFilter filter(allowed_labels.begin(), allowed_labels.end());
  SearchParams params;
  params.filter = &filter;
  const size_t k = 20;
  std::vector<float> d(k), td;
  std::vector<int64_t> l(k), tl;
  for (size_t q = 0; q < 20; ++q) {
    const float* query = &base.vectors[q * 97 * dim];
    index->Search(1, query, k, params, d.data(), l.data());
    BruteForce(base, Metric::kInnerProduct, query, k, &allowed, &td, &tl);
    CHECK(l == tl);
  }
  // A filter admitting only 3 labels: 3 results then -1 padding with +inf distance.
  std::vector<int64_t> three = {base.labels[5], base.labels[500], base.labels[1500]};
  SetFilter tiny(three.begin(), three.end());
  params.filter = &tiny;
  index->Search(1, base.vectors.data(), k, params, d.data(), l.data());
  std::vector<int64_t> got(l.begin(), l.begin() + 3);
  std::sort(got.begin(), got.end());
  CHECK(got == three);
  for (size_t j = 3; j < k; ++j) {
    CHECK(l[j] == -1);
    CHECK(std::isinf(d[j]));
  }
}

TEST_CASE("Flat ties are broken by ascending label whatever the batch size") {
  // 200 copies of the same vector under shuffled labels: every distance ties.
  const uint32_t dim = 4;
  std::vector<int64_t> labels(200);
  for (size_t i = 0; i < labels.size(); ++i)
    labels[i] = static_cast<int64_t>((i * 37) % 200) + 1000;
  std::vector<float> vectors(labels.size() * dim, 0.5f);
  for (Metric m : {Metric::kL2, Metric::kInnerProduct}) {
    auto index = NewFlatIndex(dim, m);
    index->Add(labels.size(), labels.data(), vectors.data());
    std::vector<float> queries(30 * dim, 0.25f);
    const size_t k = 10;
    std::vector<float> d(30 * k);
    std::vector<int64_t> l(30 * k);
    for (size_t nq : {size_t{1}, size_t{30}}) {
      index->Search(nq, queries.data(), k, SearchParams{}, d.data(), l.data());
      for (size_t q = 0; q < nq; ++q) {
        for (size_t j = 0; j < k; ++j) CHECK(l[q * k + j] == 1000 + static_cast<int64_t>(j));
      }
    }
  }
}

TEST_CASE("Flat edge cases: empty index and k larger than size or zero") {
  auto index = NewFlatIndex(3, Metric::kL2);
  float q[3] = {1, 2, 3};
  float d[4];
  int64_t l[4];
  index->Search(1, q, 4, SearchParams{}, d, l);
  for (int j = 0; j < 4; ++j) CHECK(l[j] == -1);
  const int64_t labels[2] = {5, 9};
  const float vecs[6] = {1, 2, 3, 0, 0, 0};
  index->Add(2, labels, vecs);
  index->Search(1, q, 4, SearchParams{}, d, l);
  CHECK(l[0] == 5);
  CHECK(d[0] == 0.0f);
  CHECK(l[1] == 9);
  CHECK(d[1] == doctest::Approx(14.0));
  CHECK(l[2] == -1);
  CHECK(l[3] == -1);
  index->Search(1, q, 0, SearchParams{}, d, l);  // writes nothing, must not crash
  const IndexStats stats = index->Stats();
  CHECK(stats.kind == "Flat");
  CHECK(stats.size == 2);
  CHECK(stats.memory_bytes >= 2 * (3 * sizeof(float) + sizeof(int64_t)));
}
