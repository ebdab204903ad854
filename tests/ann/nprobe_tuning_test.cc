// ExactNeighbors, RecallAtK and ChooseNprobe.
#include <doctest/doctest.h>

#include <vector>

#include "ann/vector_index.h"
#include "synthetic_data.h"

using namespace emberdb::ann;
using namespace emberdb::ann::testing;

namespace {
constexpr uint32_t kDim = 48;
}

TEST_CASE("ExactNeighbors fed in chunks equals one flat search over everything") {
  const Dataset base = GaussianMixture(6000, kDim, 30, 1.0f, true, 31);
  const Dataset queries = GaussianMixture(40, kDim, 30, 1.0f, true, 32);
  const size_t k = 10;
  ExactNeighbors exact(kDim, Metric::kInnerProduct, queries.n, queries.vectors.data(), k);
  for (size_t start = 0; start < base.n; start += 1700) {
    const size_t n = std::min<size_t>(1700, base.n - start);
    exact.Add(n, &base.labels[start], &base.vectors[start * kDim]);
  }
  auto flat = NewFlatIndex(kDim, Metric::kInnerProduct);
  flat->Add(base.n, base.labels.data(), base.vectors.data());
  std::vector<float> d(queries.n * k);
  std::vector<int64_t> l(queries.n * k);
  flat->Search(queries.n, queries.vectors.data(), k, SearchParams{}, d.data(), l.data());
  CHECK(std::vector<int64_t>(exact.labels(), exact.labels() + l.size()) == l);
  CHECK(RecallAtK(queries.n, k, l.data(), exact.labels()) == 1.0);
}

TEST_CASE("RecallAtK counts true neighbours found ignoring order and padding") {
  const int64_t truth[6] = {1, 2, 3, 4, -1, -1};
  const int64_t found[6] = {3, 9, 1, 5, 6, 7};
  CHECK(RecallAtK(2, 3, truth, found) == doctest::Approx(2.0 / 4.0));
  CHECK(RecallAtK(1, 3, truth + 3, truth + 3) == 1.0);
}

TEST_CASE("ChooseNprobe returns the smallest nprobe reaching the target") {
  const Dataset base = GaussianMixture(15000, kDim, 80, 1.0f, true, 33);
  IndexSpec spec;
  REQUIRE(IndexSpec::Parse("IVF,Flat", &spec).ok());
  std::unique_ptr<VectorIndex> ivf;
  REQUIRE(
      TrainIvfIndex(spec, kDim, Metric::kInnerProduct, base.n, base.n, base.vectors.data(), &ivf)
          .ok());
  ivf->Add(base.n, base.labels.data(), base.vectors.data());
  // Sample queries drawn from the collection itself, as db/ does.
  const size_t nq = 200, k = 10;
  std::vector<float> queries;
  for (size_t i = 0; i < nq; ++i) {
    const float* v = &base.vectors[(i * 71) * kDim];
    queries.insert(queries.end(), v, v + kDim);
  }
  ExactNeighbors exact(kDim, Metric::kInnerProduct, nq, queries.data(), k);
  exact.Add(base.n, base.labels.data(), base.vectors.data());

  for (double target : {0.8, 0.95, 0.99}) {
    NprobeChoice choice;
    REQUIRE(
        ChooseNprobe(*ivf, nq, queries.data(), exact.labels(), k, target, SearchParams{}, &choice)
            .ok());
    MESSAGE("target " << target << ": nprobe " << choice.nprobe << " recall " << choice.recall
                      << " after " << choice.searches << " searches");
    CHECK(choice.reached);
    CHECK(choice.recall >= target);
    // Verify independently: the choice reaches the target and one less does not.
    std::vector<float> d(nq * k);
    std::vector<int64_t> l(nq * k);
    SearchParams params;
    params.nprobe = choice.nprobe;
    ivf->Search(nq, queries.data(), k, params, d.data(), l.data());
    CHECK(RecallAtK(nq, k, exact.labels(), l.data()) >= target);
    if (choice.nprobe > 1) {
      params.nprobe = choice.nprobe - 1;
      ivf->Search(nq, queries.data(), k, params, d.data(), l.data());
      CHECK(RecallAtK(nq, k, exact.labels(), l.data()) < target);
    }
  }
  NprobeChoice choice;
  CHECK(ChooseNprobe(*ivf, nq, queries.data(), exact.labels(), k, 1.5, SearchParams{}, &choice)
            .IsInvalidArgument());
  CHECK(ChooseNprobe(*ivf, 0, queries.data(), exact.labels(), k, 0.9, SearchParams{}, &choice)
            .IsInvalidArgument());
  auto flat = NewFlatIndex(kDim, Metric::kInnerProduct);
  REQUIRE(ChooseNprobe(*flat, nq, queries.data(), exact.labels(), k, 0.9, SearchParams{}, &choice)
              .ok());
  CHECK(choice.nprobe == 0);
  CHECK(choice.recall == 1.0);
}
