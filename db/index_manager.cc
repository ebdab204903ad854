#include "db/index_manager.h"

#include <cmath>
#include <mutex>

#include "storage/keys.h"
#include "storage/record.h"

namespace emberdb {

void ToIndexSpace(Metric metric, float* v, size_t dim) {
  if (metric != Metric::kCosine) return;
  double norm = 0;
  for (size_t i = 0; i < dim; ++i) norm += double(v[i]) * v[i];
  if (norm == 0) return;
  float inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (size_t i = 0; i < dim; ++i) v[i] *= inv;
}

IndexManager::IndexManager(std::shared_ptr<storage::Store> store, uint32_t cid,
                           const CollectionOptions& options)
    : store_(std::move(store)),
      cid_(cid),
      options_(options),
      ann_metric_(options.metric == Metric::kL2 ? ann::Metric::kL2 : ann::Metric::kInnerProduct) {}

IndexManager::~IndexManager() = default;

Status IndexManager::Load() {
  const uint32_t dim = options_.dimension;
  auto index = ann::NewFlatIndex(dim, ann_metric_);
  auto view = store_->NewReadView();
  auto it = store_->NewIterator(storage::Cf::kVectors, storage::CollectionPrefix(cid_), view.get());
  constexpr size_t kChunk = 4096;
  std::vector<int64_t> labels;
  std::vector<float> vectors;
  labels.reserve(kChunk);
  vectors.reserve(kChunk * dim);
  auto flush = [&] {
    index->Add(labels.size(), labels.data(), vectors.data());
    labels.clear();
    vectors.clear();
  };
  for (; it->Valid(); it->Next()) {
    std::string_view key = it->key();
    if (key.size() != 12) return Status::Corruption("malformed vector key");
    labels.push_back(static_cast<int64_t>(storage::ReadU64BE(key.data() + 4)));
    vectors.resize(labels.size() * dim);
    float* v = vectors.data() + (labels.size() - 1) * dim;
    EMBERDB_RETURN_IF_ERROR(storage::DecodeVector(it->value(), dim, v));
    ToIndexSpace(options_.metric, v, dim);
    if (labels.size() == kChunk) flush();
  }
  EMBERDB_RETURN_IF_ERROR(it->status());
  if (!labels.empty()) flush();
  std::unique_lock lock(mu_);
  index_ = std::move(index);
  return Status::OK();
}

void IndexManager::Apply(const std::vector<int64_t>& add_labels, const std::vector<float>& vectors,
                         const std::vector<int64_t>& remove_labels) {
  std::unique_lock lock(mu_);
  if (!remove_labels.empty()) index_->Remove(remove_labels.size(), remove_labels.data());
  if (!add_labels.empty()) index_->Add(add_labels.size(), add_labels.data(), vectors.data());
}

void IndexManager::Search(size_t nq, const float* queries, size_t k, int nprobe,
                          const ann::LabelFilter* filter, std::vector<float>* distances,
                          std::vector<int64_t>* labels) const {
  distances->assign(nq * k, 0);
  labels->assign(nq * k, -1);
  ann::SearchParams params;
  params.nprobe = nprobe;
  params.filter = filter;
  std::shared_lock lock(mu_);
  index_->Search(nq, queries, k, params, distances->data(), labels->data());
}

uint64_t IndexManager::size() const {
  std::shared_lock lock(mu_);
  return index_->size();
}

void IndexManager::FillStats(CollectionStats* stats) const {
  std::shared_lock lock(mu_);
  ann::IndexStats s = index_->Stats();
  stats->vectors_indexed = s.size;
  stats->index_kind = s.kind;
  stats->nlist = s.nlist;
  stats->list_imbalance = s.imbalance;
  stats->memory_bytes = s.memory_bytes;
  stats->nprobe = index_->default_nprobe();
}

void IndexManager::Wait() {}

}  // namespace emberdb
