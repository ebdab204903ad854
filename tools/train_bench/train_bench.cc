// emberdb-train-bench: what IVF training costs and what it buys, through ann/.
//
// For each (nlist factor, points per list, k-means iterations) it trains an IVF-Flat index with
// ann::TrainIvfIndex on the benchmark's synthetic clustered data (tools/bench/bench_data.h),
// fills it with every vector (ann's Add: the coarse assignment of all N vectors), then sweeps
// nprobe. Training as a user waits for it is train + fill. Probe cost is counted in vectors
// whose distance a query computes: the coarse quantizer (nlist centroids) plus the probed lists,
// nprobe x (N / nlist) x imbalance (FAISS's imbalance factor: the expected size of the list a
// data point falls in, over the mean size). Recall@10 is then interpolated (linear in
// log(scanned)) at fixed scanned budgets, so that configurations compare at equal probe cost.
//
//   emberdb-train-bench --rows 50000 --nlist-factors 1,2,4 --points-per-list 40 --iters 10
//
// One line per configuration on stdout, and one JSON object per line with --json FILE.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ann/vector_index.h"
#include "bench_data.h"
#include "bench_measure.h"

extern "C" void openblas_set_num_threads(int n);

namespace emberdb::bench {
namespace {

struct Point {
  int nprobe;
  double scanned;  // vectors per query, quantizer included
  double recall;
  double batch_us;  // wall microseconds per query, batch of all queries
};

// Recall at `budget` scanned vectors: linear in log(scanned) between the sweep's points; -1 when
// the budget is below the cheapest point, the last recall when above the dearest.
double RecallAt(const std::vector<Point>& sweep, double budget) {
  if (sweep.empty() || budget < sweep.front().scanned) return -1;
  for (size_t i = 1; i < sweep.size(); ++i) {
    if (budget <= sweep[i].scanned) {
      const Point& a = sweep[i - 1];
      const Point& b = sweep[i];
      const double t =
          (std::log(budget) - std::log(a.scanned)) / (std::log(b.scanned) - std::log(a.scanned));
      return a.recall + t * (b.recall - a.recall);
    }
  }
  return sweep.back().recall;
}

// Scanned vectors needed to reach `target` recall (same interpolation); -1 when never reached.
double ScannedFor(const std::vector<Point>& sweep, double target) {
  for (size_t i = 0; i < sweep.size(); ++i) {
    if (sweep[i].recall < target) continue;
    if (i == 0) return sweep[0].scanned;
    const Point& a = sweep[i - 1];
    const Point& b = sweep[i];
    const double t = (target - a.recall) / (b.recall - a.recall);
    return std::exp(std::log(a.scanned) + t * (std::log(b.scanned) - std::log(a.scanned)));
  }
  return -1;
}

std::vector<double> ParseList(const std::string& s) {
  std::vector<double> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    out.push_back(std::stod(s.substr(pos, comma - pos)));
    pos = comma + 1;
  }
  return out;
}

int Run(int argc, char** argv) {
  CLI::App app{"IVF training trade-off: train + fill seconds vs recall@10 at equal probe cost"};
  SyntheticSpec synth;
  synth.rows = 50000;
  size_t num_queries = 1000;
  int threads = 2;
  std::string factors = "4", ppls = "40", iters = "10", nprobes = "1,2,4,8,16,32,64,128";
  std::string budgets = "0.01,0.02,0.04", targets = "0.9,0.95,0.99", json_path;
  app.add_option("--rows", synth.rows, "base vectors");
  app.add_option("--dim", synth.dim, "dimension");
  app.add_option("--queries", num_queries, "query vectors");
  app.add_option("--clusters", synth.clusters, "clusters of the generated mixture");
  app.add_option("--threads", threads, "OpenMP and OpenBLAS threads");
  app.add_option("--nlist-factors", factors, "nlist = factor * sqrt(rows), comma-separated");
  app.add_option("--points-per-list", ppls, "k-means sample per list, comma-separated");
  app.add_option("--iters", iters, "k-means iterations, comma-separated");
  app.add_option("--nprobes", nprobes, "nprobe sweep, comma-separated");
  app.add_option("--budgets", budgets, "scanned budgets as fractions of rows, comma-separated");
  app.add_option("--targets", targets,
                 "recall@10 targets: scanned vectors needed, comma-separated");
  app.add_option("--json", json_path, "append one JSON object per configuration");
  CLI11_PARSE(app, argc, argv);
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);

  double t = NowSeconds();
  const Matrix base = GenerateClustered(synth);
  const Matrix queries = GenerateQueries(synth, num_queries);  // as emberdb-bench
  std::printf("generated %zu x %u (+%zu queries, %zu clusters) in %.1fs\n", base.rows, base.dim,
              queries.rows, synth.clusters, NowSeconds() - t);

  constexpr size_t k = 10;
  t = NowSeconds();
  ann::ExactNeighbors truth(base.dim, ann::Metric::kInnerProduct, queries.rows, queries.data.data(),
                            k);
  std::vector<int64_t> labels(base.rows);
  for (size_t i = 0; i < base.rows; ++i) labels[i] = static_cast<int64_t>(i);
  for (size_t i = 0; i < base.rows; i += 65536) {
    const size_t n = std::min<size_t>(65536, base.rows - i);
    truth.Add(n, labels.data() + i, base.row(i));
  }
  std::printf("exact ground truth in %.1fs\n", NowSeconds() - t);

  const std::vector<double> budget_list = ParseList(budgets);
  const std::vector<double> target_list = ParseList(targets);
  std::printf("%-16s %5s %4s %7s %7s %7s %6s", "config", "nlist", "imb", "train_s", "fill_s",
              "cpu_s", "sum_s");
  for (double b : budget_list) std::printf("  r@%-6.0f", b * base.rows);
  for (double r : target_list) std::printf("  n@%-6g", r);
  std::printf("\n");
  std::ofstream json;
  if (!json_path.empty()) json.open(json_path, std::ios::app);

  for (double factor : ParseList(factors)) {
    for (double ppl : ParseList(ppls)) {
      for (double it : ParseList(iters)) {
        ann::IndexSpec spec;
        spec.kind = ann::IndexSpec::Kind::kIvfFlat;
        // factor 0: ann's own choice of nlist (the default being measured).
        spec.nlist = factor == 0 ? 0
                                 : static_cast<uint32_t>(std::lround(
                                       factor * std::sqrt(static_cast<double>(base.rows))));
        ann::TrainOptions options;
        options.points_per_list = static_cast<size_t>(ppl);
        options.kmeans_iterations = static_cast<int>(it);
        std::unique_ptr<ann::VectorIndex> index;
        const double cpu0 = CpuSeconds();
        t = NowSeconds();
        Status s = factor == 0 && ppl == 0 && it == 0
                       ? ann::TrainIvfIndex(spec, base.dim, ann::Metric::kInnerProduct, base.rows,
                                            base.rows, base.data.data(), &index)
                       : ann::TrainIvfIndex(spec, base.dim, ann::Metric::kInnerProduct, base.rows,
                                            base.rows, base.data.data(), options, &index);
        if (!s.ok()) {
          std::fprintf(stderr, "train: %s\n", s.ToString().c_str());
          return 1;
        }
        const double train_s = NowSeconds() - t;
        t = NowSeconds();
        index->Add(base.rows, labels.data(), base.data.data());
        const double fill_s = NowSeconds() - t;
        const double cpu_s = CpuSeconds() - cpu0;
        const ann::IndexStats stats = index->Stats();

        std::vector<Point> sweep;
        std::vector<float> d(queries.rows * k);
        std::vector<int64_t> found(queries.rows * k);
        for (double np : ParseList(nprobes)) {
          const int nprobe = static_cast<int>(np);
          if (nprobe > static_cast<int>(stats.nlist)) break;
          ann::SearchParams params;
          params.nprobe = nprobe;
          t = NowSeconds();
          index->Search(queries.rows, queries.data.data(), k, params, d.data(), found.data());
          const double us = 1e6 * (NowSeconds() - t) / queries.rows;
          const double scanned =
              stats.nlist + nprobe * stats.imbalance * static_cast<double>(base.rows) / stats.nlist;
          sweep.push_back(
              {nprobe, scanned, ann::RecallAtK(queries.rows, k, truth.labels(), found.data()), us});
        }
        char name[64];
        std::snprintf(name, sizeof(name), "f%g/p%g/i%g", factor, ppl, it);
        std::printf("%-16s %5u %4.2f %7.2f %7.2f %7.2f %6.2f", name, stats.nlist, stats.imbalance,
                    train_s, fill_s, cpu_s, train_s + fill_s);
        nlohmann::json row = {{"rows", base.rows},
                              {"dim", base.dim},
                              {"clusters", synth.clusters},
                              {"nlist_factor", factor},
                              {"points_per_list", ppl},
                              {"iters", it},
                              {"nlist", stats.nlist},
                              {"imbalance", stats.imbalance},
                              {"train_s", train_s},
                              {"fill_s", fill_s},
                              {"cpu_s", cpu_s},
                              {"threads", threads}};
        for (double b : budget_list) {
          const double r = RecallAt(sweep, b * base.rows);
          if (r < 0) {
            std::printf("  %-8s", "-");
          } else {
            std::printf("  %-8.4f", r);
          }
          row["recall_at_budget"].push_back({{"scanned", b * base.rows}, {"recall", r}});
        }
        for (double target : target_list) {
          const double n = ScannedFor(sweep, target);
          std::printf("  %-8.0f", n);
          row["scanned_for_recall"].push_back({{"recall", target}, {"scanned", n}});
        }
        std::printf("\n   sweep:");
        for (const Point& p : sweep) {
          std::printf(" np%d=%.0f:%.3f(%.0fus)", p.nprobe, p.scanned, p.recall, p.batch_us);
          row["sweep"].push_back({{"nprobe", p.nprobe},
                                  {"scanned", p.scanned},
                                  {"recall", p.recall},
                                  {"batch_us", p.batch_us}});
        }
        std::printf("\n");
        std::fflush(stdout);
        if (json.is_open()) json << row.dump() << "\n";
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace emberdb::bench

int main(int argc, char** argv) { return emberdb::bench::Run(argc, argv); }
