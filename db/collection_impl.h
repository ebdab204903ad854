// CollectionImpl: one collection's write path (ingest -> embed -> store -> index, in
// collection_write.cc) and read path (query -> embed -> search -> fetch, in collection_read.cc).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "db/catalog.h"
#include "db/filter.h"
#include "db/index_manager.h"
#include "emberdb/db.h"
#include "storage/record.h"
#include "storage/store.h"

namespace emberdb {

class CollectionImpl : public Collection {
 public:
  // `embedder` may be null: then `embedder_status` says why text cannot be embedded.
  CollectionImpl(IndexEnv env, CollectionRecord record, std::unique_ptr<Embedder> embedder,
                 Status embedder_status);
  ~CollectionImpl() override;

  // Loads counters and builds the search index from storage.
  Status Open();
  // Called by DB::DropCollection and DB::Close: stops background work; every later call fails
  // with `why`. `dropped` also removes the index snapshot, else it is saved when it changed.
  void Invalidate(Status why, bool dropped);
  // Read-only handles: re-reads counters and rebuilds the index when the writer changed it.
  Status Refresh();
  uint32_t cid() const { return record_.cid; }

  const std::string& name() const override { return record_.name; }
  CollectionInfo info() const override;

  Status Add(const std::vector<Document>& docs, const WriteOptions& wo,
             std::vector<uint32_t>* dropped_tokens) override;
  Status Upsert(const std::vector<Document>& docs, const WriteOptions& wo,
                std::vector<uint32_t>* dropped_tokens) override;
  Status Update(const std::vector<DocumentUpdate>& updates, const WriteOptions& wo) override;
  Status Delete(const std::vector<std::string>& ids, const WriteOptions& wo,
                uint64_t* deleted) override;
  Status DeleteWhere(const std::string& where, const std::string& where_document,
                     const WriteOptions& wo, uint64_t* deleted) override;

  Status Get(const GetOptions& options, std::vector<Document>* out) const override;
  Status Count(uint64_t* count) const override;
  Status Peek(size_t limit, std::vector<Document>* out) const override;
  Status Query(std::span<const float> query, const QueryOptions& options,
               std::vector<Hit>* out) const override;
  Status QueryBatch(std::span<const float> queries, const QueryOptions& options,
                    std::vector<std::vector<Hit>>* out) const override;
  Status QueryText(const std::string& text, const QueryOptions& options,
                   std::vector<Hit>* out) const override;
  Status Stats(CollectionStats* out) const override;
  Status WaitForIndex() override;

 private:
  enum class WriteMode { kAdd, kUpsert };
  // A document ready to be written: validated, embedded, its vector in storage space.
  struct Prepared {
    storage::DocRecord record;
    std::vector<float> vector;
  };

  Status CheckUsable(bool writing) const;
  // Write path.
  Status Prepare(const std::vector<Document>& docs, std::vector<Prepared>* out,
                 std::vector<uint32_t>* dropped_tokens) const;
  Status EmbedTexts(const std::vector<std::string>& texts, bool as_query,
                    std::vector<float>* vectors, std::vector<uint32_t>* dropped_tokens) const;
  Status WriteDocs(std::vector<Prepared> docs, WriteMode mode, const WriteOptions& wo);
  // The two below expect write_mu_ held.
  Status WriteLocked(std::vector<Prepared> docs, WriteMode mode, const WriteOptions& wo);
  Status DeleteLabelsLocked(const std::vector<uint64_t>& labels, const WriteOptions& wo,
                            uint64_t* deleted);
  // Read path.
  Status MatchingLabels(const Filter& filter, const storage::ReadView* view,
                        std::vector<uint64_t>* labels) const;
  // The labels an index plan yields (a superset of the filter's matches); a single range
  // stops after `limit` labels and says so in *truncated.
  Status PlanLabels(const IndexPlan& plan, const storage::ReadView* view,
                    std::vector<uint64_t>* labels, size_t limit = SIZE_MAX,
                    bool* truncated = nullptr) const;
  Status LookupLabels(const std::vector<std::string>& ids, const storage::ReadView* view,
                      std::vector<uint64_t>* labels) const;
  Status FetchDocs(const std::vector<uint64_t>& labels, uint32_t include,
                   const storage::ReadView* view, std::vector<Document>* out,
                   std::vector<bool>* found) const;
  // Keeps the candidates whose documents pass the filter (candidates from an index plan are a
  // superset).
  Status KeepMatching(const Filter& filter, const std::vector<uint64_t>& candidates,
                      const storage::ReadView* view, std::vector<uint64_t>* labels) const;
  // How a query's filter is applied, decided once per query call: no filter; exact search over
  // its few matches; index search within a label set; or, for very broad filters, plain
  // search for `widen` times more results. `verify`: the results only passed a superset
  // (the filter's index plan) and Resolve must check their documents.
  struct FilterResolution {
    enum class Mode { kNone, kExact, kWithin, kPostFilter };
    Mode mode = Mode::kNone;
    std::vector<uint64_t> exact;
    std::shared_ptr<ann::LabelFilter> within;
    size_t widen = 1;
    bool verify = false;
  };
  Status ResolveFilter(const Filter& filter, FilterResolution* out) const;
  // The resolution for the filter's exact matches.
  Status Matches(std::vector<uint64_t> allowed, FilterResolution* out) const;
  // k nearest labels of nq queries (in index space) under the resolved filter.
  Status Search(size_t nq, const float* queries, size_t k, int nprobe,
                const FilterResolution& filter, std::vector<float>* distances,
                std::vector<int64_t>* labels) const;
  // Exact search restricted to `labels`, for selective filters.
  Status ExactOver(const std::vector<uint64_t>& labels, size_t nq, const float* queries, size_t k,
                   std::vector<float>* distances, std::vector<int64_t>* out_labels) const;
  // Fetches one result list's documents; `complete` is false when one was deleted meanwhile
  // or, with `verify`, failed that filter (both are dropped).
  Status Resolve(const float* distances, const int64_t* labels, size_t k, uint32_t include,
                 const Filter* verify, std::vector<Hit>* out, bool* complete) const;
  void ToHit(float ann_distance, Hit* hit) const;

  std::shared_ptr<storage::Store> store_;
  CollectionRecord record_;
  std::unique_ptr<Embedder> embedder_;
  Status embedder_status_;

  // Serialises writers: each reads the stored state it replaces, then commits one batch.
  std::mutex write_mu_;
  Counters counters_;  // guarded by write_mu_
  std::atomic<uint64_t> count_{0};
  IndexManager index_;

  mutable std::mutex state_mu_;
  Status invalid_;  // non-OK once dropped or closed
};

}  // namespace emberdb
