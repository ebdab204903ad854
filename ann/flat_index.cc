#include "ann/flat_index.h"

#include <faiss/impl/io.h>
#include <faiss/utils/distances.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "ann/index_snapshot.h"
#include "ann/scan_kernels.h"
#include "ann/search_driver.h"

namespace emberdb::ann {
namespace {

// FAISS switches its brute-force search to BLAS from this many queries
// (faiss::distance_compute_blas_threshold).
constexpr size_t kBlasMinQueries = 20;

// Within one Add call the last occurrence of a label wins; returns the positions to keep.
std::vector<size_t> LastOccurrences(size_t n, const int64_t* labels) {
  std::unordered_map<int64_t, size_t> last;
  last.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (labels[i] >= 0) last[labels[i]] = i;
  }
  std::vector<size_t> keep;
  keep.reserve(last.size());
  for (size_t i = 0; i < n; ++i) {
    if (labels[i] >= 0 && last[labels[i]] == i) keep.push_back(i);
  }
  return keep;
}

}  // namespace

void FlatIndex::Add(size_t n, const int64_t* labels, const float* vectors) {
  for (size_t i : LastOccurrences(n, labels)) {
    const float* v = vectors + i * dim_;
    auto [it, inserted] = slots_.try_emplace(labels[i], labels_.size());
    if (inserted) {
      labels_.push_back(labels[i]);
      vectors_.insert(vectors_.end(), v, v + dim_);
    } else {
      std::copy(v, v + dim_, vectors_.begin() + it->second * dim_);
    }
  }
}

void FlatIndex::Remove(size_t n, const int64_t* labels) {
  for (size_t i = 0; i < n; ++i) {
    auto it = slots_.find(labels[i]);
    if (it == slots_.end()) continue;
    const size_t hole = it->second;
    const size_t last = labels_.size() - 1;
    slots_.erase(it);
    if (hole != last) {
      std::copy(vectors_.begin() + last * dim_, vectors_.begin() + (last + 1) * dim_,
                vectors_.begin() + hole * dim_);
      labels_[hole] = labels_[last];
      slots_[labels_[hole]] = hole;
    }
    labels_.pop_back();
    vectors_.resize(last * dim_);
  }
}

void FlatIndex::ScanPass(size_t nq, const float* queries, size_t kk, const LabelFilter* filter,
                         float* distances, int64_t* labels) const {
  const size_t ny = labels_.size();
  // Few queries, or a filter (FAISS's filtered path is its scalar per-query scan): our SIMD
  // kernels. Batches: FAISS's BLAS path.
  if (nq < kBlasMinQueries || filter != nullptr) {
    ScanTopK(metric_, nq, queries, vectors_.data(), labels_.data(), ny, dim_, filter, kk, distances,
             labels);
    return;
  }
  const size_t kf = std::min(kk, ny);  // FAISS gets no more than it can fill
  std::vector<float> d(nq * kf);
  std::vector<int64_t> slot(nq * kf);
  if (kf > 0) {
    if (metric_ == Metric::kL2) {
      faiss::knn_L2sqr(queries, vectors_.data(), dim_, nq, ny, kf, d.data(), slot.data());
    } else {
      faiss::knn_inner_product(queries, vectors_.data(), dim_, nq, ny, kf, d.data(), slot.data());
    }
  }
  for (size_t q = 0; q < nq; ++q) {
    for (size_t j = 0; j < kk; ++j) {
      const size_t out = q * kk + j;
      const int64_t s = j < kf ? slot[q * kf + j] : -1;
      if (s < 0 || static_cast<size_t>(s) >= ny) {
        labels[out] = -1;
        distances[out] = std::numeric_limits<float>::infinity();
      } else {
        labels[out] = labels_[s];
        const float raw = d[q * kf + j];
        distances[out] = metric_ == Metric::kL2 ? raw : -raw;
      }
    }
  }
}

void FlatIndex::Search(size_t nq, const float* queries, size_t k, const SearchParams& params,
                       float* distances, int64_t* labels) const {
  SearchPlan plan;
  plan.k_out = k;
  plan.k_needed = k;
  plan.index_size = size();
  plan.filtered = params.filter != nullptr;
  const LabelFilter* filter = params.filter;
  RunSearch([&](size_t n, const float* q, size_t kk, int, float* d,
                int64_t* l) { ScanPass(n, q, kk, filter, d, l); },
            dim_, nq, queries, plan, distances, labels);
}

IndexStats FlatIndex::Stats() const {
  IndexStats stats;
  stats.kind = "Flat";
  stats.size = size();
  // Vectors and labels, plus roughly 40 bytes per hash-map node and bucket.
  stats.memory_bytes = vectors_.capacity() * sizeof(float) + labels_.capacity() * sizeof(int64_t) +
                       slots_.size() * 40 + slots_.bucket_count() * sizeof(void*);
  return stats;
}

Status FlatIndex::WritePayload(faiss::IOWriter* writer, SnapshotHeader* header) const {
  const uint64_t n = labels_.size();
  // A short write (the writer's own Status says why) is the only failure.
  if ((*writer)(&n, sizeof(n), 1) != 1 || (*writer)(labels_.data(), sizeof(int64_t), n) != n ||
      (*writer)(vectors_.data(), sizeof(float), vectors_.size()) != vectors_.size()) {
    return Status::IOError("writing the flat index payload failed");
  }
  header->kind = IndexSpec::Kind::kFlat;
  header->metric = metric_;
  header->dim = dim_;
  header->nlist = 0;
  header->pq_m = 0;
  header->default_nprobe = 0;
  return Status::OK();
}

Status FlatIndex::ReadPayload(uint32_t dim, Metric metric, std::string_view payload,
                              std::unique_ptr<VectorIndex>* out) {
  uint64_t n = 0;
  if (payload.size() < sizeof(n)) return Status::Corruption("flat index payload too short");
  std::memcpy(&n, payload.data(), sizeof(n));
  const uint64_t per_vector = sizeof(int64_t) + uint64_t{dim} * sizeof(float);
  if (n > (payload.size() - sizeof(n)) / per_vector ||
      payload.size() != sizeof(n) + n * per_vector) {
    return Status::Corruption("flat index payload length " + std::to_string(payload.size()) +
                              " does not match " + std::to_string(n) + " vectors of dimension " +
                              std::to_string(dim));
  }
  auto index = std::make_unique<FlatIndex>(dim, metric);
  index->labels_.resize(n);
  index->vectors_.resize(n * dim);
  const char* p = payload.data() + sizeof(n);
  if (n > 0) {
    std::memcpy(index->labels_.data(), p, n * sizeof(int64_t));
    std::memcpy(index->vectors_.data(), p + n * sizeof(int64_t), n * dim * sizeof(float));
  }
  index->slots_.reserve(n);
  for (size_t s = 0; s < n; ++s) {
    const int64_t label = index->labels_[s];
    if (label < 0 || !index->slots_.emplace(label, s).second) {
      return Status::Corruption("flat index payload has a negative or repeated label " +
                                std::to_string(label));
    }
  }
  *out = std::move(index);
  return Status::OK();
}

std::unique_ptr<VectorIndex> NewFlatIndex(uint32_t dim, Metric metric) {
  return std::make_unique<FlatIndex>(dim, metric);
}

}  // namespace emberdb::ann
