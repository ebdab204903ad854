// IvfIndex: FAISS IndexIVFFlat / IndexIVFScalarQuantizer (QT_8bit) / IndexIVFPQ (8-bit codes)
// over a flat coarse quantizer, with a hash-table direct map so that Remove and replacement
// touch only the affected entries.
#pragma once

#include <faiss/IndexIVF.h>
#include <faiss/impl/io.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ann/centroid_sketch.h"
#include "ann/index_snapshot.h"
#include "ann/vector_index.h"

namespace emberdb::ann {

inline faiss::MetricType ToFaiss(Metric m) {
  return m == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
}

class IvfIndex final : public VectorIndex {
 public:
  // Takes a trained FAISS index whose direct map is a hash table. `spec.nlist` is the real one.
  IvfIndex(const IndexSpec& spec, Metric metric, std::unique_ptr<faiss::IndexIVF> index,
           int default_nprobe);

  uint32_t dimension() const override { return static_cast<uint32_t>(index_->d); }
  Metric metric() const override { return metric_; }
  uint64_t size() const override { return static_cast<uint64_t>(index_->ntotal); }
  bool Contains(int64_t label) const override;

  void Add(size_t n, const int64_t* labels, const float* vectors) override;
  void Remove(size_t n, const int64_t* labels) override;
  bool holds_exact_vectors() const override { return spec_.kind == IndexSpec::Kind::kIvfFlat; }
  // IVF-Flat only: whole lists in list order (the last one possibly cut at `max`).
  size_t CopyVectors(size_t max, std::vector<int64_t>* labels,
                     std::vector<float>* vectors) const override;
  // IVF-Flat only: positions evenly spaced over the lists in list order.
  size_t SampleVectors(size_t n, std::vector<float>* vectors) const override;
  void Assign(size_t n, const float* vectors, int64_t* lists) const override;
  void AddAssigned(size_t n, const int64_t* labels, const float* vectors,
                   const int64_t* lists) override;
  size_t ReleaseSpareCapacity(size_t cursor) override;  // 64 lists a call
  void Search(size_t nq, const float* queries, size_t k, const SearchParams& params,
              float* distances, int64_t* labels) const override;

  IndexStats Stats() const override;
  int default_nprobe() const override { return default_nprobe_; }
  void set_default_nprobe(int nprobe) override;
  // The payload is faiss::write_index's serialization, written straight to `writer`.
  Status WritePayload(faiss::IOWriter* writer, SnapshotHeader* header) const override;

  // Restores a verified snapshot's FAISS payload from `reader` and checks that it agrees with
  // the header. The caller checks that the reader has no bytes left over.
  static Status ReadPayload(const SnapshotHeader& header, faiss::IOReader* reader,
                            std::unique_ptr<VectorIndex>* out);

  // A sensible nprobe before any tuning: about sqrt(nlist), at least 1, at most nlist.
  static int DefaultNprobeFor(uint32_t nlist);

 private:
  // Frees the storage of the given lists (sorted and deduplicated here) when they use less
  // than a quarter of it.
  void ReleaseUnusedCapacity(std::vector<size_t>& lists);
  // The nprobe nearest lists of each query, in FAISS's conventions (IP: inner products).
  void CoarseAssign(size_t nq, const float* queries, int nprobe, float* centroid_dis,
                    faiss::Index::idx_t* lists) const;
  // One FAISS pass; distances in the Search convention, -1/+inf for missing.
  void ScanPass(size_t nq, const float* queries, size_t kk, int nprobe, const LabelFilter* filter,
                float* distances, int64_t* labels) const;
  // The search proper at a fixed starting nprobe (widening and refinement included).
  void SearchAtNprobe(size_t nq, const float* queries, size_t k, const SearchParams& params,
                      int nprobe, float* distances, int64_t* labels) const;
  // Per-query nprobe for a filtered search, scaled by the filter's measured selectivity.
  std::vector<int> FilteredNprobes(size_t nq, const float* queries, int nprobe,
                                   const LabelFilter& filter) const;
  // Re-ranks one query's candidates with exact vectors; writes k results.
  void Refine(const float* query, size_t candidates, const float* cand_distances,
              const int64_t* cand_labels, const VectorFetcher& fetch, size_t k, float* distances,
              int64_t* labels) const;

  IndexSpec spec_;
  Metric metric_;
  std::unique_ptr<faiss::IndexIVF> index_;
  int default_nprobe_;
  // Ranks the centroids for single queries (centroid_sketch.h); null when nlist is small.
  std::unique_ptr<CentroidSketch> sketch_;
};

}  // namespace emberdb::ann
