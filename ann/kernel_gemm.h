// Batched exact search through BLAS: the inner products of a block of queries against a block
// of base rows are one sgemm (OpenBLAS; the base block is read and packed once per query block
// instead of once per query); squared L2 adds the norms, |q|^2 + |v|^2 - 2<q, v> (clamped at
// 0), so its rounding is relative to the norms rather than to the distance.
//
// When it wins: from GemmMinQueries(metric) queries on. Measured (one thread, CPU time, top-10
// over 20,000 and 50,000 x 768, see ann/README.md): sgemm costs ~2.5x one kernel query at
// nq = 1 (it packs the base block and selects from a product matrix), breaks even at nq ~ 3
// for inner product and nq ~ 4 for L2 (which also computes the base norms), and is 2-3x
// faster at nq = 8, 3.5-5x at nq = 16.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ann/vector_index.h"

namespace emberdb::ann {

inline size_t GemmMinQueries(Metric metric) { return metric == Metric::kL2 ? 8 : 4; }

// Like ScanTopK without a filter: for each query the k smallest (distance, label) pairs of the
// n rows whose labels are `labels`, ordered by (distance, label), -1 / +inf padding. Distances
// are in the VectorIndex::Search convention and equal ScanTopK's within float rounding.
// OpenBLAS threads run the products; the selection is parallel over queries (OpenMP).
void GemmTopK(Metric metric, size_t nq, const float* queries, const float* base,
              const int64_t* labels, size_t n, size_t dim, size_t k, float* distances,
              int64_t* out_labels);

// Exact top-k over n contiguous rows, by whichever path wins: GemmTopK for batches of at least
// GemmMinQueries(metric) unfiltered queries, else ScanTopK's per-query kernels.
void ExactTopK(Metric metric, size_t nq, const float* queries, const float* base,
               const int64_t* labels, size_t n, size_t dim, const LabelFilter* filter, size_t k,
               float* distances, int64_t* out_labels);

}  // namespace emberdb::ann
