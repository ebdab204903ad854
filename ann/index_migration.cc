#include "ann/index_migration.h"

#include <limits>

namespace emberdb::ann {

MigratingIndex::MigratingIndex(std::unique_ptr<VectorIndex> from, std::unique_ptr<VectorIndex> to)
    : from_(std::move(from)), to_(std::move(to)) {}

bool MigratingIndex::Contains(int64_t label) const {
  return from_->Contains(label) || to_->Contains(label);
}

void MigratingIndex::Add(size_t n, const int64_t* labels, const float* vectors) {
  // A replaced label must leave `from`, or it would be found twice.
  from_->Remove(n, labels);
  to_->Add(n, labels, vectors);
}

void MigratingIndex::Remove(size_t n, const int64_t* labels) {
  from_->Remove(n, labels);
  to_->Remove(n, labels);
}

void MigratingIndex::Search(size_t nq, const float* queries, size_t k, const SearchParams& params,
                            float* distances, int64_t* labels) const {
  if (from_->size() == 0 || k == 0) {
    to_->Search(nq, queries, k, params, distances, labels);
    return;
  }
  std::vector<float> d_from(nq * k), d_to(nq * k);
  std::vector<int64_t> l_from(nq * k), l_to(nq * k);
  from_->Search(nq, queries, k, params, d_from.data(), l_from.data());
  to_->Search(nq, queries, k, params, d_to.data(), l_to.data());
  // Both rows are ordered by (distance, label) with -1 padding at the end, and no label is in
  // both indexes: a merge of the two keeps that order.
  auto before = [](float da, int64_t la, float db, int64_t lb) {
    if (lb < 0) return la >= 0;
    if (la < 0) return false;
    return da < db || (da == db && la < lb);
  };
  for (size_t q = 0; q < nq; ++q) {
    const size_t row = q * k;
    size_t i = 0, j = 0;
    for (size_t r = 0; r < k; ++r) {
      const bool take_from = before(d_from[row + i], l_from[row + i], d_to[row + j], l_to[row + j]);
      const float d = take_from ? d_from[row + i] : d_to[row + j];
      const int64_t l = take_from ? l_from[row + i] : l_to[row + j];
      if (l < 0) {
        distances[row + r] = std::numeric_limits<float>::infinity();
        labels[row + r] = -1;
        continue;
      }
      distances[row + r] = d;
      labels[row + r] = l;
      take_from ? ++i : ++j;
    }
  }
}

IndexStats MigratingIndex::Stats() const {
  IndexStats stats = to_->Stats();
  stats.size = size();
  stats.memory_bytes += from_->Stats().memory_bytes;
  return stats;
}

Status MigratingIndex::WritePayload(faiss::IOWriter*, SnapshotHeader*) const {
  return Status::NotSupported("the index is being retrained; save the new index when complete");
}

size_t MigratingIndex::CopyPending(size_t max, std::vector<int64_t>* labels,
                                   std::vector<float>* vectors) const {
  return from_->CopyVectors(max, labels, vectors);
}

void MigratingIndex::Move(size_t n, const int64_t* labels, const float* vectors,
                          const int64_t* lists) {
  const size_t dim = dimension();
  size_t present = 0;
  for (size_t i = 0; i < n; ++i) present += from_->Contains(labels[i]) ? 1 : 0;
  if (present == n) {  // the usual case: nothing written to these labels since the copy
    // Remove first: `from` releases its storage as it empties, so the two together never hold
    // much more than one copy.
    from_->Remove(n, labels);
    to_->AddAssigned(n, labels, vectors, lists);
    return;
  }
  std::vector<int64_t> keep_labels, keep_lists;
  std::vector<float> keep_vectors;
  keep_labels.reserve(n);
  keep_lists.reserve(n);
  keep_vectors.reserve(n * dim);
  for (size_t i = 0; i < n; ++i) {
    if (!from_->Contains(labels[i])) continue;  // removed or replaced since the copy
    keep_labels.push_back(labels[i]);
    keep_lists.push_back(lists[i]);
    keep_vectors.insert(keep_vectors.end(), vectors + i * dim, vectors + (i + 1) * dim);
  }
  if (keep_labels.empty()) return;
  from_->Remove(keep_labels.size(), keep_labels.data());
  to_->AddAssigned(keep_labels.size(), keep_labels.data(), keep_vectors.data(), keep_lists.data());
}

std::unique_ptr<VectorIndex> MigratingIndex::TakeTarget() {
  from_.reset();
  return std::move(to_);
}

}  // namespace emberdb::ann
