// The write path: ingest -> embed -> store -> index.
//
// Every call validates all of its input and computes every missing vector before it takes the
// collection's write lock; under the lock it reads the stored state it replaces, builds one
// storage batch and commits it; only after the commit does the in-memory index change. A crash
// between the commit and the index update loses nothing: the index is rebuilt from storage.
#include <unordered_map>
#include <unordered_set>

#include "db/collection_impl.h"
#include "db/validation.h"
#include "storage/keys.h"

namespace emberdb {
namespace {

using storage::Cf;

std::string ChangeValue(char op, uint64_t label) {
  std::string v(1, op);
  storage::AppendU64BE(&v, label);
  return v;
}

}  // namespace

Status CollectionImpl::EmbedTexts(const std::vector<std::string>& texts, bool as_query,
                                  std::vector<float>* vectors,
                                  std::vector<uint32_t>* dropped_tokens) const {
  if (!embedder_) {
    return embedder_status_.ok()
               ? Status::InvalidArgument("collection '" + name() +
                                         "' has no embedder: provide vectors")
               : embedder_status_.WithContext("collection '" + name() + "' cannot embed text");
  }
  EmbedReport report;
  Status s = as_query ? embedder_->EmbedQuery(texts, vectors, &report)
                      : embedder_->EmbedDocuments(texts, vectors, &report);
  if (!s.ok()) return s.WithContext("embedding for collection '" + name() + "'");
  const uint32_t dim = record_.options.dimension;
  if (vectors->size() != texts.size() * dim) {
    return Status::IOError("embedder returned " + std::to_string(vectors->size()) + " floats for " +
                           std::to_string(texts.size()) + " texts of dimension " +
                           std::to_string(dim));
  }
  if (dropped_tokens) {
    *dropped_tokens = report.dropped_tokens;
    dropped_tokens->resize(texts.size(), 0);
  }
  return Status::OK();
}

Status CollectionImpl::Prepare(const std::vector<Document>& docs, std::vector<Prepared>* out,
                               std::vector<uint32_t>* dropped_tokens) const {
  const uint32_t dim = record_.options.dimension;
  const Metric metric = record_.options.metric;
  std::unordered_set<std::string_view> seen;
  std::vector<size_t> to_embed;
  for (size_t i = 0; i < docs.size(); ++i) {
    const Document& d = docs[i];
    EMBERDB_RETURN_IF_ERROR(ValidateId(d.id));
    if (!seen.insert(d.id).second) {
      return Status::InvalidArgument("document id '" + d.id + "' appears twice in one batch");
    }
    EMBERDB_RETURN_IF_ERROR(ValidateText(d.id, d.text));
    EMBERDB_RETURN_IF_ERROR(ValidateMetadata(d.id, d.metadata, /*allow_null=*/false));
    if (!d.vector.empty()) {
      EMBERDB_RETURN_IF_ERROR(ValidateVector(d.id, d.vector.data(), d.vector.size(), dim, metric));
    } else {
      to_embed.push_back(i);
    }
  }
  std::vector<float> embedded;
  std::vector<uint32_t> dropped;
  if (!to_embed.empty()) {
    std::vector<std::string> texts;
    texts.reserve(to_embed.size());
    for (size_t i : to_embed) texts.push_back(docs[i].text);
    EMBERDB_RETURN_IF_ERROR(EmbedTexts(texts, /*as_query=*/false, &embedded, &dropped));
  }
  out->clear();
  out->reserve(docs.size());
  for (const Document& d : docs) out->push_back({{d.id, d.text, d.metadata}, d.vector});
  if (dropped_tokens) dropped_tokens->assign(docs.size(), 0);
  for (size_t j = 0; j < to_embed.size(); ++j) {
    Prepared& p = (*out)[to_embed[j]];
    p.vector.assign(embedded.begin() + j * dim, embedded.begin() + (j + 1) * dim);
    EMBERDB_RETURN_IF_ERROR(ValidateVector(p.record.id, p.vector.data(), dim, dim, metric)
                                .WithContext("the embedder's output"));
    if (dropped_tokens) (*dropped_tokens)[to_embed[j]] = dropped[j];
  }
  return Status::OK();
}

Status CollectionImpl::Add(const std::vector<Document>& docs, const WriteOptions& wo,
                           std::vector<uint32_t>* dropped_tokens) {
  EMBERDB_RETURN_IF_ERROR(CheckUsable(true));
  std::vector<Prepared> prepared;
  EMBERDB_RETURN_IF_ERROR(Prepare(docs, &prepared, dropped_tokens));
  return WriteDocs(std::move(prepared), WriteMode::kAdd, wo);
}

Status CollectionImpl::Upsert(const std::vector<Document>& docs, const WriteOptions& wo,
                              std::vector<uint32_t>* dropped_tokens) {
  EMBERDB_RETURN_IF_ERROR(CheckUsable(true));
  std::vector<Prepared> prepared;
  EMBERDB_RETURN_IF_ERROR(Prepare(docs, &prepared, dropped_tokens));
  return WriteDocs(std::move(prepared), WriteMode::kUpsert, wo);
}

Status CollectionImpl::Update(const std::vector<DocumentUpdate>& updates, const WriteOptions& wo) {
  EMBERDB_RETURN_IF_ERROR(CheckUsable(true));
  const uint32_t dim = record_.options.dimension;
  std::unordered_set<std::string_view> seen;
  std::vector<std::string> texts;  // changed texts that need a new vector
  std::vector<size_t> text_owner;
  for (size_t i = 0; i < updates.size(); ++i) {
    const DocumentUpdate& u = updates[i];
    EMBERDB_RETURN_IF_ERROR(ValidateId(u.id));
    if (!seen.insert(u.id).second) {
      return Status::InvalidArgument("document id '" + u.id + "' appears twice in one batch");
    }
    if (u.text) EMBERDB_RETURN_IF_ERROR(ValidateText(u.id, *u.text));
    EMBERDB_RETURN_IF_ERROR(ValidateMetadata(u.id, u.metadata, /*allow_null=*/true));
    if (u.vector) {
      EMBERDB_RETURN_IF_ERROR(
          ValidateVector(u.id, u.vector->data(), u.vector->size(), dim, record_.options.metric));
    } else if (u.text && embedder_) {
      texts.push_back(*u.text);
      text_owner.push_back(i);
    }
  }
  std::vector<float> embedded;
  if (!texts.empty()) EMBERDB_RETURN_IF_ERROR(EmbedTexts(texts, false, &embedded, nullptr));

  std::lock_guard lock(write_mu_);
  std::vector<std::string> ids;
  for (const auto& u : updates) ids.push_back(u.id);
  std::vector<uint64_t> labels;
  EMBERDB_RETURN_IF_ERROR(LookupLabels(ids, nullptr, &labels));
  if (labels.size() != ids.size()) {
    std::vector<std::string> keys;
    for (const auto& id : ids) keys.push_back(storage::IdKey(cid(), id));
    std::vector<std::string> values;
    std::vector<bool> found;
    EMBERDB_RETURN_IF_ERROR(store_->MultiGet(Cf::kIds, keys, &values, &found));
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!found[i]) {
        return Status::NotFound("document '" + ids[i] + "' not found in collection '" + name() +
                                "'");
      }
    }
  }
  std::vector<Document> current;
  std::vector<bool> found;
  EMBERDB_RETURN_IF_ERROR(FetchDocs(labels, kIncludeAll, nullptr, &current, &found));
  std::vector<Prepared> merged(updates.size());
  for (size_t i = 0; i < updates.size(); ++i) {
    const DocumentUpdate& u = updates[i];
    Document& d = current[i];
    if (u.text) d.text = *u.text;
    for (const auto& [key, value] : u.metadata) {
      if (std::holds_alternative<std::monostate>(value)) {
        d.metadata.erase(key);
      } else {
        d.metadata[key] = value;
      }
    }
    if (u.vector) d.vector = *u.vector;
    merged[i] = {{d.id, d.text, d.metadata}, d.vector};
  }
  for (size_t j = 0; j < text_owner.size(); ++j) {
    merged[text_owner[j]].vector.assign(embedded.begin() + j * dim,
                                        embedded.begin() + (j + 1) * dim);
  }
  return WriteLocked(std::move(merged), WriteMode::kUpsert, wo);
}

Status CollectionImpl::WriteDocs(std::vector<Prepared> docs, WriteMode mode,
                                 const WriteOptions& wo) {
  std::lock_guard lock(write_mu_);
  return WriteLocked(std::move(docs), mode, wo);
}

Status CollectionImpl::WriteLocked(std::vector<Prepared> docs, WriteMode mode,
                                   const WriteOptions& wo) {
  EMBERDB_RETURN_IF_ERROR(CheckUsable(true));
  const uint32_t dim = record_.options.dimension;
  const uint32_t c = cid();

  // The stored state each document replaces.
  std::vector<std::string> id_keys;
  id_keys.reserve(docs.size());
  for (const auto& d : docs) id_keys.push_back(storage::IdKey(c, d.record.id));
  std::vector<std::string> label_values;
  std::vector<bool> exists;
  EMBERDB_RETURN_IF_ERROR(store_->MultiGet(Cf::kIds, id_keys, &label_values, &exists));
  std::vector<uint64_t> old_labels;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (!exists[i]) continue;
    if (mode == WriteMode::kAdd) {
      return Status::AlreadyExists("document '" + docs[i].record.id +
                                   "' already exists in collection '" + name() + "'");
    }
    if (label_values[i].size() != 8) return Status::Corruption("malformed id record");
    old_labels.push_back(storage::ReadU64BE(label_values[i].data()));
  }
  std::vector<Document> old_docs;
  std::vector<bool> old_found;
  EMBERDB_RETURN_IF_ERROR(FetchDocs(old_labels, kIncludeAll, nullptr, &old_docs, &old_found));

  storage::Batch batch = store_->NewBatch();
  Counters counters = counters_;
  std::vector<int64_t> index_labels;
  std::vector<float> index_vectors;
  std::string value;
  std::vector<std::string> index_keys;
  size_t next_old = 0;
  for (size_t i = 0; i < docs.size(); ++i) {
    Prepared& d = docs[i];
    uint64_t label;
    if (exists[i]) {
      label = old_labels[next_old];
      const Document& old = old_docs[next_old++];
      // Re-ingesting an unchanged document writes nothing.
      if (old.text == d.record.text && old.metadata == d.record.metadata &&
          old.vector == d.vector) {
        continue;
      }
      storage::IndexKeysFor(c, label, old.metadata, &index_keys);
      for (const auto& k : index_keys) batch.Delete(Cf::kMetaIndex, k);
    } else {
      label = counters.next_label++;
      ++counters.count;
      std::string l;
      storage::AppendU64BE(&l, label);
      batch.Put(Cf::kIds, id_keys[i], l);
    }
    const std::string key = storage::LabelKey(c, label);
    value.clear();
    storage::EncodeDocRecord(d.record, &value);
    batch.Put(Cf::kDocs, key, value);
    storage::EncodeVector(d.vector.data(), dim, &value);
    batch.Put(Cf::kVectors, key, value);
    storage::IndexKeysFor(c, label, d.record.metadata, &index_keys);
    for (const auto& k : index_keys) batch.Put(Cf::kMetaIndex, k, {});
    batch.Put(Cf::kChanges, storage::ChangeKey(c, ++counters.change_seq),
              ChangeValue(kChangeAdd, label));
    index_labels.push_back(static_cast<int64_t>(label));
    index_vectors.insert(index_vectors.end(), d.vector.begin(), d.vector.end());
    ToIndexSpace(record_.options.metric, index_vectors.data() + index_vectors.size() - dim, dim);
  }
  if (index_labels.empty()) return Status::OK();
  batch.Put(Cf::kDefault, CountersKey(c), EncodeCounters(counters));
  EMBERDB_RETURN_IF_ERROR(store_->Write(&batch, wo.sync));
  counters_ = counters;
  count_.store(counters.count);
  index_.Apply(index_labels, index_vectors, {}, counters.change_seq);
  return Status::OK();
}

Status CollectionImpl::Delete(const std::vector<std::string>& ids, const WriteOptions& wo,
                              uint64_t* deleted) {
  EMBERDB_RETURN_IF_ERROR(CheckUsable(true));
  for (const auto& id : ids) EMBERDB_RETURN_IF_ERROR(ValidateId(id));
  std::lock_guard lock(write_mu_);
  std::vector<uint64_t> labels;
  EMBERDB_RETURN_IF_ERROR(LookupLabels(ids, nullptr, &labels));
  return DeleteLabelsLocked(labels, wo, deleted);
}

Status CollectionImpl::DeleteWhere(const std::string& where, const std::string& where_document,
                                   const WriteOptions& wo, uint64_t* deleted) {
  EMBERDB_RETURN_IF_ERROR(CheckUsable(true));
  std::unique_ptr<Filter> filter;
  EMBERDB_RETURN_IF_ERROR(Filter::Parse(where, where_document, &filter));
  if (filter->empty()) {
    return Status::InvalidArgument("DeleteWhere needs a where or where_document filter");
  }
  std::lock_guard lock(write_mu_);
  std::vector<uint64_t> labels;
  EMBERDB_RETURN_IF_ERROR(MatchingLabels(*filter, nullptr, &labels));
  return DeleteLabelsLocked(labels, wo, deleted);
}

Status CollectionImpl::DeleteLabelsLocked(const std::vector<uint64_t>& labels_in,
                                          const WriteOptions& wo, uint64_t* deleted) {
  if (deleted) *deleted = 0;
  std::vector<uint64_t> labels = labels_in;
  std::sort(labels.begin(), labels.end());
  labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
  std::vector<Document> docs;
  std::vector<bool> found;
  EMBERDB_RETURN_IF_ERROR(FetchDocs(labels, kIncludeMetadatas, nullptr, &docs, &found));
  const uint32_t c = cid();
  storage::Batch batch = store_->NewBatch();
  Counters counters = counters_;
  std::vector<int64_t> removed;
  std::vector<std::string> index_keys;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!found[i]) continue;
    const std::string key = storage::LabelKey(c, labels[i]);
    batch.Delete(Cf::kIds, storage::IdKey(c, docs[i].id));
    batch.Delete(Cf::kDocs, key);
    batch.Delete(Cf::kVectors, key);
    storage::IndexKeysFor(c, labels[i], docs[i].metadata, &index_keys);
    for (const auto& k : index_keys) batch.Delete(Cf::kMetaIndex, k);
    batch.Put(Cf::kChanges, storage::ChangeKey(c, ++counters.change_seq),
              ChangeValue(kChangeRemove, labels[i]));
    --counters.count;
    removed.push_back(static_cast<int64_t>(labels[i]));
  }
  if (removed.empty()) return Status::OK();
  batch.Put(Cf::kDefault, CountersKey(c), EncodeCounters(counters));
  EMBERDB_RETURN_IF_ERROR(store_->Write(&batch, wo.sync));
  counters_ = counters;
  count_.store(counters.count);
  index_.Apply({}, {}, removed, counters.change_seq);
  if (deleted) *deleted = removed.size();
  return Status::OK();
}

}  // namespace emberdb
