#include "db/db_impl.h"

#include <cblas.h>
#include <malloc.h>
#include <omp.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include "ann/vector_index.h"
#include "db/validation.h"
#include "storage/keys.h"

namespace emberdb {
namespace {

using storage::Cf;

// One thread budget for the process: OpenMP (FAISS, ann/'s scans) and OpenBLAS (k-means, batch
// distance GEMMs, the BERT encoder) both get Options::threads. They do not nest: FAISS calls
// BLAS outside its parallel regions, and the BERT encoder runs its batches one at a time when
// BLAS is multi-threaded (embedder/bert_encoder.cc).
int ApplyThreadBudget(int requested) {
  int n = requested > 0 ? requested : static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
  return n;
}

// See Options::malloc_mmap_threshold. Only ever lowers the threshold to the requested value
// (mallopt also stops glibc from raising it on its own), so two databases opened with
// different settings keep the smaller.
void ApplyMallocThreshold(size_t bytes) {
#ifdef __GLIBC__
  static std::mutex mu;
  static size_t applied = 0;
  std::lock_guard lock(mu);
  if (bytes == 0 || (applied != 0 && applied <= bytes)) return;
  if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(std::min<size_t>(bytes, 1u << 30))) == 1) {
    applied = bytes;
  }
#else
  (void)bytes;
#endif
}

std::string IdentityString(const EmbedderIdentity& id) {
  return id.kind + (id.model.empty() ? "" : ":" + id.model) + " (dimension " +
         std::to_string(id.dimension) + ", fingerprint " + id.fingerprint + ")";
}

}  // namespace

Status DB::Open(const std::string& path, const Options& options, std::unique_ptr<DB>* out) {
  if (path.empty()) return Status::InvalidArgument("database path is empty");
  storage::StoreOptions so;
  so.create_if_missing = options.create_if_missing;
  so.error_if_exists = options.error_if_exists;
  so.read_only = options.read_only;
  so.block_cache_bytes = options.block_cache_bytes;
  std::unique_ptr<storage::Store> store;
  EMBERDB_RETURN_IF_ERROR(storage::Store::Open(path, so, &store));
  Options effective = options;
  effective.threads = ApplyThreadBudget(options.threads);
  ApplyMallocThreshold(options.malloc_mmap_threshold);
  if (effective.embedder.threads == 0) effective.embedder.threads = effective.threads;
  auto db = std::make_unique<DBImpl>(path, effective, std::move(store));
  EMBERDB_RETURN_IF_ERROR(db->LoadCatalog());
  *out = std::move(db);
  return Status::OK();
}

DBImpl::DBImpl(std::string path, Options options, std::shared_ptr<storage::Store> store)
    : path_(std::move(path)),
      options_(std::move(options)),
      store_(std::move(store)),
      log_(std::make_shared<EventLog>(store_->read_only() ? "" : path_ + "/emberdb.log",
                                      options_.log_to_stderr)) {}

DBImpl::~DBImpl() { Close(); }

Status DBImpl::LoadCatalog() {
  std::map<std::string, CollectionRecord> catalog;
  auto it = store_->NewIterator(Cf::kDefault, std::string(kCatalogPrefix));
  for (; it->Valid(); it->Next()) {
    CollectionRecord rec;
    EMBERDB_RETURN_IF_ERROR(DecodeCollectionRecord(it->value(), &rec));
    catalog.emplace(rec.name, std::move(rec));
  }
  EMBERDB_RETURN_IF_ERROR(it->status());
  std::lock_guard lock(mu_);
  catalog_ = std::move(catalog);
  return Status::OK();
}

Status DBImpl::CheckOpen() const {
  if (closed_) return Status::Aborted("database " + path_ + " is closed");
  return Status::OK();
}

Status DBImpl::CheckWritable() const {
  if (store_->read_only()) return Status::NotSupported("database " + path_ + " is open read-only");
  return Status::OK();
}

Status DBImpl::Close() {
  std::lock_guard lock(mu_);
  if (closed_) return Status::OK();
  closed_ = true;
  Status result;
  for (auto& [name, collection] : open_) {
    collection->Invalidate(Status::Aborted("database " + path_ + " is closed"), false);
  }
  open_.clear();
  // Collections keep the store alive while the application still holds their handles.
  store_.reset();
  return result;
}

Status DBImpl::MakeEmbedder(const CollectionOptions& options,
                            std::unique_ptr<Embedder>* out) const {
  EmbedderOptions eo = options_.embedder;
  if (!options.query_prompt.empty()) eo.query_prompt = options.query_prompt;
  if (!options.document_prompt.empty()) eo.document_prompt = options.document_prompt;
  eo.truncation_is_error = options.truncation_is_error;
  return NewEmbedder(options.embedder, eo, out);
}

Status DBImpl::CreateCollection(const std::string& name, const CollectionOptions& options,
                                std::shared_ptr<Collection>* out) {
  EMBERDB_RETURN_IF_ERROR(ValidateCollectionName(name));
  CollectionRecord rec;
  rec.name = name;
  rec.options = options;
  ann::IndexSpec spec;
  EMBERDB_RETURN_IF_ERROR(ann::IndexSpec::Parse(options.index, &spec).WithContext("index"));
  if (options.nprobe < 0) return Status::InvalidArgument("nprobe must not be negative");
  if (options.target_recall < 0 || options.target_recall > 1) {
    return Status::InvalidArgument("target_recall must be between 0 and 1");
  }
  std::unique_ptr<Embedder> embedder;
  if (!options.embedder.empty()) {
    EMBERDB_RETURN_IF_ERROR(MakeEmbedder(options, &embedder));
    rec.embedder = embedder->identity();
    if (options.dimension != 0 && options.dimension != embedder->dimension()) {
      return Status::InvalidArgument("dimension " + std::to_string(options.dimension) +
                                     " disagrees with embedder '" + options.embedder +
                                     "', which produces " + std::to_string(embedder->dimension()));
    }
    rec.options.dimension = embedder->dimension();
  }
  if (rec.options.dimension == 0) {
    return Status::InvalidArgument("dimension is required when the collection has no embedder");
  }
  if (rec.options.dimension > 65536) {
    return Status::InvalidArgument("dimension " + std::to_string(rec.options.dimension) +
                                   " exceeds the limit of 65536");
  }

  std::lock_guard lock(mu_);
  EMBERDB_RETURN_IF_ERROR(CheckOpen());
  EMBERDB_RETURN_IF_ERROR(CheckWritable());
  if (catalog_.count(name)) {
    return Status::AlreadyExists("collection '" + name + "' already exists in " + path_);
  }
  std::string bytes;
  bool found = false;
  EMBERDB_RETURN_IF_ERROR(
      store_->Get(Cf::kDefault, std::string(kNextCollectionIdKey), &bytes, nullptr, &found));
  rec.cid = found && bytes.size() == 4 ? storage::ReadU32BE(bytes.data()) : 1;
  std::string next;
  storage::AppendU32BE(&next, rec.cid + 1);
  storage::Batch batch = store_->NewBatch();
  batch.Put(Cf::kDefault, CatalogKey(name), EncodeCollectionRecord(rec));
  batch.Put(Cf::kDefault, std::string(kNextCollectionIdKey), next);
  batch.Put(Cf::kDefault, CountersKey(rec.cid), EncodeCounters(Counters()));
  EMBERDB_RETURN_IF_ERROR(store_->Write(&batch, /*sync=*/true));
  catalog_[name] = rec;
  auto collection =
      std::make_shared<CollectionImpl>(MakeIndexEnv(), rec, std::move(embedder), Status());
  EMBERDB_RETURN_IF_ERROR(collection->Open());
  open_[name] = collection;
  *out = collection;
  return Status::OK();
}

Status DBImpl::OpenCollectionLocked(const CollectionRecord& rec,
                                    std::shared_ptr<CollectionImpl>* out) {
  std::unique_ptr<Embedder> embedder;
  Status embedder_status;
  if (!rec.options.embedder.empty()) {
    embedder_status = MakeEmbedder(rec.options, &embedder);
    if (embedder_status.ok()) {
      EmbedderIdentity now = embedder->identity();
      const EmbedderIdentity& stored = rec.embedder;
      if (now.kind != stored.kind || now.dimension != stored.dimension ||
          now.fingerprint != stored.fingerprint) {
        return Status::InvalidArgument("collection '" + rec.name + "' was created with embedder " +
                                       IdentityString(stored) + " but '" + rec.options.embedder +
                                       "' now gives " + IdentityString(now) +
                                       "; refusing to mix vector spaces");
      }
    }
  }
  auto collection =
      std::make_shared<CollectionImpl>(MakeIndexEnv(), rec, std::move(embedder), embedder_status);
  EMBERDB_RETURN_IF_ERROR(collection->Open());
  open_[rec.name] = collection;
  *out = std::move(collection);
  return Status::OK();
}

Status DBImpl::GetCollection(const std::string& name, std::shared_ptr<Collection>* out) {
  std::lock_guard lock(mu_);
  EMBERDB_RETURN_IF_ERROR(CheckOpen());
  auto open = open_.find(name);
  if (open != open_.end()) {
    *out = open->second;
    return Status::OK();
  }
  auto rec = catalog_.find(name);
  if (rec == catalog_.end()) {
    return Status::NotFound("collection '" + name + "' not found in " + path_);
  }
  std::shared_ptr<CollectionImpl> collection;
  EMBERDB_RETURN_IF_ERROR(OpenCollectionLocked(rec->second, &collection));
  *out = std::move(collection);
  return Status::OK();
}

Status DBImpl::GetOrCreateCollection(const std::string& name, const CollectionOptions& options,
                                     std::shared_ptr<Collection>* out) {
  Status s = GetCollection(name, out);
  if (s.IsNotFound()) {
    s = CreateCollection(name, options, out);
    if (!s.IsAlreadyExists()) return s;  // else another thread created it meanwhile
    s = GetCollection(name, out);
  }
  EMBERDB_RETURN_IF_ERROR(s);
  const CollectionOptions& have = (*out)->info().options;
  if ((options.dimension != 0 && options.dimension != have.dimension) ||
      options.metric != have.metric || options.embedder != have.embedder) {
    out->reset();
    return Status::InvalidArgument("collection '" + name +
                                   "' exists with a different dimension, metric or embedder");
  }
  return Status::OK();
}

Status DBImpl::ListCollections(std::vector<CollectionInfo>* out) {
  std::lock_guard lock(mu_);
  EMBERDB_RETURN_IF_ERROR(CheckOpen());
  out->clear();
  for (const auto& [name, rec] : catalog_) {
    auto open = open_.find(name);
    if (open != open_.end()) {
      out->push_back(open->second->info());
      continue;
    }
    CollectionInfo info;
    info.name = name;
    info.options = rec.options;
    info.embedder = rec.embedder;
    std::string bytes;
    bool found = false;
    EMBERDB_RETURN_IF_ERROR(
        store_->Get(Cf::kDefault, CountersKey(rec.cid), &bytes, nullptr, &found));
    Counters counters;
    if (found) EMBERDB_RETURN_IF_ERROR(DecodeCounters(bytes, &counters));
    info.count = counters.count;
    out->push_back(std::move(info));
  }
  return Status::OK();
}

Status DBImpl::DropCollection(const std::string& name) {
  std::lock_guard lock(mu_);
  EMBERDB_RETURN_IF_ERROR(CheckOpen());
  EMBERDB_RETURN_IF_ERROR(CheckWritable());
  auto rec = catalog_.find(name);
  if (rec == catalog_.end()) {
    return Status::NotFound("collection '" + name + "' not found in " + path_);
  }
  auto open = open_.find(name);
  if (open != open_.end()) {
    open->second->Invalidate(Status::NotFound("collection '" + name + "' was dropped"), true);
  }
  const std::string prefix = storage::CollectionPrefix(rec->second.cid);
  const std::string end = storage::PrefixSuccessor(prefix);
  storage::Batch batch = store_->NewBatch();
  for (Cf cf : {Cf::kIds, Cf::kDocs, Cf::kVectors, Cf::kMetaIndex, Cf::kChanges}) {
    batch.DeleteRange(cf, prefix, end);
  }
  batch.Delete(Cf::kDefault, CatalogKey(name));
  batch.Delete(Cf::kDefault, CountersKey(rec->second.cid));
  EMBERDB_RETURN_IF_ERROR(store_->Write(&batch, /*sync=*/true));
  if (open != open_.end()) open_.erase(open);
  catalog_.erase(rec);
  return Status::OK();
}

Status DBImpl::Refresh() {
  {
    std::lock_guard lock(mu_);
    EMBERDB_RETURN_IF_ERROR(CheckOpen());
  }
  if (!store_->read_only()) return Status::OK();
  EMBERDB_RETURN_IF_ERROR(store_->CatchUp());
  EMBERDB_RETURN_IF_ERROR(LoadCatalog());
  std::lock_guard lock(mu_);
  for (auto it = open_.begin(); it != open_.end();) {
    auto rec = catalog_.find(it->first);
    if (rec == catalog_.end() || rec->second.cid != it->second->cid()) {
      it->second->Invalidate(Status::NotFound("collection '" + it->first + "' was dropped"), false);
      it = open_.erase(it);
      continue;
    }
    EMBERDB_RETURN_IF_ERROR(it->second->Refresh());
    ++it;
  }
  return Status::OK();
}

Status DBImpl::Compact(uint64_t* bytes_reclaimed) {
  std::lock_guard lock(mu_);
  EMBERDB_RETURN_IF_ERROR(CheckOpen());
  return store_->Compact(bytes_reclaimed);
}

Status DBImpl::Backup(const std::string& dir) {
  std::lock_guard lock(mu_);
  EMBERDB_RETURN_IF_ERROR(CheckOpen());
  return store_->Checkpoint(dir);
}

}  // namespace emberdb
