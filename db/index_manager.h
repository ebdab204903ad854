// IndexManager: the in-memory search index of one collection, derived from the vectors in
// storage (the source of truth) and kept in step with every committed write.
//
// Concurrency: searches take the index lock shared; applying a committed write takes it
// exclusively for the few microseconds of the add/remove. Training (issue: IVF lifecycle) builds
// a new index off to the side and swaps it in under the exclusive lock.
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <vector>

#include "ann/vector_index.h"
#include "emberdb/db.h"
#include "storage/store.h"

namespace emberdb {

class IndexManager {
 public:
  IndexManager(std::shared_ptr<storage::Store> store, uint32_t cid,
               const CollectionOptions& options);
  ~IndexManager();

  // Builds the index from the vectors in storage.
  Status Load();

  // Applies a write that storage has committed. `vectors` are in index space (normalised for
  // cosine), add_labels.size() * dimension floats.
  void Apply(const std::vector<int64_t>& add_labels, const std::vector<float>& vectors,
             const std::vector<int64_t>& remove_labels);

  // k nearest labels per query, in ann distance space (see ann/vector_index.h), label -1 where
  // fewer than k exist.
  void Search(size_t nq, const float* queries, size_t k, int nprobe, const ann::LabelFilter* filter,
              std::vector<float>* distances, std::vector<int64_t>* labels) const;

  uint64_t size() const;
  void FillStats(CollectionStats* stats) const;
  // Waits for background index work to finish.
  void Wait();

  ann::Metric ann_metric() const { return ann_metric_; }

 private:
  std::shared_ptr<storage::Store> store_;
  uint32_t cid_;
  CollectionOptions options_;
  ann::Metric ann_metric_;

  mutable std::shared_mutex mu_;
  std::unique_ptr<ann::VectorIndex> index_;
};

// Converts a vector to index space: a unit vector under cosine, unchanged otherwise.
void ToIndexSpace(Metric metric, float* v, size_t dim);

}  // namespace emberdb
