// emberdb-bench filtered search: the `bucket` metadata field every engine document carries, the
// selectivities swept, the exact ground truth among matching rows only, and the engine's
// filtered sweep (through the public API).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench_data.h"
#include "bench_measure.h"
#include "emberdb/db.h"
#include "emberdb/document.h"
#include "emberdb/status.h"

namespace emberdb::bench {

// Buckets are 0 .. kBuckets-1, so a filter `bucket < s * kBuckets` keeps a fraction s of the
// rows, down to 1 / kBuckets = 0.01%.
constexpr int64_t kBuckets = 10000;

// A hash of the row index (splitmix64): uncorrelated with the generated clusters and with the
// row order of a file, deterministic across runs.
int64_t BucketOfRow(size_t row);

// The engine's document id of base row `row` ("v<row>"), and back (-1 for another id).
std::string DocumentIdOfRow(size_t row);
int64_t RowOfDocumentId(const std::string& id);
// Row `row` of `base` as an engine document: about `text_bytes` of article-like text (words
// drawn per row, so rows differ and compress like prose), and its bucket when `with_bucket`.
Document DocumentOfRow(const Matrix& base, size_t row, bool with_bucket, size_t text_bytes);

// Parses "50%,10%,0.01%" (percentages) or "0.5,0.1" (fractions), each in (0, 1]; "none" or ""
// gives an empty list.
Status ParseSelectivities(const std::string& text, std::vector<double>* out);

// One selectivity: the filter and its exact answers.
struct FilterCase {
  double selectivity = 0;    // requested fraction
  int64_t bucket_limit = 0;  // the filter is bucket < bucket_limit
  size_t matches = 0;        // rows that pass
  GroundTruth truth;         // exact top-k among the passing rows (-1 past `matches`)
};
// The where filter of a case, in Chroma's language.
std::string WhereOfCase(const FilterCase& c);

// Exact top-k of each of the first `nq` queries among the rows of `base` whose bucket is below
// `limit`. With fewer than k such rows the truth is all of them (the rest of the row is -1).
GroundTruth FilteredGroundTruth(const Matrix& base, const Matrix& queries, size_t nq, size_t k,
                                int64_t limit, size_t* matches);

std::vector<FilterCase> MakeFilterCases(const std::vector<double>& selectivities,
                                        const Matrix& base, const Matrix& queries, size_t nq,
                                        size_t k);

struct FilteredPoint {
  double selectivity = 0;
  size_t matches = 0;
  int nprobe = 0;
  size_t queries = 0;
  double recall1 = 0, recall5 = 0, recall10 = 0;
  double p50_us = 0, p99_us = 0, mean_us = 0;
  // Queries answered with min(k, matches) results: the "k results whenever k match".
  double full_fraction = 0;
};

// Single-query searches of the cases' queries through `collection`, for each case and nprobe.
Status RunFilteredSweep(const Collection& collection, const Matrix& queries, size_t k,
                        const std::vector<int>& nprobes, const std::vector<FilterCase>& cases,
                        std::vector<FilteredPoint>* out);

}  // namespace emberdb::bench
