// CentroidSketch: choosing a query's nprobe lists from an 8-bit copy of the IVF centroids.
//
// A single query reads every centroid before it reads any list. At 50,000 x 768 with nlist 894
// the float centroids are 2.7 MB, more than the ten lists nprobe 10 scans, so they were over
// half of a query's memory traffic. The sketch keeps each centroid component as one byte on a
// per-dimension grid (a quarter of the bytes) and ranks the centroids on it first.
//
// The choice stays exact. With x^ the decoded sketch, |<q, x> - <q, x^>| <= E = sum_i |q_i| e_i
// where e_i is the largest decoding error of dimension i, so the approximate score s_j of every
// centroid is within B of its true distance (B = E for inner product, 2E for squared L2, whose
// |x_j|^2 is kept exactly). The true nprobe-th distance is at most s_(nprobe) + B, hence only
// centroids with s_j <= s_(nprobe) + 2B can be among the nprobe nearest; those few are
// re-scored with the float centroids and the same kernel a full scan uses, so the lists chosen
// are the ones a full float scan chooses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ann/scan_kernels.h"
#include "ann/vector_index.h"

namespace emberdb::ann {

class CentroidSketch {
 public:
  // `centroids`: n rows of dim floats; the sketch copies what it needs.
  CentroidSketch(Metric metric, size_t dim, size_t n, const float* centroids);

  size_t size() const { return n_; }
  size_t memory_bytes() const;

  // Offers `top` the centroids that may be among its k nearest to `query`, with exact
  // distances (Search convention) computed from `centroids` (the same rows as construction).
  // Returns how many were re-scored exactly.
  size_t Nearest(const float* query, const float* centroids, TopK* top, size_t k) const;

 private:
  Metric metric_;
  size_t dim_;
  size_t n_;
  std::vector<uint8_t> codes_;  // n x dim
  std::vector<float> offset_;   // per dimension: decoded value of code 0
  std::vector<float> step_;     // per dimension: grid step
  std::vector<float> error_;    // per dimension: largest |x - x^| over the centroids
  std::vector<float> norms_;    // L2: |x_j|^2 of the float centroids
};

}  // namespace emberdb::ann
