#include "ingester.h"

#include <nlohmann/json.hpp>

#include "metadata_json.h"
#include "sha256.h"
#include "utf8_text.h"

namespace emberdb::cli {
namespace {

constexpr size_t kMaxIdBytes = 512;

std::string SourceFilter(const std::string& source) {
  return nlohmann::json{{"source", source}}.dump();
}

}  // namespace

std::string PassageId(const std::string& base, size_t chunk) {
  std::string id = base + "#" + std::to_string(chunk);
  if (id.size() <= kMaxIdBytes) return id;
  return "sha256:" + Sha256Hex(base) + "#" + std::to_string(chunk);
}

Ingester::Ingester(Collection* collection, ChunkOptions chunk, size_t batch_size)
    : collection_(collection), chunk_(chunk), batch_size_(batch_size == 0 ? 1 : batch_size) {}

Status Ingester::CheckStored(const std::string& source, const std::string& content_hash,
                             bool* unchanged, std::vector<std::string>* existing) {
  *unchanged = false;
  GetOptions all;
  all.where = SourceFilter(source);
  all.include = kIncludeNone;
  std::vector<Document> stored;
  EMBERDB_RETURN_IF_ERROR(collection_->Get(all, &stored));
  existing->clear();
  for (auto& d : stored) existing->push_back(std::move(d.id));
  if (existing->empty()) return Status::OK();
  GetOptions current;
  current.where =
      nlohmann::json{{"$and", {{{"source", source}}, {{"content_hash", content_hash}}}}}.dump();
  current.include = kIncludeMetadatas;
  current.limit = 1;
  std::vector<Document> sample;
  EMBERDB_RETURN_IF_ERROR(collection_->Get(current, &sample));
  if (sample.empty()) return Status::OK();
  // Complete only if every stored passage is of this version: a run stopped half-way through a
  // large source leaves fewer (or older) passages than `passages` says.
  const int64_t expected = MetadataInt(sample[0].metadata, "passages", -1);
  *unchanged = expected == static_cast<int64_t>(existing->size());
  return Status::OK();
}

Status Ingester::AddSource(const std::string& source, const std::string& content_hash,
                           std::vector<SourceDocument> docs) {
  bool unchanged = false;
  std::vector<std::string> existing;
  EMBERDB_RETURN_IF_ERROR(CheckStored(source, content_hash, &unchanged, &existing));
  if (unchanged) {
    ++counters_.sources_unchanged;
    return Status::OK();
  }
  // Chunk everything first: each passage records the source's total passage count.
  std::vector<std::vector<ChunkRange>> chunks(docs.size());
  std::set<std::string> bases;
  size_t total = 0;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (!IsValidUtf8(docs[i].id_base)) {
      if (report) report(source + ": a record id is not valid UTF-8; record skipped");
      ++counters_.record_problems;
      continue;
    }
    if (!bases.insert(docs[i].id_base).second) {
      if (report) report(source + ": duplicate id '" + docs[i].id_base + "'; later record skipped");
      ++counters_.record_problems;
      continue;
    }
    auto owner = id_owner_.find(PassageId(docs[i].id_base, 0));
    if (owner != id_owner_.end() && owner->second != source) {
      if (report) {
        report(source + ": id '" + docs[i].id_base + "' was already ingested from " +
               owner->second + "; record skipped");
      }
      ++counters_.record_problems;
      continue;
    }
    chunks[i] = ChunkText(docs[i].text, chunk_);
    total += chunks[i].size();
  }
  if (total == 0 && existing.empty()) {
    ++counters_.sources_empty;
    return Status::OK();
  }
  if (on_planned) on_planned(total);
  std::set<std::string> new_ids;
  for (size_t i = 0; i < docs.size(); ++i) {
    for (size_t c = 0; c < chunks[i].size(); ++c) {
      Document passage;
      passage.id = PassageId(docs[i].id_base, c);
      passage.text = docs[i].text.substr(chunks[i][c].start, chunks[i][c].end - chunks[i][c].start);
      passage.metadata = docs[i].metadata;
      // The ingest fields win over record fields of the same name: they are what re-ingest
      // and tracing rely on.
      passage.metadata["source"] = source;
      passage.metadata["chunk"] = static_cast<int64_t>(c);
      passage.metadata["start"] = static_cast<int64_t>(chunks[i][c].start);
      passage.metadata["end"] = static_cast<int64_t>(chunks[i][c].end);
      passage.metadata["content_hash"] = content_hash;
      passage.metadata["passages"] = static_cast<int64_t>(total);
      id_owner_[passage.id] = source;
      new_ids.insert(passage.id);
      batch_.push_back(std::move(passage));
      if (batch_.size() >= batch_size_) {
        EMBERDB_RETURN_IF_ERROR(Flush());
        if (should_stop && should_stop()) return Status::Aborted("interrupted");
      }
    }
  }
  Completion done;
  for (auto& id : existing) {
    // An id that another source took over in this run is that source's now.
    auto owner = id_owner_.find(id);
    if (owner != id_owner_.end() && owner->second != source) continue;
    if (!new_ids.count(id)) done.stale_ids.push_back(std::move(id));
  }
  completions_.push_back(std::move(done));
  ++counters_.sources_ingested;
  if (batch_.empty()) return Flush();  // nothing to write, but stale passages to delete
  return Status::OK();
}

Status Ingester::Flush() {
  if (!batch_.empty()) {
    EMBERDB_RETURN_IF_ERROR(collection_->Upsert(batch_));
    counters_.passages_written += batch_.size();
    batch_.clear();
  }
  std::vector<std::string> stale;
  for (auto& c : completions_) {
    stale.insert(stale.end(), c.stale_ids.begin(), c.stale_ids.end());
  }
  completions_.clear();
  if (!stale.empty()) {
    uint64_t deleted = 0;
    EMBERDB_RETURN_IF_ERROR(collection_->Delete(stale, {}, &deleted));
    counters_.passages_deleted += deleted;
  }
  if (after_flush) after_flush();
  return Status::OK();
}

Status Ingester::Prune(const std::vector<std::string>& roots,
                       const std::set<std::string>& present) {
  if (roots.empty()) return Status::OK();
  // Collect the stored sources first: deleting while paging would shift the offsets.
  std::set<std::string> gone;
  constexpr size_t kPage = 4096;
  for (size_t offset = 0;; offset += kPage) {
    GetOptions page;
    page.include = kIncludeMetadatas;
    page.limit = kPage;
    page.offset = offset;
    std::vector<Document> docs;
    EMBERDB_RETURN_IF_ERROR(collection_->Get(page, &docs));
    for (const auto& d : docs) {
      const std::string source = MetadataString(d.metadata, "source");
      if (source.empty() || present.count(source)) continue;
      for (const auto& root : roots) {
        if (source.size() > root.size() && source.compare(0, root.size(), root) == 0 &&
            (root == "/" || source[root.size()] == '/')) {
          gone.insert(source);
          break;
        }
      }
    }
    if (docs.size() < kPage) break;
  }
  for (const auto& source : gone) {
    uint64_t deleted = 0;
    EMBERDB_RETURN_IF_ERROR(collection_->DeleteWhere(SourceFilter(source), "", {}, &deleted));
    counters_.passages_deleted += deleted;
    ++counters_.sources_pruned;
  }
  return Status::OK();
}

}  // namespace emberdb::cli
