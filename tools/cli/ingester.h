// The ingest engine behind `emberdb ingest` and `emberdb demo`: turns source documents into
// passages and writes them to a collection in batches, idempotently.
//
// Every passage carries metadata `source`, `chunk`, `start`, `end` (byte offsets into the
// converted document text), `content_hash` (SHA-256 of the source's bytes) and `passages` (how
// many passages the source has). A source is unchanged, and skipped, when all of its stored
// passages carry the current hash and their number equals `passages`.
//
// Write guarantees (honestly): each Upsert of up to `batch` passages is atomic. A changed source
// is rewritten by upserting its new passages (same ids overwrite in place) and then deleting the
// ids it no longer has, so it never disappears from search while being replaced. A source
// larger than one batch, or a crash or Ctrl-C between its Upsert and Delete, can leave a mix of
// old and new passages; that state is detected (hash or count mismatch) and repaired by the next
// run.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "chunker.h"
#include "document_reader.h"
#include "emberdb/db.h"

namespace emberdb::cli {

struct IngestCounters {
  uint64_t sources_ingested = 0;   // new or changed, written
  uint64_t sources_unchanged = 0;  // skipped by content hash
  uint64_t sources_empty = 0;      // no words at all: nothing to store
  uint64_t sources_failed = 0;     // unreadable, not UTF-8, unknown format...
  uint64_t record_problems = 0;    // bad lines or rows inside otherwise usable files
  uint64_t passages_written = 0;   // acknowledged by the database
  uint64_t passages_deleted = 0;   // stale passages of changed or pruned sources
  uint64_t sources_pruned = 0;
};

class Ingester {
 public:
  Ingester(Collection* collection, ChunkOptions chunk, size_t batch_size);

  // Ingests one source's documents (all of them: the source is replaced as a whole). Returns a
  // non-OK Status only for database errors, which end the run. Problems with single records are
  // passed to `report`.
  Status AddSource(const std::string& source, const std::string& content_hash,
                   std::vector<SourceDocument> docs);
  // Writes everything pending. Sources whose passages are all acknowledged are complete.
  Status Flush();
  // Deletes passages whose source lies under one of `roots` (directory paths) but is not in
  // `present`: files that disappeared.
  Status Prune(const std::vector<std::string>& roots, const std::set<std::string>& present);

  const IngestCounters& counters() const { return counters_; }
  IngestCounters& mutable_counters() { return counters_; }
  // Passages added but not yet written.
  size_t pending() const { return batch_.size(); }

  // Called with one sentence per problem that does not stop the run.
  std::function<void(const std::string&)> report;
  // Called once per changed source with its number of passages, before they are written.
  std::function<void(size_t)> on_planned;
  // Called after each successful flush (progress display, tests).
  std::function<void()> after_flush;
  // Checked after each batch written inside AddSource: when it returns true, AddSource stops
  // there and returns Aborted (what was written stays; the next run completes the source).
  std::function<bool()> should_stop;

 private:
  struct Completion {
    std::vector<std::string> stale_ids;
  };

  // Whether `source` is stored complete with `content_hash`; fills `existing` with its ids.
  Status CheckStored(const std::string& source, const std::string& content_hash, bool* unchanged,
                     std::vector<std::string>* existing);

  Collection* collection_;
  ChunkOptions chunk_;
  size_t batch_size_;
  std::vector<Document> batch_;
  std::vector<Completion> completions_;  // applied after the batch holding the source's end
  std::unordered_map<std::string, std::string> id_owner_;  // passage id -> source, this run
  IngestCounters counters_;
};

// A passage id: "<base>#<chunk>", or a hash of the base when that would exceed the 512-byte
// id limit.
std::string PassageId(const std::string& base, size_t chunk);

}  // namespace emberdb::cli
