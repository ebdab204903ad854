// ann/: vector indexes over FAISS. Knows FAISS and nothing of RocksDB or text: it indexes
// (label, vector) pairs, answers k-nearest-neighbour searches, and hands db/ the bytes of a
// snapshot to persist. db/ guards each index with a reader/writer lock: an index is not
// internally synchronised, but const methods may run concurrently with each other.
//
// Metrics: kL2 ranks by squared L2 distance; kInnerProduct ranks by inner product (reported as
// distance = -ip so that smaller is always closer). Cosine is kInnerProduct on vectors that
// db/ has already L2-normalised.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "emberdb/status.h"

namespace faiss {
struct IOWriter;
}

namespace emberdb::ann {

struct SnapshotHeader;  // ann/index_snapshot.h

enum class Metric { kL2, kInnerProduct };

// A parsed FAISS factory-style description: "Flat", "IVF,Flat", "IVF1024,Flat", "IVF,SQ8",
// "IVF,PQ32" (nlist 0 means "choose from the training size").
struct IndexSpec {
  enum class Kind { kFlat, kIvfFlat, kIvfSq8, kIvfPq };
  Kind kind = Kind::kIvfFlat;
  uint32_t nlist = 0;
  uint32_t pq_m = 0;  // sub-quantizers, for kIvfPq

  static Status Parse(std::string_view factory, IndexSpec* out);
  std::string ToString() const;  // canonical factory string, e.g. "IVF894,SQ8"
  bool compressed() const { return kind == Kind::kIvfSq8 || kind == Kind::kIvfPq; }
};

// Which labels a filtered search may return.
class LabelFilter {
 public:
  virtual ~LabelFilter() = default;
  virtual bool Contains(int64_t label) const = 0;
};

// Fetches the exact float vectors of `n` labels into `out` (n * dim floats). Used by compressed
// indexes to re-rank candidates. Returns false for a label it cannot find.
using VectorFetcher = std::function<bool(size_t n, const int64_t* labels, float* out)>;

struct SearchParams {
  int nprobe = 0;                         // 0: the index default
  const LabelFilter* filter = nullptr;    // only these labels
  const VectorFetcher* refine = nullptr;  // re-rank compressed candidates with exact vectors
  int refine_factor = 4;                  // candidates = k * refine_factor before re-ranking
  // A selective filter normally widens nprobe by 1/selectivity so that k matches are found.
  // false: probe exactly nprobe lists (nprobe tuning, where the filter only hides vectors
  // added after the ground truth was taken and must not change the cost being measured).
  bool scale_nprobe_to_filter = true;
};

struct IndexStats {
  std::string kind;  // canonical factory string, "Flat" for exact
  uint64_t size = 0;
  uint32_t nlist = 0;
  double imbalance = 0;
  uint64_t memory_bytes = 0;
};

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;

  virtual uint32_t dimension() const = 0;
  virtual Metric metric() const = 0;
  virtual uint64_t size() const = 0;
  virtual bool Contains(int64_t label) const = 0;

  // Adds vectors; a label already present is replaced. Labels are >= 0.
  virtual void Add(size_t n, const int64_t* labels, const float* vectors) = 0;
  // Removes labels; absent labels are ignored. Costs no full scan.
  virtual void Remove(size_t n, const int64_t* labels) = 0;

  // For each of nq queries writes k (distance, label) pairs ordered by distance, then label;
  // missing results have label -1.
  virtual void Search(size_t nq, const float* queries, size_t k, const SearchParams& params,
                      float* distances, int64_t* labels) const = 0;

  virtual IndexStats Stats() const = 0;
  virtual int default_nprobe() const = 0;
  virtual void set_default_nprobe(int nprobe) = 0;

  // A self-checking snapshot (magic, version, length and checksums around FAISS's
  // serialization) in memory. LoadIndex verifies it before use. Holds the whole snapshot:
  // for large indexes use WriteIndexSnapshot, which streams.
  Status Serialize(std::string* out) const;

  // The snapshot payload, streamed to `writer` (which may fail: the Status says why), and the
  // header fields that describe it. Serialize and WriteIndexSnapshot frame it.
  virtual Status WritePayload(faiss::IOWriter* writer, SnapshotHeader* header) const = 0;

  // ---- Moving the contents into a newly trained index (see MigratingIndex) -----------------

  // True when the index holds its vectors exactly as added (Flat, IVF-Flat), so that they can
  // be moved out instead of read again from storage.
  virtual bool holds_exact_vectors() const { return false; }
  // Appends up to `max` stored vectors and their labels, in the order in which removing them
  // is cheapest (Flat: its last slots, last first; IVF-Flat: whole lists); returns how many.
  // Only for holds_exact_vectors() indexes; others return 0.
  virtual size_t CopyVectors(size_t max, std::vector<int64_t>* labels,
                             std::vector<float>* vectors) const {
    (void)max, (void)labels, (void)vectors;
    return 0;
  }
  // Appends n of the stored vectors (all when n >= size()), evenly spaced over the index's
  // own order, as a training sample read from memory instead of storage; returns how many.
  // Only for holds_exact_vectors() indexes; others return 0.
  virtual size_t SampleVectors(size_t n, std::vector<float>* vectors) const {
    (void)n, (void)vectors;
    return 0;
  }
  // Add split in two so that the expensive half can run while the index serves: Assign
  // computes each vector's list (the coarse assignment) and reads only what training fixed, so
  // it may run concurrently with Search, Add and Remove; AddAssigned then inserts like Add.
  // Flat indexes have no lists: Assign writes -1 and AddAssigned is Add.
  virtual void Assign(size_t n, const float* vectors, int64_t* lists) const {
    (void)vectors;
    std::fill(lists, lists + n, int64_t{-1});
  }
  virtual void AddAssigned(size_t n, const int64_t* labels, const float* vectors,
                           const int64_t* lists) {
    (void)lists;
    Add(n, labels, vectors);
  }
  // Gives back spare capacity (lists grow by doubling: after a fill up to half their memory is
  // unused), a bounded amount of work per call so that a caller holding the index lock can
  // let others in between: pass 0 first, then what it returns, until it returns 0.
  virtual size_t ReleaseSpareCapacity(size_t cursor) {
    (void)cursor;
    return 0;
  }
};

std::unique_ptr<VectorIndex> NewFlatIndex(uint32_t dim, Metric metric);

// Trains an empty IVF index of `spec` on n sample vectors. nlist 0 picks about 4*sqrt(expected).
Status TrainIvfIndex(const IndexSpec& spec, uint32_t dim, Metric metric, uint64_t expected_size,
                     size_t n, const float* sample, std::unique_ptr<VectorIndex>* out);

// The training budget (defaults are what the overload above uses; see ann/README.md for the
// measured speed/recall trade-off). The sample is subsampled (seeded, deterministic) to at most
// points_per_list * nlist vectors (at least 16,384 for PQ codebooks).
struct TrainOptions {
  int kmeans_iterations = 5;    // FAISS's default is 25; 10 buys <= 0.002 recall@10 (README)
  size_t points_per_list = 40;  // FAISS's default cap is 256; never below 39
};
Status TrainIvfIndex(const IndexSpec& spec, uint32_t dim, Metric metric, uint64_t expected_size,
                     size_t n, const float* sample, const TrainOptions& options,
                     std::unique_ptr<VectorIndex>* out);
// How many sample vectors TrainIvfIndex keeps for `spec` and a collection of `expected_size`
// (it subsamples larger samples): the caller need read no more.
size_t TrainingSampleSize(const IndexSpec& spec, uint64_t expected_size,
                          const TrainOptions& options = {});

// Restores a snapshot written by Serialize; Corruption when any check fails.
Status LoadIndex(std::string_view bytes, std::unique_ptr<VectorIndex>* out);

// Streams the snapshot of `index` into `fd` at [offset, offset + *bytes_written) with
// positional writes (the fd's file offset is not used or moved), through a ~1 MiB buffer:
// the payload first, hashed on the way, then the header at `offset`. Extra memory is the
// buffer, not the index. The caller fsyncs. IOError when a write fails.
Status WriteIndexSnapshot(const VectorIndex& index, int fd, uint64_t offset,
                          uint64_t* bytes_written);

// Restores the snapshot that occupies exactly [offset, offset + length) of `fd` (positional
// reads, ~1 MiB at a time): checks the header, streams the payload once to verify its
// checksum, then streams it again into FAISS. Nothing read is trusted before it is checked:
// lengths must agree with `length`. Corruption on any mismatch, IOError when a read fails.
Status ReadIndexSnapshot(int fd, uint64_t offset, uint64_t length,
                         std::unique_ptr<VectorIndex>* out);

// ---- Choosing nprobe from measured recall -------------------------------------------------
//
// Ground truth must be exact search over the WHOLE collection (not over the sample), so db/
// computes it in one of two ways: search a Flat index that holds every vector, or stream the
// collection's vectors (e.g. from RocksDB, chunk by chunk) through ExactNeighbors, which keeps
// only the running top-k of each query. Then ChooseNprobe measures the IVF index against it.

// Exact top-k of a fixed set of queries over vectors fed in chunks. Memory: nq * k entries plus
// one chunk's search buffers; the vectors themselves are not kept.
class ExactNeighbors {
 public:
  // Copies the nq queries. Results are ordered by (distance, label) like VectorIndex::Search.
  ExactNeighbors(uint32_t dim, Metric metric, size_t nq, const float* queries, size_t k);

  // Feeds n vectors of the collection. Labels must be distinct across all calls.
  void Add(size_t n, const int64_t* labels, const float* vectors);

  size_t num_queries() const { return nq_; }
  const float* queries() const { return queries_.data(); }  // nq * dim
  size_t k() const { return k_; }
  // nq * k labels (-1 where fewer than k vectors were fed), row-major.
  const int64_t* labels() const { return labels_.data(); }
  // nq * k distances in the VectorIndex::Search convention (+inf for missing).
  const float* distances() const { return distances_.data(); }

 private:
  uint32_t dim_;
  Metric metric_;
  size_t nq_;
  size_t k_;
  std::vector<float> queries_;
  std::vector<float> distances_;
  std::vector<int64_t> labels_;
};

// recall@k of `found` against `truth` (both nq * k labels, -1 = none): the fraction of the true
// neighbours that were found. 1.0 when truth is empty.
double RecallAtK(size_t nq, size_t k, const int64_t* truth, const int64_t* found);

struct NprobeChoice {
  int nprobe = 0;        // the smallest nprobe found reaching the target (nlist when none does)
  double recall = 0;     // recall@k measured at that nprobe
  bool reached = false;  // recall >= target
  int searches = 0;      // nprobe values tried
};

// Finds the smallest nprobe whose recall@k on the sample queries reaches `target_recall`:
// doubles nprobe from 1 until the target is met (or nprobe == nlist), then bisects between the
// last failing and first passing value. `truth` holds, for each of the nq queries, its exact k
// nearest labels over the whole collection (ExactNeighbors::labels() or a Flat index's Search).
// `base` supplies the refine settings (compressed indexes are measured as they will be
// queried, i.e. with the same VectorFetcher); its nprobe is ignored, and so is its filter
// unless scale_nprobe_to_filter is false (a filter hiding vectors the truth does not know). Does
// not change the index: the caller applies the result with set_default_nprobe. A Flat index yields
// nprobe 0, recall 1. Cost: about 2*log2(nlist) batch searches of the nq queries.
Status ChooseNprobe(const VectorIndex& index, size_t nq, const float* queries, const int64_t* truth,
                    size_t k, double target_recall, const SearchParams& base, NprobeChoice* out);

}  // namespace emberdb::ann
