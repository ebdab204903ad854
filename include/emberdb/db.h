// emberdb: an embedded vector database.
//
//   std::unique_ptr<emberdb::DB> db;
//   emberdb::Status s = emberdb::DB::Open("/tmp/kb", emberdb::Options(), &db);
//   emberdb::CollectionOptions copt;
//   copt.embedder = "hash";
//   std::shared_ptr<emberdb::Collection> articles;
//   s = db->CreateCollection("articles", copt, &articles);
//   s = articles->Add({{"a1", "How do I reset my password?", {{"lang", "en"}}, {}}});
//   std::vector<emberdb::Hit> hits;
//   s = articles->QueryText("forgot my login", emberdb::QueryOptions{.k = 5}, &hits);
//
// Thread safety: a DB and its Collection handles may be used from any number of threads at
// once. Reads (Get, Count, Peek, Query) run in parallel with each other and with writes; writes
// to one collection are serialised internally. A Collection handle stays valid after
// DropCollection, but every call on it then returns NotFound.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "emberdb/document.h"
#include "emberdb/options.h"
#include "emberdb/status.h"

namespace emberdb {

// What ListCollections and Collection::info() report.
struct CollectionInfo {
  std::string name;
  CollectionOptions options;  // dimension is always filled in
  EmbedderIdentity embedder;  // empty kind when the collection has no embedder
  uint64_t count = 0;         // documents
};

// Per-collection index and storage statistics.
struct CollectionStats {
  uint64_t documents = 0;
  uint64_t vectors_indexed = 0;   // vectors the search index holds
  uint64_t vectors_pending = 0;   // stored but not yet in the index (documents - indexed)
  std::string index_kind;         // "Flat" (exact) or the trained IVF kind, e.g. "IVF894,Flat"
  bool training = false;          // a background training run is in progress
  bool snapshot_pending = false;  // trained and serving; its snapshot waits for writes to pause
  uint32_t nlist = 0;
  double list_imbalance = 0;  // FAISS imbalance factor (1.0 is perfectly even)
  uint64_t trained_at = 0;    // collection size when the index was trained
  int nprobe = 0;             // in use by default
  uint64_t memory_bytes = 0;  // index memory
  uint64_t disk_bytes = 0;    // approximate storage bytes of this collection
};

class Collection {
 public:
  virtual ~Collection() = default;

  virtual const std::string& name() const = 0;
  virtual CollectionInfo info() const = 0;

  // Inserts documents. Fails with AlreadyExists, writing nothing, if any id is stored already.
  // The whole call is atomic. Documents without a vector are embedded (the collection needs an
  // embedder). `dropped_tokens`, when given, receives the tokens truncated per document.
  virtual Status Add(const std::vector<Document>& docs, const WriteOptions& wo = {},
                     std::vector<uint32_t>* dropped_tokens = nullptr) = 0;
  // Inserts or replaces. A document identical to the stored one is not written again.
  virtual Status Upsert(const std::vector<Document>& docs, const WriteOptions& wo = {},
                        std::vector<uint32_t>* dropped_tokens = nullptr) = 0;
  // Changes stored documents; NotFound (writing nothing) if any id is missing.
  virtual Status Update(const std::vector<DocumentUpdate>& updates,
                        const WriteOptions& wo = {}) = 0;
  // Deletes the given ids (missing ids are ignored). `deleted` receives how many existed.
  virtual Status Delete(const std::vector<std::string>& ids, const WriteOptions& wo = {},
                        uint64_t* deleted = nullptr) = 0;
  // Deletes every document matching the filters (at least one must be non-empty).
  virtual Status DeleteWhere(const std::string& where, const std::string& where_document,
                             const WriteOptions& wo = {}, uint64_t* deleted = nullptr) = 0;

  virtual Status Get(const GetOptions& options, std::vector<Document>* out) const = 0;
  virtual Status Count(uint64_t* count) const = 0;
  // The first `limit` documents in id order.
  virtual Status Peek(size_t limit, std::vector<Document>* out) const = 0;

  // Nearest neighbours of one query vector.
  virtual Status Query(std::span<const float> query, const QueryOptions& options,
                       std::vector<Hit>* out) const = 0;
  // Nearest neighbours of n queries stored row-major in `queries` (n * dimension floats).
  virtual Status QueryBatch(std::span<const float> queries, const QueryOptions& options,
                            std::vector<std::vector<Hit>>* out) const = 0;
  // Embeds `text` with the collection's embedder (as a query) and searches.
  virtual Status QueryText(const std::string& text, const QueryOptions& options,
                           std::vector<Hit>* out) const = 0;

  virtual Status Stats(CollectionStats* out) const = 0;
  // Waits until background index work (training, saving) has finished. A training run that
  // is waiting for a bulk load to pause starts at once: call this when a load is done.
  virtual Status WaitForIndex() = 0;
};

class DB {
 public:
  // Opens (and by default creates) the database in directory `path`. A second writer on the
  // same directory gets Busy naming the directory; Options::read_only opens alongside it.
  static Status Open(const std::string& path, const Options& options, std::unique_ptr<DB>* out);

  virtual ~DB() = default;

  // Flushes index snapshots and closes. Also done by the destructor; calling it first lets the
  // application see errors.
  virtual Status Close() = 0;

  virtual Status CreateCollection(const std::string& name, const CollectionOptions& options,
                                  std::shared_ptr<Collection>* out) = 0;
  virtual Status GetCollection(const std::string& name, std::shared_ptr<Collection>* out) = 0;
  // Returns the existing collection when its options are compatible, else creates it.
  virtual Status GetOrCreateCollection(const std::string& name, const CollectionOptions& options,
                                       std::shared_ptr<Collection>* out) = 0;
  virtual Status ListCollections(std::vector<CollectionInfo>* out) = 0;
  // Removes the collection and all of its data, atomically.
  virtual Status DropCollection(const std::string& name) = 0;

  // Read-only handles: catch up with the writer's latest data.
  virtual Status Refresh() = 0;
  // Reclaims the space of deleted documents; `bytes_reclaimed` receives the difference in the
  // database's live file size.
  virtual Status Compact(uint64_t* bytes_reclaimed = nullptr) = 0;
  // Writes a consistent copy of the database into `dir` (which must not exist); it opens as a
  // database of its own.
  virtual Status Backup(const std::string& dir) = 0;
};

}  // namespace emberdb
