// CentroidSketch must choose exactly the centroids a full float scan chooses, with the same
// distances, at every kernel level, for both metrics, including ties, constant dimensions and
// large magnitudes; and on clustered data it must re-score only a small share of them.
#include "ann/centroid_sketch.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ann/kernel_dispatch.h"
#include "ann/scan_kernels.h"
#include "neighbour_compare.h"
#include "synthetic_data.h"

namespace emberdb::ann {
namespace {

using testing::GaussianMixture;
using testing::ScopedLevel;

struct Result {
  std::vector<float> distances;
  std::vector<int64_t> labels;
};

Result FullScan(Metric metric, const float* query, const float* centroids, size_t n, size_t dim,
                size_t k) {
  TopK top(k);
  ScanInto(metric, query, centroids, nullptr, 0, n, dim, nullptr, &top);
  Result r{std::vector<float>(k), std::vector<int64_t>(k)};
  top.Extract(r.distances.data(), r.labels.data());
  return r;
}

Result Sketched(const CentroidSketch& sketch, const float* query, const float* centroids, size_t k,
                size_t* rescored) {
  TopK top(k);
  *rescored = sketch.Nearest(query, centroids, &top, k);
  Result r{std::vector<float>(k), std::vector<int64_t>(k)};
  top.Extract(r.distances.data(), r.labels.data());
  return r;
}

// Every query's choice equals the full scan's; returns the mean share of centroids re-scored.
double ExpectSameChoice(Metric metric, const std::vector<float>& centroids, size_t n, size_t dim,
                        const std::vector<float>& queries, size_t k) {
  const CentroidSketch sketch(metric, dim, n, centroids.data());
  const size_t nq = queries.size() / dim;
  double share = 0;
  for (size_t q = 0; q < nq; ++q) {
    const float* query = queries.data() + q * dim;
    size_t rescored = 0;
    const Result want = FullScan(metric, query, centroids.data(), n, dim, k);
    const Result got = Sketched(sketch, query, centroids.data(), k, &rescored);
    INFO("query " << q << ", k " << k);
    CHECK(got.labels == want.labels);
    CHECK(got.distances == want.distances);
    CHECK(rescored >= std::min(k, n));
    share += static_cast<double>(rescored) / static_cast<double>(n);
  }
  return share / static_cast<double>(nq);
}

TEST_CASE("CentroidSketch chooses the full scan's centroids on clustered data") {
  const uint32_t dim = 768;
  const size_t n = 900;
  const auto centroids = GaussianMixture(n, dim, 40, 0.6f, true, 1).vectors;
  const auto queries = GaussianMixture(30, dim, 40, 0.6f, true, 2).vectors;
  for (KernelLevel level : SupportedKernelLevels()) {
    ScopedLevel scoped(level);
    for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
      for (size_t k : {size_t{1}, size_t{8}, size_t{16}, size_t{64}, n + 5}) {
        CAPTURE(KernelLevelName(level));
        CAPTURE(static_cast<int>(metric));
        const double share = ExpectSameChoice(metric, centroids, n, dim, queries, k);
        // The point of the sketch: few centroids need their float rows read again.
        if (k <= 16) CHECK(share < 0.1);
      }
    }
  }
}

TEST_CASE("CentroidSketch stays exact on ties, constant dimensions and large values") {
  const size_t dim = 37;
  const size_t n = 120;
  std::mt19937_64 rng(7);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<float> centroids(n * dim);
  for (size_t j = 0; j < n; ++j) {
    for (size_t i = 0; i < dim; ++i) {
      float x = 1000.0f * gauss(rng) + 5000.0f;
      if (i % 5 == 0) x = 3.0f;           // a dimension with no range
      if (j % 10 == 3) x = centroids[i];  // copies of centroid 0: exact ties
      centroids[j * dim + i] = x;
    }
  }
  std::vector<float> queries(10 * dim);
  for (float& x : queries) x = 1000.0f * gauss(rng) + 5000.0f;
  std::copy(centroids.begin(), centroids.begin() + dim, queries.begin());  // sits on a tie
  for (KernelLevel level : SupportedKernelLevels()) {
    ScopedLevel scoped(level);
    for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
      for (size_t k : {size_t{1}, size_t{5}, size_t{13}}) {
        CAPTURE(KernelLevelName(level));
        ExpectSameChoice(metric, centroids, n, dim, queries, k);
      }
    }
  }
}

TEST_CASE("CentroidSketch of a single centroid") {
  const std::vector<float> centroid = {0.5f, -1.0f, 2.0f};
  const CentroidSketch sketch(Metric::kL2, 3, 1, centroid.data());
  const std::vector<float> query = {0.0f, 0.0f, 0.0f};
  size_t rescored = 0;
  const Result got = Sketched(sketch, query.data(), centroid.data(), 3, &rescored);
  CHECK(rescored == 1);
  CHECK(got.labels == std::vector<int64_t>{0, -1, -1});
  CHECK(got.distances[0] == doctest::Approx(5.25));
}

}  // namespace
}  // namespace emberdb::ann
