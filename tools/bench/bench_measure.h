// emberdb-bench measurements: clocks, latency percentiles, memory and disk usage, recall.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace emberdb::bench {

double NowSeconds();
// CPU seconds (user + system) this process has used, all threads. On a shared, loaded machine
// wall-clock latency mostly measures waiting for a core; CPU time per query does not.
double CpuSeconds();
// The q-quantile (0..1) of `samples` (copied and sorted); 0 when empty.
double Quantile(std::vector<double> samples, double q);
// Peak resident set size of this process so far (getrusage), bytes.
uint64_t PeakRssBytes();
// Current resident set size (/proc/self/statm), bytes; 0 where unavailable.
uint64_t CurrentRssBytes();
// Total size of the regular files under `dir`.
uint64_t DirectoryBytes(const std::string& dir);

// Exact top-k labels of each query: nq * k, row-major.
struct GroundTruth {
  size_t nq = 0;
  size_t k = 0;
  std::vector<int64_t> labels;
};
// recall@r (r <= k) of `found` (nq * k_found labels) against the truth's first r columns.
double RecallAt(const GroundTruth& truth, size_t r, const std::vector<int64_t>& found,
                size_t k_found);

}  // namespace emberdb::bench
