// IVF-Flat / SQ8 / PQ on a clustered synthetic collection (20,000 x 64, normalised).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ann/vector_index.h"
#include "synthetic_data.h"

using namespace emberdb::ann;
using namespace emberdb::ann::testing;

namespace {

constexpr uint32_t kDim = 64;
constexpr size_t kBase = 20000;
constexpr size_t kQueries = 200;
constexpr size_t kK = 10;
constexpr size_t kClusters = 100;
constexpr float kSigma = 1.0f;

struct World {
  Metric metric;
  Dataset base;
  Dataset queries;
  std::unique_ptr<VectorIndex> exact;
  std::unordered_map<int64_t, size_t> row_of;  // label -> row in base
};

World MakeWorld(Metric metric) {
  World w{metric,
          GaussianMixture(kBase, kDim, kClusters, kSigma, true, 11),
          GaussianMixture(kQueries, kDim, kClusters, kSigma, true, 12),
          nullptr,
          {}};
  w.exact = NewFlatIndex(kDim, metric);
  w.exact->Add(w.base.n, w.base.labels.data(), w.base.vectors.data());
  for (size_t i = 0; i < w.base.n; ++i) w.row_of[w.base.labels[i]] = i;
  return w;
}

std::unique_ptr<VectorIndex> Build(const World& w, const char* factory) {
  IndexSpec spec;
  REQUIRE(IndexSpec::Parse(factory, &spec).ok());
  std::unique_ptr<VectorIndex> index;
  auto s = TrainIvfIndex(spec, kDim, w.metric, w.base.n, w.base.n, w.base.vectors.data(), &index);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  index->Add(w.base.n, w.base.labels.data(), w.base.vectors.data());
  REQUIRE(index->size() == w.base.n);
  return index;
}

VectorFetcher FetcherFor(const World& w) {
  return [&w](size_t n, const int64_t* labels, float* out) {
    for (size_t i = 0; i < n; ++i) {
      auto it = w.row_of.find(labels[i]);
      if (it == w.row_of.end()) return false;
      std::copy_n(&w.base.vectors[it->second * kDim], kDim, out + i * kDim);
    }
    return true;
  };
}

double Recall(const World& w, const VectorIndex& index, const SearchParams& params,
              std::vector<float>* dist_out = nullptr, std::vector<int64_t>* labels_out = nullptr) {
  std::vector<float> td(kQueries * kK), d(kQueries * kK);
  std::vector<int64_t> tl(kQueries * kK), l(kQueries * kK);
  w.exact->Search(kQueries, w.queries.vectors.data(), kK, SearchParams{}, td.data(), tl.data());
  index.Search(kQueries, w.queries.vectors.data(), kK, params, d.data(), l.data());
  if (dist_out) *dist_out = d;
  if (labels_out) *labels_out = l;
  return RecallAtK(kQueries, kK, tl.data(), l.data());
}

}  // namespace

TEST_CASE("IVF training picks nlist from the size and reports stats") {
  const World w = MakeWorld(Metric::kInnerProduct);
  auto index = Build(w, "IVF,Flat");
  const IndexStats stats = index->Stats();
  // 4 * sqrt(20000) = 566, capped at 20000 / 39 = 512 points-per-centroid limit.
  CHECK(stats.nlist == 512);
  CHECK(stats.kind == "IVF512,Flat");
  CHECK(stats.size == kBase);
  CHECK(stats.imbalance >= 1.0);
  CHECK(stats.imbalance < 3.0);
  CHECK(stats.memory_bytes >= kBase * kDim * sizeof(float));
  CHECK(index->default_nprobe() == 23);  // round(sqrt(512))
  index->set_default_nprobe(100000);
  CHECK(index->default_nprobe() == 512);
}

TEST_CASE("IVF training rejects bad input with InvalidArgument") {
  const World w = MakeWorld(Metric::kL2);
  std::unique_ptr<VectorIndex> index;
  IndexSpec spec;
  REQUIRE(IndexSpec::Parse("IVF,PQ7", &spec).ok());
  auto s = TrainIvfIndex(spec, kDim, Metric::kL2, kBase, 1000, w.base.vectors.data(), &index);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("divide") != std::string::npos);
  REQUIRE(IndexSpec::Parse("IVF4096,Flat", &spec).ok());
  CHECK(TrainIvfIndex(spec, kDim, Metric::kL2, kBase, 1000, w.base.vectors.data(), &index)
            .IsInvalidArgument());
  REQUIRE(IndexSpec::Parse("Flat", &spec).ok());
  CHECK(TrainIvfIndex(spec, kDim, Metric::kL2, kBase, 1000, w.base.vectors.data(), &index)
            .IsInvalidArgument());
  REQUIRE(IndexSpec::Parse("IVF,Flat", &spec).ok());
  std::vector<float> nan_sample(w.base.vectors.begin(), w.base.vectors.begin() + 1000 * kDim);
  nan_sample[77] = std::nanf("");
  CHECK(TrainIvfIndex(spec, kDim, Metric::kL2, kBase, 1000, nan_sample.data(), &index)
            .IsInvalidArgument());
  CHECK(index == nullptr);
}

TEST_CASE("IVF-Flat recall@10 vs exact for inner product and L2") {
  for (Metric m : {Metric::kInnerProduct, Metric::kL2}) {
    const World w = MakeWorld(m);
    auto index = Build(w, "IVF,Flat");
    SearchParams params;
    params.nprobe = 1;
    const double r1 = Recall(w, *index, params);
    params.nprobe = 32;
    std::vector<float> d;
    std::vector<int64_t> l;
    const double r32 = Recall(w, *index, params, &d, &l);
    params.nprobe = 512;
    const double rall = Recall(w, *index, params);
    MESSAGE("metric " << (m == Metric::kL2 ? "L2" : "IP") << ": recall@10 nprobe 1 = " << r1
                      << ", 32 = " << r32 << ", 512 = " << rall);
    CHECK(r1 < r32);
    CHECK(r32 >= 0.95);
    CHECK(rall == 1.0);  // probing every list is exhaustive
    // IVF-Flat distances are exact; rows are sorted.
    for (size_t q = 0; q < kQueries; ++q) {
      for (size_t j = 1; j < kK; ++j) CHECK(d[q * kK + j - 1] <= d[q * kK + j]);
    }
  }
}

TEST_CASE("IVF-SQ8 and IVF-PQ recall with and without exact re-ranking") {
  const World w = MakeWorld(Metric::kInnerProduct);
  const VectorFetcher fetch = FetcherFor(w);
  for (const char* factory : {"IVF,SQ8", "IVF,PQ16"}) {
    auto index = Build(w, factory);
    SearchParams params;
    params.nprobe = 32;
    const double approx = Recall(w, *index, params);
    params.refine = &fetch;
    std::vector<float> d;
    std::vector<int64_t> l;
    const double refined = Recall(w, *index, params, &d, &l);
    MESSAGE(std::string(factory) << ": recall@10 nprobe 32 approximate = " << approx
                                 << ", re-ranked x4 = " << refined);
    CHECK(refined >= 0.9);
    CHECK(refined >= approx);
    // Re-ranked distances are the exact ones (-inner product).
    for (size_t i = 0; i < 50; ++i) {
      if (l[i] < 0) continue;
      const float* v = &w.base.vectors[w.row_of.at(l[i]) * kDim];
      const float* q = &w.queries.vectors[(i / kK) * kDim];
      double ip = 0;
      for (uint32_t j = 0; j < kDim; ++j) ip += double{q[j]} * v[j];
      CHECK(d[i] == doctest::Approx(-ip).epsilon(1e-4));
    }
  }
}

TEST_CASE("IVF removal never returns deleted labels and Add replaces") {
  const World w = MakeWorld(Metric::kInnerProduct);
  for (const char* factory : {"IVF,Flat", "IVF,SQ8"}) {
    auto index = Build(w, factory);
    std::unordered_set<int64_t> removed;
    std::vector<int64_t> batch;
    for (size_t i = 0; i < kBase; i += 3) batch.push_back(w.base.labels[i]);
    batch.push_back(123456789);  // absent: ignored
    index->Remove(batch.size(), batch.data());
    removed.insert(batch.begin(), batch.end() - 1);
    CHECK(index->size() == kBase - removed.size());
    CHECK_FALSE(index->Contains(w.base.labels[0]));
    CHECK(index->Contains(w.base.labels[1]));
    SearchParams params;
    params.nprobe = 64;
    std::vector<float> d(kQueries * kK);
    std::vector<int64_t> l(kQueries * kK);
    // Query with the removed vectors themselves: the likeliest to come back.
    index->Search(kQueries, w.base.vectors.data(), kK, params, d.data(), l.data());
    for (int64_t label : l) CHECK(removed.count(label) == 0);

    // Replace label of row 1 with the vector of row 0 (which was removed).
    const int64_t label = w.base.labels[1];
    index->Add(1, &label, w.base.vectors.data());
    CHECK(index->size() == kBase - removed.size());
    index->Search(1, w.base.vectors.data(), kK, params, d.data(), l.data());
    CHECK(l[0] == label);
    // ... and its old vector no longer finds it first.
    index->Search(1, &w.base.vectors[kDim], kK, params, d.data(), l.data());
    CHECK(l[0] != label);
  }
}

TEST_CASE("IVF filtered search returns k whenever k labels pass at every selectivity") {
  const World w = MakeWorld(Metric::kInnerProduct);
  auto index = Build(w, "IVF,Flat");
  SearchParams unfiltered;
  unfiltered.nprobe = 2;
  const double base_recall = Recall(w, *index, unfiltered);
  for (size_t keep_one_in : {2, 10, 100, 1000, 10000}) {
    std::vector<int64_t> allowed_labels;
    std::vector<bool> allowed(kBase);
    for (size_t i = 0; i < kBase; ++i) {
      allowed[i] = (i * 7919) % keep_one_in == 0;
      if (allowed[i]) allowed_labels.push_back(w.base.labels[i]);
    }
    SetFilter filter(allowed_labels.begin(), allowed_labels.end());
    SearchParams params = unfiltered;
    params.filter = &filter;
    std::vector<float> d(kQueries * kK), td;
    std::vector<int64_t> l(kQueries * kK), tl;
    index->Search(kQueries, w.queries.vectors.data(), kK, params, d.data(), l.data());
    size_t found = 0, wanted = 0;
    const size_t expect = std::min(kK, allowed_labels.size());
    for (size_t q = 0; q < kQueries; ++q) {
      size_t valid = 0;
      for (size_t j = 0; j < kK; ++j) {
        const int64_t label = l[q * kK + j];
        if (label < 0) continue;
        ++valid;
        CHECK(filter.Contains(label));
      }
      CHECK(valid == expect);
      BruteForce(w.base, Metric::kInnerProduct, &w.queries.vectors[q * kDim], kK, &allowed, &td,
                 &tl);
      for (int64_t t : tl) {
        if (t < 0) continue;
        ++wanted;
        found += std::count(l.begin() + q * kK, l.begin() + (q + 1) * kK, t);
      }
    }
    const double recall = static_cast<double>(found) / static_cast<double>(wanted);
    MESSAGE("selectivity 1/" << keep_one_in << " (" << allowed_labels.size()
                             << " labels): filtered recall@10 = " << recall << " (unfiltered "
                             << base_recall << ")");
    CHECK(recall >= base_recall - 0.02);
  }
}

TEST_CASE("IVF ties are ordered by label and duplicate labels within a batch keep the last") {
  const World w = MakeWorld(Metric::kL2);
  auto index = Build(w, "IVF64,Flat");
  // 30 copies of one vector under descending labels.
  std::vector<int64_t> labels;
  std::vector<float> vecs;
  for (int i = 0; i < 30; ++i) {
    labels.push_back(900000 - i);
    vecs.insert(vecs.end(), w.base.vectors.begin(), w.base.vectors.begin() + kDim);
  }
  index->Add(labels.size(), labels.data(), vecs.data());
  float d[kK];
  int64_t l[kK];
  SearchParams params;
  params.nprobe = 4;
  index->Search(1, w.base.vectors.data(), kK, params, d, l);
  // The original row-0 vector (label 7) ties with the copies; all have distance 0.
  std::vector<int64_t> expect = {7};
  for (int i = 29; expect.size() < kK; --i) expect.push_back(900000 - i);
  CHECK(std::vector<int64_t>(l, l + kK) == expect);

  const int64_t twice[2] = {777777777, 777777777};
  std::vector<float> two(&w.base.vectors[5 * kDim], &w.base.vectors[7 * kDim]);
  const uint64_t before = index->size();
  index->Add(2, twice, two.data());
  CHECK(index->size() == before + 1);
  index->Search(1, &w.base.vectors[6 * kDim], 1, params, d, l);
  CHECK(l[0] == w.base.labels[6]);  // tie with label 7+3*6=25 < 777777777
  CHECK(d[0] == 0.0f);
}

TEST_CASE("IVF single-query and batched searches agree for every kind") {
  // Single queries take ann/'s SIMD coarse quantizer; batches take FAISS's BLAS one. Both must
  // probe the same lists (up to float rounding of near-equal centroid distances).
  // (PQ shares SQ8's path: our coarse assignment, then FAISS's search_preassigned.)
  const World w = MakeWorld(Metric::kInnerProduct);
  for (const char* factory : {"IVF,Flat", "IVF,SQ8"}) {
    auto index = Build(w, factory);
    SearchParams params;
    params.nprobe = 8;
    std::vector<float> bd(kQueries * kK), sd(kQueries * kK);
    std::vector<int64_t> bl(kQueries * kK), sl(kQueries * kK);
    index->Search(kQueries, w.queries.vectors.data(), kK, params, bd.data(), bl.data());
    for (size_t q = 0; q < kQueries; ++q) {
      index->Search(1, &w.queries.vectors[q * kDim], kK, params, &sd[q * kK], &sl[q * kK]);
    }
    size_t same = 0;
    for (size_t i = 0; i < bl.size(); ++i) same += bl[i] == sl[i];
    CAPTURE(std::string(factory));
    CHECK(static_cast<double>(same) / bl.size() >= 0.99);
  }
}
