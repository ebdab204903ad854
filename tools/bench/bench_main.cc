// emberdb-bench: ingest, training, recall, latency, throughput, memory and disk figures of the
// engine for an nprobe sweep, next to the ann/ layer alone and raw FAISS on the same data, so
// that each layer's overhead shows as a ratio. Also: the engine's recall and latency under
// metadata filters of 50% down to 0.01% selectivity (bench_filtered.h), each system's own peak
// memory (bench_measure.h), the vector bandwidth each configuration achieves
// (bench_bandwidth.h), and a recall-vs-latency chart with --plot (bench_plot.h).
//
//   emberdb-bench                                   # 50,000 x 768 synthetic, 1,000 queries
//   emberdb-bench --n 200000 --index IVF,SQ8 --json results.jsonl
//   emberdb-bench --base sift_base.fvecs --query sift_query.fvecs --n 100000
//   emberdb-bench --nprobe 4,8,16 --plot chart.png --selectivities 10%,0.1%
#include <omp.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ann/vector_index.h"
#include "bench_data.h"
#include "bench_measure.h"
#include "bench_plot.h"
#include "bench_report.h"
#include "bench_runners.h"

using namespace emberdb;
using namespace emberdb::bench;

namespace {

// "engine,ann" contains "ann" but not "an".
bool Contains(const std::string& list, const std::string& item) {
  return ("," + list + ",").find("," + item + ",") != std::string::npos;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"emberdb-bench: vector search benchmark of the engine, ann/ and raw FAISS"};
  SyntheticSpec synth;
  synth.rows = 50000;
  size_t num_queries = 1000;
  std::string base_path, query_path, json_path, plot_path, systems = "engine,ann,faiss";
  std::string selectivities = "50%,10%,1%,0.1%,0.01%";
  size_t filter_queries = 200;
  RunInfo info;
  BenchConfig config;
  config.db_dir = "/tmp/emberdb-bench-" + std::to_string(getpid());
  app.add_option("--n", synth.rows, "base vectors (generated, or the first n of --base)");
  app.add_option("--dim", synth.dim, "dimension of generated vectors");
  app.add_option("--queries", num_queries, "query vectors");
  app.add_option("--clusters", synth.clusters, "clusters of the generated mixture");
  app.add_option("--intrinsic-dim", synth.intrinsic_dim, "within-cluster dimension");
  app.add_option("--spread", synth.spread, "within-cluster scale relative to the centres");
  app.add_option("--seed", synth.seed, "seed of the generated base vectors");
  app.add_option("--base", base_path, "base vectors, .fvecs or .npy (float32)");
  app.add_option("--query", query_path, "query vectors, .fvecs or .npy");
  app.add_option("--index", config.index, "index spec: IVF,Flat | IVF,SQ8 | IVF,PQ<m> | Flat");
  app.add_option("--nprobe", config.nprobes, "nprobe values to sweep")->delimiter(',');
  app.add_option("--k", config.k, "neighbours per query (recall@10 needs 10)");
  app.add_option("--threads", config.threads, "thread budget (0: all cores)");
  app.add_option("--train-threshold", config.train_threshold, "engine's train threshold");
  app.add_option("--batch", config.batch, "documents per Add call");
  app.add_option("--text-bytes", config.text_bytes,
                 "engine: text per document, fetched with every result (0: none)");
  app.add_option("--malloc-mmap-threshold", config.malloc_mmap_threshold,
                 "engine: Options::malloc_mmap_threshold in bytes (0: glibc's own)");
  app.add_option("--latency-queries", config.latency_queries, "single queries timed per nprobe");
  app.add_option("--train-iters", config.train.kmeans_iterations,
                 "k-means iterations (ann; faiss with --faiss-train-like-ann)");
  app.add_option("--train-points-per-list", config.train.points_per_list,
                 "training sample per list (ann; faiss with --faiss-train-like-ann)");
  app.add_flag("--faiss-train-like-ann", config.faiss_train_like_ann,
               "raw FAISS trains with ann's settings instead of FAISS's defaults");
  app.add_option("--db", config.db_dir, "database directory (removed first)");
  app.add_flag("--keep-db", config.keep_db, "keep the database directory");
  app.add_option("--systems", systems, "comma-separated: engine, ann, faiss");
  app.add_option("--json", json_path, "append one JSON line per system and nprobe to this file");
  app.add_option("--selectivities", selectivities,
                 "engine filtered sweep: fractions of rows the filter keeps (none: skip)");
  app.add_option("--filter-nprobe", config.filter_nprobes,
                 "nprobe values of the filtered sweep (default: --nprobe)")
      ->delimiter(',');
  app.add_option("--filter-queries", filter_queries, "queries per selectivity and nprobe");
  app.add_option("--plot", plot_path, "write a recall@10 vs p50 latency chart (PNG, gnuplot)");
  app.add_option("--bandwidth-floor", info.bandwidth_floor_gbps,
                 "GB/s figure printed next to achieved bandwidth");
  CLI11_PARSE(app, argc, argv);
  std::vector<double> selectivity_values;
  if (Status s = ParseSelectivities(selectivities, &selectivity_values); !s.ok()) {
    std::fprintf(stderr, "emberdb-bench: %s\n", s.ToString().c_str());
    return 1;
  }
  if (!plot_path.empty() && !GnuplotAvailable()) {
    std::fprintf(stderr,
                 "emberdb-bench: --plot needs gnuplot, which is not on PATH (Debian: apt-get "
                 "install -y gnuplot-nox)\n");
    return 1;
  }
  if (!selectivity_values.empty() && !Contains(systems, "engine")) selectivity_values.clear();

  Matrix base, queries;
  std::string data_name;
  if (!base_path.empty()) {
    Status s = ReadVectors(base_path, synth.rows, &base);
    if (s.ok() && !query_path.empty()) s = ReadVectors(query_path, num_queries, &queries);
    if (!s.ok()) {
      std::fprintf(stderr, "emberdb-bench: %s\n", s.ToString().c_str());
      return 1;
    }
    if (query_path.empty() || queries.dim != base.dim) {
      std::fprintf(stderr, "emberdb-bench: --query with the base's dimension is required\n");
      return 1;
    }
    // Cosine: the engine normalises; ground truth and the other systems see the same vectors.
    NormaliseRows(&base);
    NormaliseRows(&queries);
    data_name = base_path;
  } else {
    double t = NowSeconds();
    base = GenerateClustered(synth);
    queries = GenerateQueries(synth, num_queries);
    std::ostringstream name;
    name << "synthetic(clusters=" << synth.clusters << ",intrinsic=" << synth.intrinsic_dim
         << ",spread=" << synth.spread << ",seed=" << synth.seed << ")";
    data_name = name.str();
    std::printf("generated %zu x %u base and %zu queries in %.1fs\n", base.rows, base.dim,
                queries.rows, NowSeconds() - t);
  }
  if (config.threads > 0) omp_set_num_threads(config.threads);

  // Exact ground truth with the brute-force index (BLAS).
  GroundTruth truth;
  {
    double t = NowSeconds();
    auto exact = ann::NewFlatIndex(base.dim, ann::Metric::kInnerProduct);
    std::vector<int64_t> labels(base.rows);
    for (size_t i = 0; i < base.rows; ++i) labels[i] = static_cast<int64_t>(i);
    exact->Add(base.rows, labels.data(), base.data.data());
    truth.nq = queries.rows;
    truth.k = config.k;
    truth.labels.resize(truth.nq * truth.k);
    std::vector<float> d(truth.nq * truth.k);
    exact->Search(truth.nq, queries.data.data(), truth.k, ann::SearchParams{}, d.data(),
                  truth.labels.data());
    std::printf("exact ground truth: %.1fs; data %s, %zu x %u, %zu queries, index %s\n",
                NowSeconds() - t, data_name.c_str(), base.rows, base.dim, queries.rows,
                config.index.c_str());
  }
  if (!selectivity_values.empty()) {
    double t = NowSeconds();
    config.filter_cases =
        MakeFilterCases(selectivity_values, base, queries, filter_queries, config.k);
    std::printf("exact filtered ground truth (%zu selectivities, %zu queries): %.1fs\n",
                config.filter_cases.size(), std::min(filter_queries, queries.rows),
                NowSeconds() - t);
  }
  info.n = base.rows;
  info.dim = base.dim;
  info.queries = queries.rows;
  info.k = config.k;
  info.data = data_name;

  std::vector<SystemReport> reports;
  uint32_t nlist = 0;
  auto run = [&](const char* name, const std::function<Status(SystemReport*)>& fn) {
    if (!Contains(systems, name)) return;
    SystemReport r;
    // Each system's own memory: measured from what is resident just before it starts.
    const MemoryWindow window = OpenMemoryWindow();
    Status s = fn(&r);
    if (!s.ok()) {
      std::fprintf(stderr, "emberdb-bench: %s failed: %s\n", name, s.ToString().c_str());
      return;
    }
    r.build.baseline_rss_bytes = window.baseline_rss;
    r.build.peak_added_bytes = PeakAddedBytes(window);
    r.build.peak_is_own = window.hwm_reset;
    if (nlist == 0) nlist = r.build.nlist;
    FillBandwidth(info, &r);
    PrintReport(info, r);
    PrintFiltered(info, r);
    reports.push_back(std::move(r));
  };
  run("engine", [&](SystemReport* r) { return RunEngine(config, base, queries, truth, r); });
  run("ann", [&](SystemReport* r) { return RunAnn(config, nlist, base, queries, truth, r); });
  run("faiss", [&](SystemReport* r) { return RunFaiss(config, nlist, base, queries, truth, r); });

  for (size_t i = 1; i < reports.size(); ++i) {
    if (reports[0].build.system == "engine") PrintRatios(reports[0], reports[i]);
  }
  if (!json_path.empty()) {
    std::ofstream json(json_path, std::ios::app);
    for (const SystemReport& r : reports) {
      for (const SweepPoint& p : r.sweep) json << SweepJson(info, r, p).dump() << "\n";
      for (const FilteredPoint& p : r.filtered) json << FilteredJson(info, r, p).dump() << "\n";
    }
    if (!json.flush()) {
      std::fprintf(stderr, "emberdb-bench: cannot write %s\n", json_path.c_str());
      return 1;
    }
  }
  if (!plot_path.empty() && !reports.empty()) {
    std::vector<PlotSeries> series;
    for (const SystemReport& r : reports) {
      PlotSeries line{r.build.system + " (" + r.build.kind + ")", {}};
      for (const SweepPoint& p : r.sweep) line.points.push_back({p.nprobe, p.p50_us, p.recall10});
      series.push_back(std::move(line));
    }
    char title[256];
    std::snprintf(title, sizeof(title),
                  "recall@10 vs p50 latency, %zu x %u, %zu queries, k=%zu (points: nprobe)",
                  base.rows, base.dim, queries.rows, config.k);
    if (Status s = WritePlot(series, plot_path, title); !s.ok()) {
      std::fprintf(stderr, "emberdb-bench: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("\nchart: %s\n", plot_path.c_str());
  }
  return reports.empty() ? 1 : 0;
}
