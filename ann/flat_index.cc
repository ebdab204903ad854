#include "ann/flat_index.h"

#include <faiss/impl/io.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "ann/index_snapshot.h"
#include "ann/kernel_gemm.h"
#include "ann/search_driver.h"

namespace emberdb::ann {
namespace {

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
      // Growing into released pages brings them back.
      released_from_ =
          std::max(released_from_, reinterpret_cast<uintptr_t>(vectors_.data() + vectors_.size()));
    } else {
      std::copy(v, v + dim_, vectors_.begin() + it->second * dim_);
    }
  }
}

size_t FlatIndex::CopyVectors(size_t max, std::vector<int64_t>* labels,
                              std::vector<float>* vectors) const {
  // From the last slot backwards: removing them in this order (a retrain moving the vectors
  // out) only shortens the arrays, where taking the first slots made Remove move the tail into
  // every hole, a second copy of everything moved.
  const size_t n = std::min(max, labels_.size());
  const size_t end = labels_.size();
  labels->reserve(labels->size() + n);
  vectors->reserve(vectors->size() + n * dim_);
  for (size_t slot = end; slot-- > end - n;) {
    labels->push_back(labels_[slot]);
    vectors->insert(vectors->end(), vectors_.begin() + slot * dim_,
                    vectors_.begin() + (slot + 1) * dim_);
  }
  return n;
}

size_t FlatIndex::SampleVectors(size_t n, std::vector<float>* vectors) const {
  const size_t size = labels_.size();
  n = std::min(n, size);
  vectors->reserve(vectors->size() + n * dim_);
  for (size_t i = 0; i < n; ++i) {
    const size_t slot = i * size / n;
    vectors->insert(vectors->end(), vectors_.begin() + slot * dim_,
                    vectors_.begin() + (slot + 1) * dim_);
  }
  return n;
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
  ReleaseTail();
}

// Remove shrinks vectors_ without freeing it (std::vector keeps its capacity), so an index
// emptied by deletes, or by a retrain moving every vector out (ann/index_migration.h), would
// stay resident until destroyed: the process would hold the collection twice. MADV_DONTNEED on
// whole pages inside our own allocation and past the last element is safe: those bytes hold no
// object, and an Add that grows into them writes them again (the kernel supplies zero pages).
void FlatIndex::ReleaseTail() {
  constexpr uintptr_t kMinRelease = uintptr_t{4} << 20;  // not for every single delete
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto address = [&](size_t floats) {
    return reinterpret_cast<uintptr_t>(vectors_.data() + floats);
  };
  const uintptr_t begin = (address(vectors_.size()) + page - 1) / page * page;
  const uintptr_t end = address(vectors_.capacity()) / page * page;
  if (vectors_.data() != released_buffer_) {
    released_buffer_ = vectors_.data();
    released_from_ = end;
  }
  released_from_ = std::min(released_from_, end);  // never past this allocation
  if (released_from_ > begin && released_from_ - begin >= kMinRelease) {
    ::madvise(reinterpret_cast<void*>(begin), released_from_ - begin, MADV_DONTNEED);
    released_from_ = begin;
  }
}

void FlatIndex::ScanPass(size_t nq, const float* queries, size_t kk, const LabelFilter* filter,
                         float* distances, int64_t* labels) const {
  ExactTopK(metric_, nq, queries, vectors_.data(), labels_.data(), labels_.size(), dim_, filter, kk,
            distances, labels);
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
