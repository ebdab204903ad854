// The search loop shared by every index kind: runs one FAISS pass over a batch, then per query
// widens nprobe when too few results came back, re-asks for more results when ties straddle
// the k-th place, and orders the final rows by (distance, label).
//
// Why ties need care: FAISS's heaps keep an arbitrary member of a group of equal distances at
// the k-th boundary (and which one depends on batch size and BLAS blocking). Asking for k+1
// results tells whether such a group exists (result k-1 and k tie); if so the query is re-run
// with twice as many results until the group ends, so that the k kept are the smallest labels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace emberdb::ann {

// One FAISS pass: fills nq * kk (distance, label) pairs, distances already in the
// VectorIndex::Search convention (smaller is closer), label -1 and +inf for missing slots.
using SearchPass = std::function<void(size_t nq, const float* queries, size_t kk, int nprobe,
                                      float* distances, int64_t* labels)>;

struct SearchPlan {
  size_t k_out = 0;          // results written per query
  size_t k_needed = 0;       // fewer valid results than this triggers nprobe widening
  int nprobe = 0;            // first pass
  int max_nprobe = 0;        // widening stops here; 0 disables widening (flat search)
  uint64_t index_size = 0;   // vectors in the index (bounds the tie re-runs)
  bool filtered = false;     // a filter may hide vectors: widen even when size looks enough
  bool resolve_ties = true;  // ensure the kept rows are the smallest (distance, label)
};

// Writes nq * plan.k_out results, each row ordered by (distance, label), missing at the end.
void RunSearch(const SearchPass& pass, size_t dim, size_t nq, const float* queries,
               const SearchPlan& plan, float* distances, int64_t* labels);

// Orders n (distance, label) pairs by distance then label; -1 labels and NaN distances last.
void SortByDistanceThenLabel(size_t n, float* distances, int64_t* labels);

}  // namespace emberdb::ann
