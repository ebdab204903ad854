#include "bench_report.h"

#include <omp.h>

#include <cstdio>

#include "bench_bandwidth.h"

namespace emberdb::bench {
namespace {

constexpr double kMiB = 1048576.0;

double VectorBytes(const RunInfo& info) { return 4.0 * info.n * info.dim; }

std::string PeakText(const RunInfo& info, const BuildReport& b) {
  char text[160];
  std::snprintf(text, sizeof(text), "peak +%.0f MiB = %.2fx vectors%s", b.peak_added_bytes / kMiB,
                VectorBytes(info) > 0 ? b.peak_added_bytes / VectorBytes(info) : 0,
                b.peak_is_own ? "" : " (VmHWM not resettable: includes earlier peaks)");
  return text;
}

// Where a sweep point's recall at the same nprobe is, for the filtered table.
const SweepPoint* PointAt(const SystemReport& report, int nprobe) {
  for (const SweepPoint& p : report.sweep) {
    if (p.nprobe == nprobe) return &p;
  }
  return nullptr;
}

nlohmann::json BuildJson(const RunInfo& info, const BuildReport& b) {
  return {
      {"system", b.system},
      {"data", info.data},
      {"n", info.n},
      {"dim", info.dim},
      {"index", b.kind},
      {"nlist", b.nlist},
      {"imbalance", b.imbalance},
      {"ingest_s", b.ingest_s},
      {"ingest_vectors_per_s", b.ingest_s > 0 ? info.n / b.ingest_s : 0},
      {"train_s", b.train_s},
      {"train_cpu_s", b.train_cpu_s},
      {"trained_at", b.trained_at},
      {"index_memory_bytes", b.memory_bytes},
      {"disk_bytes", b.disk_bytes},
      {"rss_bytes", b.rss_bytes},
      {"peak_rss_bytes", b.peak_rss_bytes},
      {"baseline_rss_bytes", b.baseline_rss_bytes},
      {"peak_added_bytes", b.peak_added_bytes},
      {"peak_added_vs_vectors", VectorBytes(info) > 0 ? b.peak_added_bytes / VectorBytes(info) : 0},
      {"peak_added_is_own", b.peak_is_own},
      {"threads", omp_get_max_threads()},
      {"save_s", b.save_s},
      {"build_note", b.note}};
}

}  // namespace

void FillBandwidth(const RunInfo& info, SystemReport* report) {
  // ann/ and the engine re-rank compressed candidates with exact vectors; raw FAISS does not.
  // Both also rank a single query's centroids on an 8-bit sketch first.
  const bool ours = report->build.system != "faiss";
  const size_t refine_k = ours ? info.k * 4 : 0;
  for (SweepPoint& p : report->sweep) {
    if (p.scan_bytes <= 0) {
      p.scan_bytes =
          EstimateScanBytes(report->build.kind, info.n, info.dim, p.nprobe, refine_k, ours);
      p.scan_bytes_exact = false;
    }
    p.single_gbps = GigabytesPerSecond(p.scan_bytes, p.mean_us * 1e-6);
    p.batch_gbps = p.batch_qps > 0 ? GigabytesPerSecond(p.scan_bytes, 1.0 / p.batch_qps) : 0;
  }
}

void PrintReport(const RunInfo& info, const SystemReport& r) {
  const BuildReport& b = r.build;
  std::printf(
      "\n[%s] %s nlist=%u imbalance=%.3f ingest=%.2fs (%.0f vectors/s) train=%.2fs (cpu %.2fs)%s "
      "index=%.1f MiB disk=%.1f MiB rss=%.1f MiB process-peak=%.1f MiB\n",
      b.system.c_str(), b.kind.c_str(), b.nlist, b.imbalance, b.ingest_s,
      b.ingest_s > 0 ? info.n / b.ingest_s : 0, b.train_s, b.train_cpu_s,
      b.note.empty() ? "" : (" (" + b.note + ")").c_str(), b.memory_bytes / kMiB,
      b.disk_bytes / kMiB, b.rss_bytes / kMiB, b.peak_rss_bytes / kMiB);
  std::printf("  memory: %s (baseline rss %.0f MiB; vectors %.0f MiB)\n", PeakText(info, b).c_str(),
              b.baseline_rss_bytes / kMiB, VectorBytes(info) / kMiB);
  bool exact = !r.sweep.empty();
  for (const SweepPoint& p : r.sweep) exact = exact && p.scan_bytes_exact;
  std::printf(
      "  nprobe  recall@1  recall@5  recall@10   p50_us   p99_us  cpu_us/q  batch_qps  "
      "batch_cpu_us/q  scan_KiB/q  GB/s(1q)  GB/s(batch)\n");
  for (const SweepPoint& p : r.sweep) {
    std::printf(
        "  %6d  %8.4f  %8.4f  %9.4f  %7.0f  %7.0f  %8.0f  %9.0f  %14.0f  %10.0f  %8.2f  %11.2f\n",
        p.nprobe, p.recall1, p.recall5, p.recall10, p.p50_us, p.p99_us, p.single_cpu_us,
        p.batch_qps, p.batch_cpu_us, p.scan_bytes / 1024, p.single_gbps, p.batch_gbps);
  }
  std::printf(
      "  GB/s = vector bytes scanned per query (%s) / mean latency, or x batch QPS; floor %.1f "
      "GB/s\n",
      exact ? "centroids + codes of the lists actually probed"
            : "estimated from average list sizes: centroids (8-bit sketch + nprobe float rows) + "
              "nprobe/nlist of the codes",
      info.bandwidth_floor_gbps);
  std::fflush(stdout);
}

void PrintFiltered(const RunInfo& info, const SystemReport& r) {
  if (r.filtered.empty()) return;
  std::printf(
      "\n[%s] filtered queries: where {\"bucket\": {\"$lt\": s*10000}}, bucket = hash(row) %% "
      "10000; recall against exact top-%zu among matching rows; %zu queries each\n",
      r.build.system.c_str(), info.k, r.filtered.front().queries);
  std::printf(
      "  select  matches  nprobe  recall@1  recall@10  unfiltered@10   p50_us   p99_us  "
      "full_k\n");
  for (const FilteredPoint& p : r.filtered) {
    const SweepPoint* u = PointAt(r, p.nprobe);
    char unfiltered[16] = "-";  // nprobe not in the unfiltered sweep
    if (u != nullptr) std::snprintf(unfiltered, sizeof(unfiltered), "%.4f", u->recall10);
    std::printf("  %5.2f%%  %7zu  %6d  %8.4f  %9.4f  %13s  %7.0f  %7.0f  %6.3f\n",
                p.selectivity * 100, p.matches, p.nprobe, p.recall1, p.recall10, unfiltered,
                p.p50_us, p.p99_us, p.full_fraction);
  }
  std::printf(
      "  full_k: fraction of queries answered with min(k, matches) results; unfiltered@10: "
      "the unfiltered sweep's recall@10 at that nprobe\n");
  std::fflush(stdout);
}

void PrintRatios(const SystemReport& engine, const SystemReport& other) {
  std::printf("\nengine / %s ratios (p50 latency, CPU per single query, batch QPS):\n",
              other.build.system.c_str());
  for (size_t i = 0; i < engine.sweep.size() && i < other.sweep.size(); ++i) {
    const SweepPoint& e = engine.sweep[i];
    const SweepPoint& o = other.sweep[i];
    std::printf("  nprobe %4d: latency x%.2f  cpu x%.2f  qps x%.2f\n", e.nprobe,
                o.p50_us > 0 ? e.p50_us / o.p50_us : 0,
                o.single_cpu_us > 0 ? e.single_cpu_us / o.single_cpu_us : 0,
                o.batch_qps > 0 ? e.batch_qps / o.batch_qps : 0);
  }
}

nlohmann::json SweepJson(const RunInfo& info, const SystemReport& report, const SweepPoint& p) {
  nlohmann::json j = BuildJson(info, report.build);
  j.update({{"queries", info.queries},
            {"filter_selectivity", nullptr},
            {"nprobe", p.nprobe},
            {"recall@1", p.recall1},
            {"recall@5", p.recall5},
            {"recall@10", p.recall10},
            {"p50_us", p.p50_us},
            {"p99_us", p.p99_us},
            {"mean_us", p.mean_us},
            {"batch_qps", p.batch_qps},
            {"single_cpu_us", p.single_cpu_us},
            {"batch_cpu_us", p.batch_cpu_us},
            {"scan_bytes_per_query", p.scan_bytes},
            {"scan_bytes_exact", p.scan_bytes_exact},
            {"single_gbps", p.single_gbps},
            {"batch_gbps", p.batch_gbps},
            {"bandwidth_floor_gbps", info.bandwidth_floor_gbps}});
  return j;
}

nlohmann::json FilteredJson(const RunInfo& info, const SystemReport& report,
                            const FilteredPoint& p) {
  nlohmann::json j = BuildJson(info, report.build);
  const SweepPoint* u = PointAt(report, p.nprobe);
  j.update({{"queries", p.queries},
            {"filter_selectivity", p.selectivity},
            {"filter_matches", p.matches},
            {"nprobe", p.nprobe},
            {"recall@1", p.recall1},
            {"recall@5", p.recall5},
            {"recall@10", p.recall10},
            {"unfiltered_recall@10", u != nullptr ? nlohmann::json(u->recall10) : nullptr},
            {"p50_us", p.p50_us},
            {"p99_us", p.p99_us},
            {"mean_us", p.mean_us},
            {"full_result_fraction", p.full_fraction}});
  return j;
}

}  // namespace emberdb::bench
