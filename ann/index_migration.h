// MigratingIndex: serves a collection while its vectors move from the index it had (`from`, one
// that holds exact vectors: Flat or IVF-Flat) into a newly trained one (`to`).
//
// Why: retraining used to fill the new index from storage while the old one kept serving, so
// for a while the process held every vector twice (2x the vectors for IVF-Flat). Moving them
// instead keeps each vector in exactly one of the two indexes, and the old one's memory is
// released list by list as it empties. It also spares reading every vector back from storage.
//
// Invariants: a label is in `from` or in `to`, never both. Adds go to `to` (after removing the
// label from `from`); removes apply to both; searches search both and merge, so results are
// complete at every moment. `from` only shrinks, so repeatedly moving "the first vectors still
// in `from`" ends with it empty.
//
// Moving one chunk (db/ drives this, under its reader/writer lock):
//   1. shared lock:    CopyPending(max, &labels, &vectors)
//   2. no lock:        target().Assign(n, vectors, lists)  -- the expensive part
//   3. exclusive lock: Move(n, labels, vectors, lists)     -- skips labels removed meanwhile
// When pending() is 0, TakeTarget() returns `to`, which then serves alone.
//
// A migrating index cannot be serialized (WritePayload fails): save `to` once it is complete.
#pragma once

#include <memory>
#include <vector>

#include "ann/vector_index.h"

namespace emberdb::ann {

class MigratingIndex final : public VectorIndex {
 public:
  // `from` must hold exact vectors (holds_exact_vectors()) and match `to`'s dimension and
  // metric; `to` is trained and, normally, empty.
  MigratingIndex(std::unique_ptr<VectorIndex> from, std::unique_ptr<VectorIndex> to);

  uint32_t dimension() const override { return to_->dimension(); }
  Metric metric() const override { return to_->metric(); }
  uint64_t size() const override { return from_->size() + to_->size(); }
  bool Contains(int64_t label) const override;

  void Add(size_t n, const int64_t* labels, const float* vectors) override;
  void Remove(size_t n, const int64_t* labels) override;
  void Search(size_t nq, const float* queries, size_t k, const SearchParams& params,
              float* distances, int64_t* labels) const override;

  // The target's stats (kind, nlist, imbalance) with the size and memory of both.
  IndexStats Stats() const override;
  int default_nprobe() const override { return to_->default_nprobe(); }
  void set_default_nprobe(int nprobe) override { to_->set_default_nprobe(nprobe); }
  Status WritePayload(faiss::IOWriter* writer, SnapshotHeader* header) const override;

  // Vectors still to move.
  uint64_t pending() const { return from_->size(); }
  // Step 1: copies up to `max` vectors still in `from`; returns how many.
  size_t CopyPending(size_t max, std::vector<int64_t>* labels, std::vector<float>* vectors) const;
  // The index being filled, for step 2 (Assign is safe without the lock; see VectorIndex).
  const VectorIndex& target() const { return *to_; }
  // Step 3: moves the copied vectors whose labels are still in `from` (a label removed or
  // replaced since the copy is already gone from `from`, or newer in `to`) into `to`.
  void Move(size_t n, const int64_t* labels, const float* vectors, const int64_t* lists);
  // Ends the migration (pending() must be 0) and hands back the new index.
  std::unique_ptr<VectorIndex> TakeTarget();

 private:
  std::unique_ptr<VectorIndex> from_;
  std::unique_ptr<VectorIndex> to_;
};

}  // namespace emberdb::ann
