// FlatIndex: exact k-NN over contiguous float storage. Labels map to slots through a hash map;
// removal moves the last slot into the hole, so Add and Remove are O(dim) per vector.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ann/vector_index.h"

namespace emberdb::ann {

class FlatIndex final : public VectorIndex {
 public:
  FlatIndex(uint32_t dim, Metric metric) : dim_(dim), metric_(metric) {}

  uint32_t dimension() const override { return dim_; }
  Metric metric() const override { return metric_; }
  uint64_t size() const override { return labels_.size(); }
  bool Contains(int64_t label) const override { return slots_.count(label) != 0; }

  void Add(size_t n, const int64_t* labels, const float* vectors) override;
  void Remove(size_t n, const int64_t* labels) override;
  bool holds_exact_vectors() const override { return true; }
  size_t CopyVectors(size_t max, std::vector<int64_t>* labels,
                     std::vector<float>* vectors) const override;
  size_t SampleVectors(size_t n, std::vector<float>* vectors) const override;
  void Search(size_t nq, const float* queries, size_t k, const SearchParams& params,
              float* distances, int64_t* labels) const override;

  IndexStats Stats() const override;
  int default_nprobe() const override { return 0; }
  void set_default_nprobe(int) override {}
  // The snapshot payload: u64 count, count i64 labels, count*dim f32 vectors (little-endian).
  Status WritePayload(faiss::IOWriter* writer, SnapshotHeader* header) const override;
  static Status ReadPayload(uint32_t dim, Metric metric, std::string_view payload,
                            std::unique_ptr<VectorIndex>* out);

 private:
  // One pass over all slots (SIMD kernels, or sgemm for batches); distances in the Search
  // convention, labels (not slots).
  void ScanPass(size_t nq, const float* queries, size_t kk, const LabelFilter* filter,
                float* distances, int64_t* labels) const;

  // Hands the whole pages past the last slot back to the system (see flat_index.cc).
  void ReleaseTail();

  uint32_t dim_;
  Metric metric_;
  std::vector<float> vectors_;  // slot-major, size() * dim_
  // The start of the released page range at the end of vectors_'s allocation, and which
  // allocation that was (a reallocation starts with nothing released).
  const float* released_buffer_ = nullptr;
  uintptr_t released_from_ = 0;
  std::vector<int64_t> labels_;                // slot -> label
  std::unordered_map<int64_t, size_t> slots_;  // label -> slot
};

}  // namespace emberdb::ann
