// emberdb-bench systems under test: the engine through its public API, the ann/ layer alone,
// and raw FAISS built directly with the same nlist and training budget.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ann/vector_index.h"
#include "bench_data.h"
#include "bench_filtered.h"
#include "bench_measure.h"
#include "emberdb/status.h"

namespace emberdb::bench {

struct BenchConfig {
  std::string index = "IVF,Flat";
  std::vector<int> nprobes = {1, 2, 4, 8, 16, 32, 64};
  size_t k = 10;
  int threads = 0;
  size_t train_threshold = 10000;
  size_t batch = 1000;  // documents per Collection::Add
  // Engine: text stored with each document; every query fetches its results' text and
  // metadata from RocksDB, as a RAG caller would.
  size_t text_bytes = 1000;
  long malloc_mmap_threshold = -1;  // engine: Options::malloc_mmap_threshold (-1: its default)
  size_t latency_queries = 1000;    // single-query searches timed per nprobe
  std::string db_dir;
  bool keep_db = false;
  ann::TrainOptions train;  // ann's k-means settings (the engine uses ann/'s defaults)
  // Raw FAISS trains as a user of FAISS would: index.train() on every base vector with FAISS's
  // own defaults (10 iterations, at most 256 points per list). With this set it uses `train`.
  bool faiss_train_like_ann = false;
  // Engine only: filtered sweeps (empty: none, and documents carry no `bucket` metadata).
  std::vector<FilterCase> filter_cases;
  std::vector<int> filter_nprobes;  // empty: `nprobes`
};

struct BuildReport {
  std::string system;  // "engine", "ann", "faiss"
  std::string kind;    // e.g. "IVF894,Flat"
  uint32_t nlist = 0;
  double imbalance = 0;
  double ingest_s = 0;      // Add calls (engine: RocksDB + index), or FAISS add
  double train_s = 0;       // training (engine: WaitForIndex after ingest)
  double train_cpu_s = 0;   // process CPU seconds over the same span
  double save_s = 0;        // engine: WaitForIndex after the final index serves (the snapshot)
  uint64_t trained_at = 0;  // engine: collection size at its last training
  uint64_t memory_bytes = 0;
  uint64_t disk_bytes = 0;
  uint64_t rss_bytes = 0;           // resident after building
  uint64_t peak_rss_bytes = 0;      // the whole process's high-water mark (getrusage)
  uint64_t baseline_rss_bytes = 0;  // resident before this system started
  uint64_t peak_added_bytes = 0;    // this system's own peak: VmHWM - baseline
  bool peak_is_own = false;         // VmHWM was reset before the run (else: includes earlier)
  std::string note;                 // how build times were taken, printed after them
};

struct SweepPoint {
  int nprobe = 0;
  double recall1 = 0, recall5 = 0, recall10 = 0;
  double p50_us = 0, p99_us = 0, mean_us = 0;
  double batch_qps = 0;
  double single_cpu_us = 0;       // process CPU time per single query
  double batch_cpu_us = 0;        // process CPU time per query in the batch
  double scan_bytes = 0;          // vector bytes one query scans (see bench_bandwidth.h)
  bool scan_bytes_exact = false;  // from the lists actually probed, else estimated
  double single_gbps = 0;         // scan_bytes / mean single-query latency
  double batch_gbps = 0;          // scan_bytes * batch QPS
};

struct SystemReport {
  BuildReport build;
  std::vector<SweepPoint> sweep;
  std::vector<FilteredPoint> filtered;  // engine only
};

Status RunEngine(const BenchConfig& config, const Matrix& base, const Matrix& queries,
                 const GroundTruth& truth, SystemReport* out);
// `nlist` 0: ann/'s own choice; else that nlist (e.g. the engine's), for a like-for-like ratio.
Status RunAnn(const BenchConfig& config, uint32_t nlist, const Matrix& base, const Matrix& queries,
              const GroundTruth& truth, SystemReport* out);
// `nlist` 0: 4 * sqrt(n), as ann/ chooses.
Status RunFaiss(const BenchConfig& config, uint32_t nlist, const Matrix& base,
                const Matrix& queries, const GroundTruth& truth, SystemReport* out);

}  // namespace emberdb::bench
