#include "bench_measure.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <unordered_set>

namespace emberdb::bench {

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double CpuSeconds() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

double Quantile(std::vector<double> samples, double q) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const size_t i = std::min(samples.size() - 1, static_cast<size_t>(q * samples.size()));
  return samples[i];
}

uint64_t PeakRssBytes() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

uint64_t CurrentRssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  const int got = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  return got == 2 ? resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

uint64_t HighWaterRssBytes() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  unsigned long long kib = 0;
  bool found = false;
  while (!found && std::fgets(line, sizeof(line), f) != nullptr) {
    found = std::sscanf(line, "VmHWM: %llu kB", &kib) == 1;
  }
  std::fclose(f);
  return found ? kib * 1024 : 0;
}

MemoryWindow OpenMemoryWindow() {
  malloc_trim(0);
  MemoryWindow window;
  const int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    window.hwm_reset = write(fd, "5", 1) == 1;
    close(fd);
  }
  window.baseline_rss = CurrentRssBytes();
  // A reset that did nothing (e.g. a kernel that ignores "5") leaves VmHWM above RSS.
  if (window.hwm_reset) {
    const uint64_t hwm = HighWaterRssBytes();
    window.hwm_reset = hwm != 0 && hwm <= window.baseline_rss + (1u << 20);
  }
  return window;
}

uint64_t PeakAddedBytes(const MemoryWindow& window) {
  const uint64_t hwm = HighWaterRssBytes();
  return hwm > window.baseline_rss ? hwm - window.baseline_rss : 0;
}

uint64_t DirectoryBytes(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  uint64_t total = 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

double RecallAt(const GroundTruth& truth, size_t r, const std::vector<int64_t>& found,
                size_t k_found) {
  size_t wanted = 0, hit = 0;
  std::unordered_set<int64_t> row;
  for (size_t q = 0; q < truth.nq; ++q) {
    row.clear();
    for (size_t j = 0; j < std::min(r, k_found); ++j) {
      if (found[q * k_found + j] >= 0) row.insert(found[q * k_found + j]);
    }
    for (size_t j = 0; j < r; ++j) {
      const int64_t t = truth.labels[q * truth.k + j];
      if (t < 0) continue;
      ++wanted;
      hit += row.count(t);
    }
  }
  return wanted == 0 ? 1.0 : static_cast<double>(hit) / static_cast<double>(wanted);
}

}  // namespace emberdb::bench
