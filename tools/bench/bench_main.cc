// emberdb-bench: ingest, training, recall, latency, throughput, memory and disk figures of the
// engine for an nprobe sweep, next to the ann/ layer alone and raw FAISS on the same data, so
// that each layer's overhead shows as a ratio.
//
//   emberdb-bench                                   # 50,000 x 768 synthetic, 1,000 queries
//   emberdb-bench --n 200000 --index IVF,SQ8 --json results.jsonl
//   emberdb-bench --base sift_base.fvecs --query sift_query.fvecs --n 100000
#include <omp.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ann/vector_index.h"
#include "bench_data.h"
#include "bench_measure.h"
#include "bench_runners.h"

using namespace emberdb;
using namespace emberdb::bench;

namespace {

nlohmann::json ToJson(const SystemReport& r, const SweepPoint& p, size_t n, uint32_t dim, size_t nq,
                      const std::string& data) {
  const BuildReport& b = r.build;
  return {{"system", b.system},
          {"data", data},
          {"n", n},
          {"dim", dim},
          {"queries", nq},
          {"index", b.kind},
          {"nlist", b.nlist},
          {"imbalance", b.imbalance},
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
          {"ingest_s", b.ingest_s},
          {"ingest_vectors_per_s", b.ingest_s > 0 ? n / b.ingest_s : 0},
          {"train_s", b.train_s},
          {"train_cpu_s", b.train_cpu_s},
          {"trained_at", b.trained_at},
          {"index_memory_bytes", b.memory_bytes},
          {"disk_bytes", b.disk_bytes},
          {"rss_bytes", b.rss_bytes},
          {"peak_rss_bytes", b.peak_rss_bytes},
          {"threads", omp_get_max_threads()}};
}

void PrintReport(const SystemReport& r, size_t n) {
  const BuildReport& b = r.build;
  std::printf(
      "\n[%s] %s nlist=%u imbalance=%.3f ingest=%.2fs (%.0f vectors/s) train=%.2fs (cpu %.2fs)%s "
      "index=%.1f MiB disk=%.1f MiB rss=%.1f MiB peak=%.1f MiB\n",
      b.system.c_str(), b.kind.c_str(), b.nlist, b.imbalance, b.ingest_s,
      b.ingest_s > 0 ? n / b.ingest_s : 0, b.train_s, b.train_cpu_s,
      b.system == "engine" ? " (WaitForIndex after ingest)" : "", b.memory_bytes / 1048576.0,
      b.disk_bytes / 1048576.0, b.rss_bytes / 1048576.0, b.peak_rss_bytes / 1048576.0);
  std::printf(
      "  nprobe  recall@1  recall@5  recall@10   p50_us   p99_us  cpu_us/q  batch_qps  "
      "batch_cpu_us/q\n");
  for (const SweepPoint& p : r.sweep) {
    std::printf("  %6d  %8.4f  %8.4f  %9.4f  %7.0f  %7.0f  %8.0f  %9.0f  %14.0f\n", p.nprobe,
                p.recall1, p.recall5, p.recall10, p.p50_us, p.p99_us, p.single_cpu_us, p.batch_qps,
                p.batch_cpu_us);
  }
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"emberdb-bench: vector search benchmark of the engine, ann/ and raw FAISS"};
  SyntheticSpec synth;
  synth.rows = 50000;
  size_t num_queries = 1000;
  std::string base_path, query_path, json_path, systems = "engine,ann,faiss";
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
  app.add_option("--latency-queries", config.latency_queries, "single queries timed per nprobe");
  app.add_option("--train-iters", config.train.kmeans_iterations,
                 "k-means iterations (ann, faiss)");
  app.add_option("--train-points-per-list", config.train.points_per_list,
                 "training sample per list (ann, faiss)");
  app.add_option("--db", config.db_dir, "database directory (removed first)");
  app.add_flag("--keep-db", config.keep_db, "keep the database directory");
  app.add_option("--systems", systems, "comma-separated: engine, ann, faiss");
  app.add_option("--json", json_path, "append one JSON line per system and nprobe to this file");
  CLI11_PARSE(app, argc, argv);

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
    SyntheticSpec qspec = synth;
    qspec.rows = num_queries;
    qspec.seed = synth.seed + 1000003;
    queries = GenerateClustered(qspec);
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

  std::vector<SystemReport> reports;
  uint32_t nlist = 0;
  auto wants = [&](const char* s) {
    return ("," + systems + ",").find("," + std::string(s) + ",") != std::string::npos;
  };
  auto run = [&](const char* name, const std::function<Status(SystemReport*)>& fn) {
    if (!wants(name)) return;
    SystemReport r;
    Status s = fn(&r);
    if (!s.ok()) {
      std::fprintf(stderr, "emberdb-bench: %s failed: %s\n", name, s.ToString().c_str());
      return;
    }
    if (nlist == 0) nlist = r.build.nlist;
    PrintReport(r, base.rows);
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
      for (const SweepPoint& p : r.sweep) {
        json << ToJson(r, p, base.rows, base.dim, queries.rows, data_name).dump() << "\n";
      }
    }
  }
  return reports.empty() ? 1 : 0;
}
