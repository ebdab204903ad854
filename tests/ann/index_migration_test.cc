// MigratingIndex: vectors move from a serving index into a newly trained one while adds,
// replacements and removes keep arriving; at every step the pair answers like one index over
// exactly the live vectors, and at the end the new index holds each of them once.
#include "ann/index_migration.h"

#include <doctest/doctest.h>

#include <map>
#include <random>
#include <set>

#include "synthetic_data.h"

using namespace emberdb;
using namespace emberdb::ann;
using namespace emberdb::ann::testing;

namespace {

constexpr uint32_t kDim = 16;

std::unique_ptr<VectorIndex> TrainedIvf(const Dataset& sample, uint32_t nlist) {
  IndexSpec spec;
  spec.kind = IndexSpec::Kind::kIvfFlat;
  spec.nlist = nlist;
  std::unique_ptr<VectorIndex> ivf;
  Status s =
      TrainIvfIndex(spec, kDim, Metric::kL2, sample.n, sample.n, sample.vectors.data(), &ivf);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return ivf;
}

// The live vectors by label, kept by the test independently of any index.
using Live = std::map<int64_t, std::vector<float>>;

Live LiveOf(const Dataset& d) {
  Live live;
  for (size_t i = 0; i < d.n; ++i) {
    live[d.labels[i]].assign(&d.vectors[i * kDim], &d.vectors[(i + 1) * kDim]);
  }
  return live;
}

// Exhaustive search (every list probed) must return exactly the brute-force top k over `live`.
void CheckAnswersLike(const VectorIndex& index, const Live& live, const Dataset& queries) {
  REQUIRE(index.size() == live.size());
  Dataset base;
  base.dim = kDim;
  for (const auto& [label, v] : live) {
    base.labels.push_back(label);
    base.vectors.insert(base.vectors.end(), v.begin(), v.end());
  }
  base.n = live.size();
  const size_t k = 10;
  SearchParams params;
  params.nprobe = 1 << 20;  // clamped to nlist: exact
  std::vector<float> d(queries.n * k);
  std::vector<int64_t> l(queries.n * k);
  index.Search(queries.n, queries.vectors.data(), k, params, d.data(), l.data());
  for (size_t q = 0; q < queries.n; ++q) {
    std::vector<float> td;
    std::vector<int64_t> tl;
    BruteForce(base, Metric::kL2, &queries.vectors[q * kDim], k, nullptr, &td, &tl);
    for (size_t j = 0; j < k; ++j) {
      CHECK(l[q * k + j] == tl[j]);
      CHECK(d[q * k + j] == doctest::Approx(td[j]).epsilon(1e-4));
    }
  }
}

void AddTo(VectorIndex* index, Live* live, int64_t label, const float* v) {
  index->Add(1, &label, v);
  (*live)[label] = std::vector<float>(v, v + kDim);
}

void RunMigration(std::unique_ptr<VectorIndex> from, Live live, const Dataset& fresh,
                  const Dataset& queries, std::unique_ptr<VectorIndex> to) {
  MigratingIndex m(std::move(from), std::move(to));
  CheckAnswersLike(m, live, queries);
  std::mt19937 rng(5);
  size_t next_fresh = 0;
  int rounds = 0;
  for (;; ++rounds) {
    std::vector<int64_t> labels, lists;
    std::vector<float> vectors;
    const size_t n = m.CopyPending(300, &labels, &vectors);
    if (n == 0) break;
    REQUIRE(labels.size() == n);
    // Writes between the copy and the move: a new label, a replaced copied label, a removed
    // copied label, a removed label not yet copied.
    AddTo(&m, &live, fresh.labels[next_fresh], &fresh.vectors[next_fresh * kDim]);
    ++next_fresh;
    const int64_t replaced = labels[rng() % n];
    AddTo(&m, &live, replaced, &fresh.vectors[next_fresh++ * kDim]);
    int64_t removed = labels[rng() % n];
    m.Remove(1, &removed);
    live.erase(removed);
    removed = std::next(live.begin(), rng() % live.size())->first;
    m.Remove(1, &removed);
    live.erase(removed);

    lists.resize(n);
    m.target().Assign(n, vectors.data(), lists.data());
    m.Move(n, labels.data(), vectors.data(), lists.data());
    if (rounds % 3 == 0) CheckAnswersLike(m, live, queries);
    REQUIRE(rounds < 1000);
  }
  CHECK(rounds > 3);
  CHECK(m.pending() == 0);
  CheckAnswersLike(m, live, queries);
  SearchParams params;
  std::string bytes;
  CHECK(m.Serialize(&bytes).code() == Status::Code::kNotSupported);

  std::unique_ptr<VectorIndex> done = m.TakeTarget();
  CheckAnswersLike(*done, live, queries);
  // Each live vector is stored once, as last written: it is its own nearest neighbour.
  std::vector<float> d(1);
  std::vector<int64_t> l(1);
  params.nprobe = 1 << 20;
  for (const auto& [label, v] : live) {
    done->Search(1, v.data(), 1, params, d.data(), l.data());
    CHECK(d[0] == doctest::Approx(0).epsilon(1e-5));
  }
}

}  // namespace

TEST_CASE("migration from an exact index: answers stay exact while writes go on") {
  Dataset base = GaussianMixture(2000, kDim, 12, 0.3f, false, 1);
  Dataset fresh = GaussianMixture(200, kDim, 12, 0.3f, false, 2);
  for (size_t i = 0; i < fresh.n; ++i) fresh.labels[i] = 100000 + int64_t(i);
  Dataset queries = GaussianMixture(20, kDim, 12, 0.3f, false, 3);
  auto flat = NewFlatIndex(kDim, Metric::kL2);
  flat->Add(base.n, base.labels.data(), base.vectors.data());
  RunMigration(std::move(flat), LiveOf(base), fresh, queries, TrainedIvf(base, 32));
}

TEST_CASE("migration from IVF-Flat into a retrained IVF-Flat empties the old lists") {
  Dataset base = GaussianMixture(2000, kDim, 12, 0.3f, false, 4);
  Dataset fresh = GaussianMixture(200, kDim, 12, 0.3f, false, 5);
  for (size_t i = 0; i < fresh.n; ++i) fresh.labels[i] = 100000 + int64_t(i);
  Dataset queries = GaussianMixture(20, kDim, 12, 0.3f, false, 6);
  auto old_ivf = TrainedIvf(base, 8);
  REQUIRE(old_ivf->holds_exact_vectors());
  old_ivf->Add(base.n, base.labels.data(), base.vectors.data());
  // What the old index exports is exactly what was added.
  std::vector<int64_t> labels;
  std::vector<float> vectors;
  REQUIRE(old_ivf->CopyVectors(base.n + 10, &labels, &vectors) == base.n);
  std::map<int64_t, size_t> row;
  for (size_t i = 0; i < base.n; ++i) row[base.labels[i]] = i;
  for (size_t i = 0; i < labels.size(); ++i) {
    REQUIRE(row.count(labels[i]) == 1);
    const float* v = &base.vectors[row[labels[i]] * kDim];
    CHECK(std::equal(v, v + kDim, &vectors[i * kDim]));
  }
  RunMigration(std::move(old_ivf), LiveOf(base), fresh, queries, TrainedIvf(base, 48));
}

TEST_CASE("compressed indexes cannot export vectors, and AddAssigned equals Add") {
  Dataset base = GaussianMixture(1000, kDim, 8, 0.3f, false, 7);
  IndexSpec spec;
  spec.kind = IndexSpec::Kind::kIvfSq8;
  spec.nlist = 16;
  std::unique_ptr<VectorIndex> sq8;
  REQUIRE(TrainIvfIndex(spec, kDim, Metric::kL2, base.n, base.n, base.vectors.data(), &sq8).ok());
  CHECK_FALSE(sq8->holds_exact_vectors());
  std::vector<int64_t> labels;
  std::vector<float> vectors;
  CHECK(sq8->CopyVectors(10, &labels, &vectors) == 0);

  auto a = TrainedIvf(base, 16);
  auto b = TrainedIvf(base, 16);
  a->Add(base.n, base.labels.data(), base.vectors.data());
  std::vector<int64_t> lists(base.n);
  b->Assign(base.n, base.vectors.data(), lists.data());
  for (int64_t l : lists) CHECK((l >= 0 && l < 16));
  b->AddAssigned(base.n, base.labels.data(), base.vectors.data(), lists.data());
  std::string sa, sb;
  REQUIRE(a->Serialize(&sa).ok());
  REQUIRE(b->Serialize(&sb).ok());
  CHECK(sa == sb);  // same lists, same order, same codes
}

// A training sample read from memory: n distinct stored vectors (all of them when n >= size),
// from Flat and IVF-Flat alike; compressed kinds have none to give.
TEST_CASE("SampleVectors gives distinct stored vectors from Flat and IVF-Flat") {
  Dataset base = GaussianMixture(1000, kDim, 8, 0.3f, false, 8);
  std::set<std::vector<float>> stored;
  for (size_t i = 0; i < base.n; ++i) {
    stored.emplace(&base.vectors[i * kDim], &base.vectors[(i + 1) * kDim]);
  }
  REQUIRE(stored.size() == base.n);
  auto flat = NewFlatIndex(kDim, Metric::kL2);
  auto ivf = TrainedIvf(base, 16);
  for (VectorIndex* index : {flat.get(), ivf.get()}) {
    index->Add(base.n, base.labels.data(), base.vectors.data());
    for (size_t n : {size_t{1}, size_t{7}, size_t{333}, base.n, base.n + 5}) {
      std::vector<float> sample = {42.0f};  // appended to, not replaced
      const size_t got = index->SampleVectors(n, &sample);
      CAPTURE(n);
      REQUIRE(got == std::min(n, base.n));
      REQUIRE(sample.size() == 1 + got * kDim);
      std::set<std::vector<float>> seen;
      for (size_t i = 0; i < got; ++i) {
        std::vector<float> row(&sample[1 + i * kDim], &sample[1 + (i + 1) * kDim]);
        CHECK(stored.count(row) == 1);
        seen.insert(row);
      }
      CHECK(seen.size() == got);
    }
  }
  IndexSpec spec;
  spec.kind = IndexSpec::Kind::kIvfSq8;
  spec.nlist = 16;
  std::unique_ptr<VectorIndex> sq8;
  REQUIRE(TrainIvfIndex(spec, kDim, Metric::kL2, base.n, base.n, base.vectors.data(), &sq8).ok());
  sq8->Add(base.n, base.labels.data(), base.vectors.data());
  std::vector<float> none;
  CHECK(sq8->SampleVectors(10, &none) == 0);
  CHECK(none.empty());
}
