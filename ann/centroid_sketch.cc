#include "ann/centroid_sketch.h"

#include <algorithm>
#include <cmath>

#include "ann/kernel_dispatch.h"

namespace emberdb::ann {

CentroidSketch::CentroidSketch(Metric metric, size_t dim, size_t n, const float* centroids)
    : metric_(metric),
      dim_(dim),
      n_(n),
      codes_(n * dim),
      offset_(dim),
      step_(dim),
      error_(dim),
      norms_(metric == Metric::kL2 ? n : 0) {
  for (size_t i = 0; i < dim; ++i) {
    float lo = 0, hi = 0;
    for (size_t j = 0; j < n; ++j) {
      const float x = centroids[j * dim + i];
      lo = j == 0 ? x : std::min(lo, x);
      hi = j == 0 ? x : std::max(hi, x);
    }
    const float step = (hi - lo) / 255.0f;
    offset_[i] = lo;
    step_[i] = step;
    double worst = 0;
    for (size_t j = 0; j < n; ++j) {
      const float x = centroids[j * dim + i];
      const long code = step > 0 ? std::clamp(std::lround((x - lo) / step), 0L, 255L) : 0L;
      codes_[j * dim + i] = static_cast<uint8_t>(code);
      // The error is measured, not assumed, so the bound holds whatever the rounding did.
      const double decoded = static_cast<double>(lo) + static_cast<double>(code) * step;
      worst = std::max(worst, std::abs(static_cast<double>(x) - decoded));
    }
    error_[i] = static_cast<float>(worst);
  }
  for (size_t j = 0; j < norms_.size(); ++j) {
    double sum = 0;
    for (size_t i = 0; i < dim; ++i) sum += double{centroids[j * dim + i]} * centroids[j * dim + i];
    norms_[j] = static_cast<float>(sum);
  }
}

size_t CentroidSketch::memory_bytes() const {
  return codes_.size() + (offset_.size() + step_.size() + error_.size() + norms_.size()) * 4;
}

size_t CentroidSketch::Nearest(const float* query, const float* centroids, TopK* top,
                               size_t k) const {
  if (n_ == 0 || k == 0) return 0;
  // Fold the query into the grid: <q, x^_j> = sum_i q_i offset_i + sum_i (q_i step_i) c_ji.
  std::vector<float> w(dim_);
  double folded = 0, bound = 0, magnitude = 0;
  for (size_t i = 0; i < dim_; ++i) {
    const double q = query[i];
    w[i] = static_cast<float>(q * step_[i]);
    folded += q * offset_[i];
    bound += std::abs(q) * error_[i];
    magnitude +=
        std::abs(q) * std::max(std::abs(offset_[i]), std::abs(offset_[i] + 255 * step_[i]));
  }
  std::vector<float> score(n_);
  ActiveKernels().sq8_weighted_sums(w.data(), codes_.data(), n_, dim_, score.data());
  const bool l2 = metric_ == Metric::kL2;
  for (size_t j = 0; j < n_; ++j) {
    const double ip = folded + score[j];
    score[j] = static_cast<float>(l2 ? norms_[j] - 2 * ip : -ip);
  }
  // Float rounding of the sums above and of the exact kernel: a few ulps of the terms' size,
  // covered generously.
  const double per_side = (l2 ? 2.0 : 1.0) * (bound * 1.01 + 1e-4 * magnitude + 1e-6);
  std::vector<float> sorted(score);
  const size_t kth = std::min(k, n_) - 1;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(kth), sorted.end());
  const double threshold = sorted[kth] + 2 * per_side;
  size_t rescored = 0;
  for (size_t j = 0; j < n_; ++j) {
    if (score[j] > threshold) continue;
    const float exact = QueryDistance(metric_, query, centroids + j * dim_, dim_);
    if (top->Admits(exact, static_cast<int64_t>(j))) top->Push(exact, static_cast<int64_t>(j));
    ++rescored;
  }
  return rescored;
}

}  // namespace emberdb::ann
