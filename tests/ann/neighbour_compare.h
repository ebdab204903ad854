// Helpers for tests that compare two searches which round differently (kernel levels, sgemm,
// FAISS's own scanners), and for running code at a forced kernel level.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ann/kernel_dispatch.h"

namespace emberdb::ann::testing {

// a and b hold the same queries' top-k (rows of k): distances agree within `tol` (relative,
// plus tol absolute) position by position, and a label only one of them found sits at the
// boundary, i.e. is a near-tie with the other's k-th. Returns the fraction of identical labels.
inline double ExpectSameNeighbours(size_t nq, size_t k, const std::vector<float>& da,
                                   const std::vector<int64_t>& la, const std::vector<float>& db,
                                   const std::vector<int64_t>& lb, double tol) {
  size_t same = 0;
  for (size_t q = 0; q < nq; ++q) {
    const float kth = db[q * k + k - 1];
    for (size_t j = 0; j < k; ++j) {
      const size_t at = q * k + j;
      same += la[at] == lb[at] ? 1 : 0;
      CHECK((la[at] < 0) == (lb[at] < 0));
      if (la[at] < 0 || lb[at] < 0) continue;
      CHECK(std::abs(da[at] - db[at]) <= tol * (1 + std::abs(db[at])));
      if (la[at] == lb[at]) continue;
      bool in_b = false;
      for (size_t m = 0; m < k; ++m) in_b = in_b || lb[q * k + m] == la[at];
      if (!in_b) CHECK(da[at] >= kth - tol * (1 + std::abs(kth)));
    }
  }
  return static_cast<double>(same) / static_cast<double>(nq * k);
}

// Forces a kernel level for a scope, then restores the one that was active.
class ScopedLevel {
 public:
  explicit ScopedLevel(KernelLevel level) : previous_(ActiveKernelLevel()) {
    REQUIRE(ForceKernelLevel(level));
  }
  ~ScopedLevel() { ForceKernelLevel(previous_); }
  ScopedLevel(const ScopedLevel&) = delete;
  ScopedLevel& operator=(const ScopedLevel&) = delete;

 private:
  KernelLevel previous_;
};

}  // namespace emberdb::ann::testing
