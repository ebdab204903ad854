// Serving: load, apply, search, stats. Training is in index_training.cc, snapshots in
// index_snapshot.cc.
#include "db/index_manager.h"

#include <malloc.h>

#include <chrono>
#include <cmath>
#include <mutex>

#include "db/catalog.h"
#include "storage/keys.h"
#include "storage/record.h"

namespace emberdb {

using storage::Cf;

void ToIndexSpace(Metric metric, float* v, size_t dim) {
  if (metric != Metric::kCosine) return;
  double norm = 0;
  for (size_t i = 0; i < dim; ++i) norm += double(v[i]) * v[i];
  if (norm == 0) return;
  float inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (size_t i = 0; i < dim; ++i) v[i] *= inv;
}

IndexManager::IndexManager(IndexEnv env, uint32_t cid, std::string collection_name,
                           const CollectionOptions& options)
    : env_(std::move(env)),
      cid_(cid),
      name_(std::move(collection_name)),
      options_(options),
      ann_metric_(options.metric == Metric::kL2 ? ann::Metric::kL2 : ann::Metric::kInnerProduct) {
  if (!ann::IndexSpec::Parse(options.index, &spec_).ok()) spec_.kind = ann::IndexSpec::Kind::kFlat;
  fetcher_ = [this](size_t n, const int64_t* labels, float* out) {
    bool all = false;
    return FetchVectors(n, labels, out, &all).ok() && all;
  };
}

IndexManager::~IndexManager() { Stop(); }

Status IndexManager::ReadCounters(const storage::ReadView* view, Counters* out) const {
  std::string bytes;
  bool found = false;
  EMBERDB_RETURN_IF_ERROR(env_.store->Get(Cf::kDefault, CountersKey(cid_), &bytes, view, &found));
  *out = Counters();
  return found ? DecodeCounters(bytes, out) : Status::OK();
}

uint64_t IndexManager::CurrentSeq() const {
  Counters counters;
  return ReadCounters(nullptr, &counters).ok() ? counters.change_seq : 0;
}

Status IndexManager::ScanVectors(const storage::ReadView* view, double every,
                                 const VectorSink& sink) const {
  const uint32_t dim = options_.dimension;
  constexpr size_t kChunk = 4096;
  std::vector<int64_t> labels;
  std::vector<float> vectors;
  uint64_t i = 0;
  double next = 0;
  auto it = env_.store->NewIterator(Cf::kVectors, storage::CollectionPrefix(cid_), view);
  for (; it->Valid(); it->Next(), ++i) {
    if (stop_) return Status::Aborted("index work cancelled");
    if (every > 1) {
      if (double(i) < next) continue;
      next += every;
    }
    std::string_view k = it->key();
    if (k.size() != 12) return Status::Corruption("malformed vector key");
    labels.push_back(static_cast<int64_t>(storage::ReadU64BE(k.data() + 4)));
    vectors.resize(labels.size() * dim);
    float* v = vectors.data() + vectors.size() - dim;
    EMBERDB_RETURN_IF_ERROR(storage::DecodeVector(it->value(), dim, v));
    ToIndexSpace(options_.metric, v, dim);
    if (labels.size() == kChunk) {
      if (!sink(labels.size(), labels.data(), vectors.data())) return it->status();
      labels.clear();
      vectors.clear();
    }
  }
  EMBERDB_RETURN_IF_ERROR(it->status());
  if (!labels.empty()) sink(labels.size(), labels.data(), vectors.data());
  return Status::OK();
}

Status IndexManager::FetchVectors(size_t n, const int64_t* labels, float* out,
                                  bool* all_found) const {
  const uint32_t dim = options_.dimension;
  std::vector<std::string> keys(n);
  for (size_t i = 0; i < n; ++i)
    keys[i] = storage::LabelKey(cid_, static_cast<uint64_t>(labels[i]));
  std::vector<std::string> values;
  std::vector<bool> found;
  EMBERDB_RETURN_IF_ERROR(env_.store->MultiGet(Cf::kVectors, keys, &values, &found));
  *all_found = true;
  for (size_t i = 0; i < n; ++i) {
    float* v = out + i * dim;
    if (!found[i]) {
      *all_found = false;
      std::fill(v, v + dim, 0.0f);
      continue;
    }
    EMBERDB_RETURN_IF_ERROR(storage::DecodeVector(values[i], dim, v));
    ToIndexSpace(options_.metric, v, dim);
  }
  return Status::OK();
}

Status IndexManager::BuildExact(std::unique_ptr<ann::VectorIndex>* out, uint64_t* seq) {
  auto index = ann::NewFlatIndex(options_.dimension, ann_metric_);
  auto view = env_.store->NewReadView();
  Counters counters;
  EMBERDB_RETURN_IF_ERROR(ReadCounters(view.get(), &counters));
  *seq = counters.change_seq;
  EMBERDB_RETURN_IF_ERROR(
      ScanVectors(view.get(), 1, [&](size_t n, const int64_t* labels, const float* vectors) {
        index->Add(n, labels, vectors);
        return true;
      }));
  *out = std::move(index);
  return Status::OK();
}

Status IndexManager::Load() {
  Stop();
  stop_ = false;
  const uint64_t current = CurrentSeq();
  std::unique_ptr<ann::VectorIndex> index;
  uint64_t trained_at = 0;
  uint64_t seq = current;
  uint64_t snapshot_seq = 0;
  Status s = spec_.kind == ann::IndexSpec::Kind::kFlat
                 ? Status::NotFound("exact index")
                 : LoadSnapshot(current, &index, &trained_at, &snapshot_seq);
  if (!s.ok()) {
    if (!s.IsNotFound()) {
      env_.log->Log("collection '" + name_ + "': " + s.ToString() +
                    "; rebuilding the index from storage");
    }
    trained_at = 0;
    EMBERDB_RETURN_IF_ERROR(BuildExact(&index, &seq));
  }
  std::unique_lock lock(mu_);
  index_ = std::move(index);
  trained_at_ = trained_at;
  applied_seq_ = seq;
  saved_seq_ = trained_at ? snapshot_seq : 0;
  if (!trained_at) TrimChangeLog(seq);  // an exact index is rebuilt from storage, never replayed
  MaybeStartTraining();
  return Status::OK();
}

void IndexManager::Apply(const std::vector<int64_t>& add_labels, const std::vector<float>& vectors,
                         const std::vector<int64_t>& remove_labels, uint64_t seq) {
  std::unique_lock lock(mu_);
  if (!remove_labels.empty()) index_->Remove(remove_labels.size(), remove_labels.data());
  if (!add_labels.empty()) index_->Add(add_labels.size(), add_labels.data(), vectors.data());
  applied_seq_ = seq;
  last_apply_ns_ = std::chrono::steady_clock::now().time_since_epoch().count();
  MaybeStartTraining();
  lock.unlock();
  // Growing lists reallocate, and the buffers they leave stay in the malloc arenas of the
  // threads that freed them (FAISS adds from OpenMP threads). Hand free pages back every few
  // hundred MB of adds, so resident memory follows the index instead of its history.
  added_bytes_ += vectors.size() * sizeof(float);
  if (added_bytes_ >= kTrimEveryBytes) {
    added_bytes_ = 0;
    malloc_trim(0);
  }
}

void IndexManager::Search(size_t nq, const float* queries, size_t k, int nprobe,
                          const ann::LabelFilter* filter, std::vector<float>* distances,
                          std::vector<int64_t>* labels) const {
  distances->assign(nq * k, 0);
  labels->assign(nq * k, -1);
  ann::SearchParams params;
  params.nprobe = nprobe;
  params.filter = filter;
  params.refine = spec_.compressed() ? &fetcher_ : nullptr;
  std::shared_lock lock(mu_);
  index_->Search(nq, queries, k, params, distances->data(), labels->data());
}

int IndexManager::default_nprobe() const {
  std::shared_lock lock(mu_);
  return index_->default_nprobe();
}

void IndexManager::FillStats(CollectionStats* stats) const {
  {
    std::shared_lock lock(mu_);
    ann::IndexStats s = index_->Stats();
    stats->vectors_indexed = s.size;
    stats->index_kind = s.kind;
    stats->nlist = s.nlist;
    stats->list_imbalance = s.imbalance;
    stats->memory_bytes = s.memory_bytes;
    stats->nprobe = index_->default_nprobe();
    stats->trained_at = trained_at_;
  }
  std::lock_guard lock(train_mu_);
  stats->snapshot_pending = training_ && awaiting_save_;
  stats->training = training_ && !awaiting_save_;
}

}  // namespace emberdb
