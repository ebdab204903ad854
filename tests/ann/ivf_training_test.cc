// TrainIvfIndex's automatic nlist: 4 * sqrt(N), capped so that the fill (N x nlist distances)
// keeps large collections trainable in well under a minute (ann/README.md, "Training").
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "ann/vector_index.h"
#include "synthetic_data.h"

using namespace emberdb::ann;
using namespace emberdb::ann::testing;

namespace {

// Trains "IVF,Flat" for a collection of `expected` vectors from an n-vector sample (dim 8, so
// that thousands of lists train in well under a second) and returns the nlist it chose.
uint32_t AutoNlistFor(uint64_t expected, size_t n) {
  const Dataset sample = GaussianMixture(n, 8, 50, 1.0f, true, 5);
  IndexSpec spec;
  REQUIRE(IndexSpec::Parse("IVF,Flat", &spec).ok());
  std::unique_ptr<VectorIndex> index;
  TrainOptions options;
  options.kmeans_iterations = 1;  // nlist is chosen before k-means; one step keeps this fast
  const auto s = TrainIvfIndex(spec, 8, Metric::kInnerProduct, expected, sample.n,
                               sample.vectors.data(), options, &index);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return index->Stats().nlist;
}

}  // namespace

TEST_CASE("automatic nlist is 4 sqrt(N) up to the fill-cost cap") {
  // 4 * sqrt(40,000) = 800: below the cap, and the sample has 50 points per list.
  CHECK(AutoNlistFor(40000, 40000) == 800);
  // The sample may be smaller than the collection: nlist follows the collection.
  CHECK(AutoNlistFor(50000, 40000) == 894);
}

TEST_CASE("automatic nlist stops growing at the cap for large collections") {
  // 4 * sqrt(1,000,000) = 4000 and 4 * sqrt(4,000,000) = 8000 both become the cap: the fill
  // of N vectors costs N x nlist distances, so 4 sqrt(N) would make it grow as N^1.5.
  CHECK(AutoNlistFor(100000, 60000) == 1024);  // 4 * sqrt(100,000) = 1265
  CHECK(AutoNlistFor(1000000, 100000) == 1024);
  CHECK(AutoNlistFor(4000000, 100000) == 1024);
  // Still limited by the sample: 39 points per list.
  CHECK(AutoNlistFor(1000000, 39 * 500) == 500);
}
