// Test data for ann/ tests: a seeded Gaussian mixture, optionally L2-normalised, plus a
// brute-force reference search that shares no code with ann/.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

#include "ann/vector_index.h"

namespace emberdb::ann::testing {

struct Dataset {
  uint32_t dim = 0;
  size_t n = 0;
  std::vector<float> vectors;   // n * dim
  std::vector<int64_t> labels;  // n labels, not contiguous (label = 3 * i + 7)
};

inline void Normalise(float* v, uint32_t dim) {
  double norm = 0;
  for (uint32_t j = 0; j < dim; ++j) norm += double{v[j]} * v[j];
  norm = std::sqrt(norm);
  if (norm > 0) {
    for (uint32_t j = 0; j < dim; ++j) v[j] = static_cast<float>(v[j] / norm);
  }
}

// n points around `clusters` centres (spread 1) with noise `sigma`, from `seed`. The centres
// depend only on `centre_seed`, so base and query sets can share them.
inline Dataset GaussianMixture(size_t n, uint32_t dim, size_t clusters, float sigma, bool normalise,
                               uint64_t seed, uint64_t centre_seed = 42) {
  std::mt19937_64 centre_rng(centre_seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<float> centres(clusters * dim);
  for (float& c : centres) c = gauss(centre_rng);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, clusters - 1);
  Dataset d;
  d.dim = dim;
  d.n = n;
  d.vectors.resize(n * dim);
  d.labels.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t c = pick(rng);
    for (uint32_t j = 0; j < dim; ++j) {
      d.vectors[i * dim + j] = centres[c * dim + j] + sigma * gauss(rng);
    }
    if (normalise) Normalise(&d.vectors[i * dim], dim);
    d.labels[i] = static_cast<int64_t>(3 * i + 7);
  }
  return d;
}

// Exact k-NN by brute force in double precision; ordered by (distance, label).
inline void BruteForce(const Dataset& base, Metric metric, const float* query, size_t k,
                       const std::vector<bool>* allowed, std::vector<float>* dist,
                       std::vector<int64_t>* labels) {
  std::vector<std::pair<double, int64_t>> all;
  for (size_t i = 0; i < base.n; ++i) {
    if (allowed != nullptr && !(*allowed)[i]) continue;
    double acc = 0;
    for (uint32_t j = 0; j < base.dim; ++j) {
      const double a = query[j], b = base.vectors[i * base.dim + j];
      acc += metric == Metric::kL2 ? (a - b) * (a - b) : a * b;
    }
    all.emplace_back(metric == Metric::kL2 ? acc : -acc, base.labels[i]);
  }
  const size_t m = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + m, all.end());
  dist->assign(k, std::numeric_limits<float>::infinity());
  labels->assign(k, -1);
  for (size_t j = 0; j < m; ++j) {
    (*dist)[j] = static_cast<float>(all[j].first);
    (*labels)[j] = all[j].second;
  }
}

// A filter over a set of labels.
class SetFilter final : public LabelFilter {
 public:
  template <typename It>
  SetFilter(It first, It last) : allowed_(first, last) {
    std::sort(allowed_.begin(), allowed_.end());
  }
  bool Contains(int64_t label) const override {
    return std::binary_search(allowed_.begin(), allowed_.end(), label);
  }

 private:
  std::vector<int64_t> allowed_;
};

}  // namespace emberdb::ann::testing
