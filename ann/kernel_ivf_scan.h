// The IVF list scan with ann/'s kernels, for IVF-Flat (lists hold floats) and IVF-SQ8
// (QT_8bit codes, sq8_scan.h): FAISS's scanners run baseline-x86 scalar code.
//
// Few queries are scanned one by one (parallel over queries). A batch is scanned list by list:
// every query probing a list is scored against it while it sits in cache, so each probed list
// is read from memory once per batch instead of once per query (at nprobe 16 on 50,000 x 768
// a query touches 2.75 MB of lists; 1,000 queries would stream 2.7 GB). The distances are
// the same bits either way (same kernels, row by row), so the results do not depend on it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ann/vector_index.h"

namespace faiss {
struct IndexIVF;
}

namespace emberdb::ann {

// Batches of at least this many unfiltered queries are scanned list by list.
inline constexpr size_t kListGroupMinQueries = 8;

// Fills nq * kk (distance, label) pairs for queries whose probed lists (nprobe per query, -1
// for none) and coarse distances (FAISS's convention) are given, distances in the
// VectorIndex::Search convention, -1 / +inf padding. False, writing nothing, when `index` is
// neither IVF-Flat nor QT_8bit IVF-SQ8 over a flat quantizer (the caller uses FAISS).
bool ScanIvfLists(const faiss::IndexIVF& index, Metric metric, size_t nq, const float* queries,
                  size_t kk, int nprobe, const LabelFilter* filter, const float* coarse_dis,
                  const int64_t* lists, float* distances, int64_t* labels);

}  // namespace emberdb::ann
