#include "bench_runners.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexScalarQuantizer.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <span>
#include <thread>

#include "bench_bandwidth.h"
#include "emberdb/db.h"

namespace emberdb::bench {
namespace {

// Times `single` over the first latency_queries queries and `batch` over all of them; both
// write k labels per query into the given row(s).
SweepPoint Sweep(const BenchConfig& config, int nprobe, const Matrix& queries,
                 const GroundTruth& truth,
                 const std::function<void(size_t q, int64_t* labels)>& single,
                 const std::function<void(int64_t* labels)>& batch) {
  const size_t k = config.k;
  const size_t nq = queries.rows;
  SweepPoint p;
  p.nprobe = nprobe;
  std::vector<int64_t> found(nq * k, -1);
  std::vector<double> latency;
  const size_t timed = std::min(nq, config.latency_queries);
  const double cpu_single = CpuSeconds();
  for (size_t q = 0; q < timed; ++q) {
    const double t = NowSeconds();
    single(q, found.data() + q * k);
    latency.push_back((NowSeconds() - t) * 1e6);
  }
  if (timed > 0) p.single_cpu_us = (CpuSeconds() - cpu_single) * 1e6 / timed;
  std::vector<int64_t> batch_found(nq * k, -1);
  const double cpu_batch = CpuSeconds();
  const double t = NowSeconds();
  batch(batch_found.data());
  const double batch_s = NowSeconds() - t;
  if (nq > 0) p.batch_cpu_us = (CpuSeconds() - cpu_batch) * 1e6 / nq;
  p.batch_qps = batch_s > 0 ? static_cast<double>(nq) / batch_s : 0;
  // Recall from the batch results (all queries); single-query results agree with them.
  p.recall1 = RecallAt(truth, 1, batch_found, k);
  p.recall5 = RecallAt(truth, std::min<size_t>(5, k), batch_found, k);
  p.recall10 = RecallAt(truth, std::min<size_t>(10, k), batch_found, k);
  p.p50_us = Quantile(latency, 0.50);
  p.p99_us = Quantile(latency, 0.99);
  double sum = 0;
  for (double l : latency) sum += l;
  p.mean_us = latency.empty() ? 0 : sum / latency.size();
  return p;
}

}  // namespace

Status RunEngine(const BenchConfig& config, const Matrix& base, const Matrix& queries,
                 const GroundTruth& truth, SystemReport* out) {
  SystemReport report;
  report.build.system = "engine";
  std::filesystem::remove_all(config.db_dir);
  Options options;
  options.threads = config.threads;
  if (config.malloc_mmap_threshold >= 0) {
    options.malloc_mmap_threshold = static_cast<size_t>(config.malloc_mmap_threshold);
  }
  std::unique_ptr<DB> db;
  EMBERDB_RETURN_IF_ERROR(DB::Open(config.db_dir, options, &db));
  CollectionOptions copt;
  copt.dimension = base.dim;
  copt.metric = Metric::kCosine;
  copt.index = config.index;
  copt.train_threshold = config.train_threshold;
  std::shared_ptr<Collection> coll;
  EMBERDB_RETURN_IF_ERROR(db->CreateCollection("bench", copt, &coll));

  const bool with_bucket = !config.filter_cases.empty();
  double t = NowSeconds();
  std::vector<Document> docs;
  for (size_t start = 0; start < base.rows; start += config.batch) {
    const size_t end = std::min(base.rows, start + config.batch);
    docs.clear();
    for (size_t i = start; i < end; ++i)
      docs.push_back(DocumentOfRow(base, i, with_bucket, config.text_bytes));
    EMBERDB_RETURN_IF_ERROR(coll->Add(docs).WithContext("Add"));
  }
  report.build.ingest_s = NowSeconds() - t;
  // Training time is until the final index serves every vector; the snapshot written after
  // it (WaitForIndex) is reported apart: it is persistence, bound by the disk.
  t = NowSeconds();
  double cpu = CpuSeconds();
  CollectionStats stats;
  for (;;) {
    EMBERDB_RETURN_IF_ERROR(coll->Stats(&stats));
    const bool final_index = stats.trained_at > 0 && stats.documents < 4 * stats.trained_at;
    const bool idle = !stats.training && !stats.snapshot_pending;  // no training at all
    if ((final_index && stats.vectors_pending == 0) || idle) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  report.build.train_s = NowSeconds() - t;
  report.build.train_cpu_s = CpuSeconds() - cpu;
  const double serving = NowSeconds();
  EMBERDB_RETURN_IF_ERROR(coll->WaitForIndex());
  report.build.save_s = NowSeconds() - serving;
  report.build.note = "train: until the final index serves every vector, then " +
                      std::to_string(report.build.save_s).substr(0, 5) +
                      " s more for WaitForIndex (snapshot written and synced)";
  EMBERDB_RETURN_IF_ERROR(coll->Stats(&stats));
  report.build.kind = stats.index_kind;
  report.build.nlist = stats.nlist;
  report.build.imbalance = stats.list_imbalance;
  report.build.trained_at = stats.trained_at;
  report.build.memory_bytes = stats.memory_bytes;
  report.build.rss_bytes = CurrentRssBytes();

  const size_t k = config.k;
  Status failure;
  for (int nprobe : config.nprobes) {
    QueryOptions qo;
    qo.k = k;
    qo.include = kIncludeDefault;  // text and metadata, as a RAG caller asks
    qo.nprobe = nprobe;
    std::vector<Hit> hits;
    std::vector<std::vector<Hit>> batch_hits;
    auto single = [&](size_t q, int64_t* labels) {
      Status s = coll->Query(std::span<const float>(queries.row(q), queries.dim), qo, &hits);
      if (!s.ok()) failure = s;
      for (size_t j = 0; j < hits.size() && j < k; ++j) labels[j] = RowOfDocumentId(hits[j].id);
    };
    auto batch = [&](int64_t* labels) {
      Status s = coll->QueryBatch(std::span<const float>(queries.data), qo, &batch_hits);
      if (!s.ok()) failure = s;
      for (size_t q = 0; q < batch_hits.size(); ++q) {
        for (size_t j = 0; j < batch_hits[q].size() && j < k; ++j) {
          labels[q * k + j] = RowOfDocumentId(batch_hits[q][j].id);
        }
      }
    };
    report.sweep.push_back(Sweep(config, nprobe, queries, truth, single, batch));
    EMBERDB_RETURN_IF_ERROR(failure.WithContext("Query"));
  }
  EMBERDB_RETURN_IF_ERROR(RunFilteredSweep(
      *coll, queries, k, config.filter_nprobes.empty() ? config.nprobes : config.filter_nprobes,
      config.filter_cases, &report.filtered));
  coll.reset();
  EMBERDB_RETURN_IF_ERROR(db->Close());
  db.reset();
  report.build.disk_bytes = DirectoryBytes(config.db_dir);
  report.build.peak_rss_bytes = PeakRssBytes();
  if (!config.keep_db) std::filesystem::remove_all(config.db_dir);
  *out = std::move(report);
  return Status::OK();
}

Status RunAnn(const BenchConfig& config, uint32_t nlist, const Matrix& base, const Matrix& queries,
              const GroundTruth& truth, SystemReport* out) {
  SystemReport report;
  report.build.system = "ann";
  ann::IndexSpec spec;
  EMBERDB_RETURN_IF_ERROR(ann::IndexSpec::Parse(config.index, &spec));
  if (spec.nlist == 0 && spec.kind != ann::IndexSpec::Kind::kFlat) spec.nlist = nlist;
  std::unique_ptr<ann::VectorIndex> index;
  double t = NowSeconds();
  const double cpu = CpuSeconds();
  if (spec.kind == ann::IndexSpec::Kind::kFlat) {
    index = ann::NewFlatIndex(base.dim, ann::Metric::kInnerProduct);
  } else {
    EMBERDB_RETURN_IF_ERROR(ann::TrainIvfIndex(spec, base.dim, ann::Metric::kInnerProduct,
                                               base.rows, base.rows, base.data.data(), config.train,
                                               &index));
  }
  report.build.train_s = NowSeconds() - t;
  report.build.train_cpu_s = CpuSeconds() - cpu;
  std::vector<int64_t> labels(base.rows);
  for (size_t i = 0; i < base.rows; ++i) labels[i] = static_cast<int64_t>(i);
  t = NowSeconds();
  index->Add(base.rows, labels.data(), base.data.data());
  report.build.ingest_s = NowSeconds() - t;
  const ann::IndexStats stats = index->Stats();
  report.build.kind = stats.kind;
  report.build.nlist = stats.nlist;
  report.build.imbalance = stats.imbalance;
  report.build.memory_bytes = stats.memory_bytes;
  std::string snapshot;
  EMBERDB_RETURN_IF_ERROR(index->Serialize(&snapshot));
  report.build.disk_bytes = snapshot.size();
  snapshot = std::string();
  report.build.rss_bytes = CurrentRssBytes();

  // Compressed kinds re-rank with exact vectors, as the engine does.
  const ann::VectorFetcher fetch = [&base](size_t n, const int64_t* ids, float* dst) {
    for (size_t i = 0; i < n; ++i) {
      if (ids[i] < 0 || static_cast<size_t>(ids[i]) >= base.rows) return false;
      std::copy_n(base.row(ids[i]), base.dim, dst + i * base.dim);
    }
    return true;
  };
  const size_t k = config.k;
  std::vector<float> d(queries.rows * k);
  for (int nprobe : config.nprobes) {
    ann::SearchParams params;
    params.nprobe = nprobe;
    if (spec.compressed()) params.refine = &fetch;
    auto single = [&](size_t q, int64_t* l) {
      index->Search(1, queries.row(q), k, params, d.data(), l);
    };
    auto batch = [&](int64_t* l) {
      index->Search(queries.rows, queries.data.data(), k, params, d.data(), l);
    };
    report.sweep.push_back(Sweep(config, nprobe, queries, truth, single, batch));
  }
  report.build.peak_rss_bytes = PeakRssBytes();
  *out = std::move(report);
  return Status::OK();
}

Status RunFaiss(const BenchConfig& config, uint32_t nlist, const Matrix& base,
                const Matrix& queries, const GroundTruth& truth, SystemReport* out) {
  SystemReport report;
  report.build.system = "faiss";
  ann::IndexSpec spec;
  EMBERDB_RETURN_IF_ERROR(ann::IndexSpec::Parse(config.index, &spec));
  if (spec.kind == ann::IndexSpec::Kind::kFlat) {
    return Status::NotSupported("raw FAISS comparison is for IVF kinds");
  }
  if (spec.nlist != 0) nlist = spec.nlist;
  if (nlist == 0) {
    nlist = static_cast<uint32_t>(std::clamp<double>(
        std::round(4 * std::sqrt(static_cast<double>(base.rows))), 16, base.rows / 39.0));
  }
  const uint32_t d = base.dim;
  auto* quantizer = new faiss::IndexFlatIP(d);
  std::unique_ptr<faiss::IndexIVF> index;
  switch (spec.kind) {
    case ann::IndexSpec::Kind::kIvfSq8:
      index = std::make_unique<faiss::IndexIVFScalarQuantizer>(
          quantizer, d, nlist, faiss::ScalarQuantizer::QT_8bit, faiss::METRIC_INNER_PRODUCT);
      break;
    case ann::IndexSpec::Kind::kIvfPq:
      index = std::make_unique<faiss::IndexIVFPQ>(quantizer, d, nlist, spec.pq_m, 8,
                                                  faiss::METRIC_INNER_PRODUCT);
      break;
    default:
      index =
          std::make_unique<faiss::IndexIVFFlat>(quantizer, d, nlist, faiss::METRIC_INNER_PRODUCT);
  }
  index->own_fields = true;
  index->cp.spherical = true;  // FAISS's default for inner product too
  report.build.note = "FAISS's default training: " + std::to_string(index->cp.niter) +
                      " k-means iterations, at most " +
                      std::to_string(index->cp.max_points_per_centroid) + " points per list";
  if (config.faiss_train_like_ann) {
    report.build.note = "ann's training settings";
    // ann/'s budget: FAISS subsamples to points_per_list * nlist itself.
    index->cp.niter = config.train.kmeans_iterations;
    index->cp.max_points_per_centroid = static_cast<int>(config.train.points_per_list);
  }
  double t = NowSeconds();
  const double cpu = CpuSeconds();
  try {
    index->train(static_cast<faiss::Index::idx_t>(base.rows), base.data.data());
    report.build.train_s = NowSeconds() - t;
    report.build.train_cpu_s = CpuSeconds() - cpu;
    t = NowSeconds();
    index->add(static_cast<faiss::Index::idx_t>(base.rows), base.data.data());
    report.build.ingest_s = NowSeconds() - t;
  } catch (const std::exception& e) {
    return Status::Aborted(std::string("FAISS: ") + e.what());
  }
  report.build.kind = "IVF" + std::to_string(nlist) + "," +
                      ann::IndexSpec{spec.kind, 0, spec.pq_m}.ToString().substr(4);
  report.build.nlist = nlist;
  report.build.imbalance = index->invlists->imbalance_factor();
  report.build.memory_bytes =
      index->ntotal * (index->code_size + sizeof(faiss::Index::idx_t)) + nlist * d * 4;
  report.build.rss_bytes = CurrentRssBytes();
  const size_t k = config.k;
  std::vector<float> dist(queries.rows * k);
  for (int nprobe : config.nprobes) {
    index->nprobe = static_cast<size_t>(std::min<int>(nprobe, static_cast<int>(nlist)));
    auto single = [&](size_t q, int64_t* l) {
      index->search(1, queries.row(q), k, dist.data(), l);
    };
    auto batch = [&](int64_t* l) {
      index->search(static_cast<faiss::Index::idx_t>(queries.rows), queries.data.data(), k,
                    dist.data(), l);
    };
    report.sweep.push_back(Sweep(config, nprobe, queries, truth, single, batch));
    report.sweep.back().scan_bytes = MeasureScanBytes(*index, queries, nprobe);
    report.sweep.back().scan_bytes_exact = report.sweep.back().scan_bytes > 0;
  }
  report.build.peak_rss_bytes = PeakRssBytes();
  *out = std::move(report);
  return Status::OK();
}

}  // namespace emberdb::bench
