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
// The kernel's resident high-water mark (VmHWM in /proc/self/status), bytes; 0 where
// unavailable. Unlike getrusage's ru_maxrss it can be reset (see StartMemoryWindow).
uint64_t HighWaterRssBytes();

// Where one system's memory is measured from. The benchmark's own data (base vectors, queries,
// ground truth) and whatever the previous system left behind are resident before a system
// starts; the process-wide peak would charge all of that to the system.
struct MemoryWindow {
  uint64_t baseline_rss = 0;  // resident when the window opened
  bool hwm_reset = false;     // VmHWM was reset: the peak is this window's own
};
// Hands freed heap back to the OS (malloc_trim), resets VmHWM by writing "5" to
// /proc/self/clear_refs (Linux >= 4.0) and records the resident size. When the reset is not
// possible, hwm_reset is false and the peak seen later includes earlier peaks.
// Caveat: malloc_trim cannot release the free top of a thread's malloc arena, so memory a
// previous system freed in its worker threads may stay resident in the baseline and be reused,
// making a later system's figure somewhat low; the first system's is exact, and running one
// system per process (or MALLOC_ARENA_MAX=1) gives each its standalone figure.
MemoryWindow OpenMemoryWindow();
// The peak resident bytes added since the window opened: VmHWM - baseline (0 if negative).
uint64_t PeakAddedBytes(const MemoryWindow& window);

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
