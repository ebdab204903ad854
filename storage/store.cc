#include "storage/store.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <cstdlib>
#include <filesystem>

#include "storage/keys.h"

namespace emberdb::storage {
namespace {

constexpr uint32_t kFormatVersion = 1;
constexpr const char* kFormatVersionKey = "format_version";
constexpr const char* kCfNames[] = {"default", "ids", "docs", "vectors", "meta_index", "changes"};
static_assert(std::size(kCfNames) == static_cast<size_t>(Cf::kCount));

Status FromRocks(const rocksdb::Status& s, const std::string& path) {
  if (s.ok()) return Status::OK();
  std::string msg = s.ToString();
  if (s.IsIOError() && msg.find("lock") != std::string::npos) {
    return Status::Busy("database " + path +
                        " is locked: another process has it open for writing (" + msg + ")");
  }
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(msg);
  if (s.IsNotSupported()) return Status::NotSupported(msg);
  return Status::IOError(msg);
}

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

}  // namespace

// ---- Batch ----

Batch::Batch() : batch_(std::make_unique<rocksdb::WriteBatch>()) {}
Batch::~Batch() = default;
Batch::Batch(Batch&&) noexcept = default;
Batch& Batch::operator=(Batch&&) noexcept = default;

void Batch::Put(Cf cf, std::string_view key, std::string_view value) {
  batch_->Put((*cfs_)[static_cast<int>(cf)], ToSlice(key), ToSlice(value));
}
void Batch::Delete(Cf cf, std::string_view key) {
  batch_->Delete((*cfs_)[static_cast<int>(cf)], ToSlice(key));
}
void Batch::DeleteRange(Cf cf, std::string_view begin, std::string_view end) {
  batch_->DeleteRange((*cfs_)[static_cast<int>(cf)], ToSlice(begin), ToSlice(end));
}
size_t Batch::count() const { return batch_->Count(); }

// ---- ReadView ----

ReadView::~ReadView() {
  if (snapshot_) db_->ReleaseSnapshot(snapshot_);
}

// ---- PrefixIterator ----

PrefixIterator::PrefixIterator(rocksdb::Iterator* it, std::string prefix)
    : it_(it), prefix_(std::move(prefix)) {
  it_->Seek(prefix_);
}
PrefixIterator::~PrefixIterator() = default;
void PrefixIterator::Seek(std::string_view key) {
  it_->Seek(key < std::string_view(prefix_) ? ToSlice(prefix_) : ToSlice(key));
}
bool PrefixIterator::Valid() const { return it_->Valid() && it_->key().starts_with(prefix_); }
void PrefixIterator::Next() { it_->Next(); }
std::string_view PrefixIterator::key() const { return it_->key().ToStringView(); }
std::string_view PrefixIterator::value() const { return it_->value().ToStringView(); }
Status PrefixIterator::status() const { return FromRocks(it_->status(), ""); }

// ---- Store ----

Status Store::Open(const std::string& path, const StoreOptions& options,
                   std::unique_ptr<Store>* out) {
  std::unique_ptr<Store> store(new Store());
  store->path_ = path;
  store->read_only_ = options.read_only;

  rocksdb::Options db_options;
  db_options.create_if_missing = options.create_if_missing && !options.read_only;
  db_options.create_missing_column_families = !options.read_only;
  db_options.error_if_exists = options.error_if_exists;
  db_options.max_open_files = options.read_only ? -1 : 1000;
  db_options.keep_log_file_num = 4;
  // A WAL file is deleted only once every column family with data in it has flushed; the small
  // ones (counters, the change log) rarely fill a memtable, so a bulk load kept its whole WAL:
  // 3.2 GB after 1M x 768, all of it replayed by a reopen. Past this total RocksDB flushes
  // whatever holds the oldest file.
  db_options.max_total_wal_size = uint64_t{512} << 20;
  // Write back files as they grow rather than in bursts of GBs of dirty pages, which stall
  // every writer of the machine (the WAL is still synced only when WriteOptions::sync asks).
  db_options.bytes_per_sync = 1 << 20;
  db_options.wal_bytes_per_sync = 1 << 20;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Vectors are incompressible floats; everything else compresses well with LZ4 if built in.
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const char* name : kCfNames) {
    rocksdb::ColumnFamilyOptions cfo = cf_options;
    if (std::string_view(name) == "vectors") cfo.compression = rocksdb::kNoCompression;
    descriptors.emplace_back(name, cfo);
  }

  std::error_code ec;
  if (options.read_only) {
    if (!std::filesystem::exists(std::filesystem::path(path) / "CURRENT", ec)) {
      return Status::NotFound("no emberdb database at " + path);
    }
    std::string tmpl = (std::filesystem::temp_directory_path(ec) / "emberdb-secondary-XXXXXX");
    if (mkdtemp(tmpl.data()) == nullptr) {
      return Status::IOError("cannot create a directory for the read-only handle of " + path);
    }
    store->secondary_path_ = tmpl;
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::OpenAsSecondary(db_options, path, store->secondary_path_,
                                                     descriptors, &store->cfs_, &db);
    if (!s.ok()) {
      std::filesystem::remove_all(store->secondary_path_, ec);
      return FromRocks(s, path).WithContext("opening " + path + " read-only");
    }
    store->db_.reset(db);
  } else {
    if (!options.create_if_missing && !std::filesystem::exists(path, ec)) {
      return Status::NotFound("no emberdb database at " + path + " (create_if_missing is off)");
    }
    std::filesystem::create_directories(path, ec);
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(db_options, path, descriptors, &store->cfs_, &db);
    if (!s.ok()) return FromRocks(s, path).WithContext("opening " + path);
    store->db_.reset(db);
  }

  // The format version: written by the first writer, checked by every opener.
  std::string version;
  bool found = false;
  EMBERDB_RETURN_IF_ERROR(store->Get(Cf::kDefault, kFormatVersionKey, &version, nullptr, &found));
  if (found) {
    if (version.size() != 4) return Status::Corruption("bad format_version record in " + path);
    uint32_t v = ReadU32BE(version.data());
    if (v > kFormatVersion) {
      return Status::NotSupported("database " + path + " has format version " + std::to_string(v) +
                                  "; this emberdb reads up to " + std::to_string(kFormatVersion));
    }
  } else if (!options.read_only) {
    Batch batch = store->NewBatch();
    std::string v;
    AppendU32BE(&v, kFormatVersion);
    batch.Put(Cf::kDefault, kFormatVersionKey, v);
    EMBERDB_RETURN_IF_ERROR(store->Write(&batch, /*sync=*/true));
  }
  *out = std::move(store);
  return Status::OK();
}

Store::~Store() {
  if (db_) {
    for (auto* cf : cfs_) db_->DestroyColumnFamilyHandle(cf);
    db_->Close();
    db_.reset();
  }
  if (!secondary_path_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(secondary_path_, ec);
  }
}

Batch Store::NewBatch() {
  Batch b;
  b.cfs_ = &cfs_;
  return b;
}

Status Store::Write(Batch* batch, bool sync) {
  if (read_only_) return Status::NotSupported("database " + path_ + " is open read-only");
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return FromRocks(db_->Write(wo, batch->batch_.get()), path_);
}

std::unique_ptr<ReadView> Store::NewReadView() const {
  // A secondary instance has no snapshots. Its data changes only in CatchUp(), so between
  // refreshes the latest data is a consistent view; a read racing a refresh may see part of it.
  return std::unique_ptr<ReadView>(
      new ReadView(db_.get(), read_only_ ? nullptr : db_->GetSnapshot()));
}

Status Store::Get(Cf cf, std::string_view key, std::string* value, const ReadView* view,
                  bool* found) const {
  rocksdb::ReadOptions ro;
  if (view) ro.snapshot = view->snapshot_;
  rocksdb::Status s = db_->Get(ro, cfs_[static_cast<int>(cf)], ToSlice(key), value);
  if (found) {
    *found = s.ok();
    if (s.IsNotFound()) return Status::OK();
  }
  return FromRocks(s, path_);
}

Status Store::MultiGet(Cf cf, const std::vector<std::string>& keys,
                       std::vector<std::string>* values, std::vector<bool>* found,
                       const ReadView* view) const {
  rocksdb::ReadOptions ro;
  if (view) ro.snapshot = view->snapshot_;
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> pinned(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  if (!keys.empty()) {
    db_->MultiGet(ro, cfs_[static_cast<int>(cf)], keys.size(), slices.data(), pinned.data(),
                  statuses.data());
  }
  values->resize(keys.size());
  found->assign(keys.size(), false);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].ok()) {
      (*values)[i].assign(pinned[i].data(), pinned[i].size());
      (*found)[i] = true;
    } else if (!statuses[i].IsNotFound()) {
      return FromRocks(statuses[i], path_);
    }
  }
  return Status::OK();
}

std::unique_ptr<PrefixIterator> Store::NewIterator(Cf cf, std::string prefix,
                                                   const ReadView* view) const {
  rocksdb::ReadOptions ro;
  if (view) ro.snapshot = view->snapshot_;
  // Valid() stops at the end of the prefix; RocksDB's iterate_upper_bound would need a Slice
  // that outlives the iterator, which the prefix check makes unnecessary.
  return std::unique_ptr<PrefixIterator>(
      new PrefixIterator(db_->NewIterator(ro, cfs_[static_cast<int>(cf)]), std::move(prefix)));
}

Status Store::CatchUp() {
  if (!read_only_) return Status::OK();
  return FromRocks(db_->TryCatchUpWithPrimary(), path_);
}

Status Store::Compact(uint64_t* reclaimed) {
  if (read_only_) return Status::NotSupported("database " + path_ + " is open read-only");
  auto sst_bytes = [&] {
    uint64_t total = 0;
    for (auto* cf : cfs_) {
      uint64_t v = 0;
      db_->GetIntProperty(cf, "rocksdb.total-sst-files-size", &v);
      total += v;
    }
    return total;
  };
  rocksdb::FlushOptions fo;
  for (auto* cf : cfs_) EMBERDB_RETURN_IF_ERROR(FromRocks(db_->Flush(fo, cf), path_));
  uint64_t before = sst_bytes();
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (auto* cf : cfs_) {
    EMBERDB_RETURN_IF_ERROR(FromRocks(db_->CompactRange(co, cf, nullptr, nullptr), path_));
  }
  uint64_t after = sst_bytes();
  if (reclaimed) *reclaimed = before > after ? before - after : 0;
  return Status::OK();
}

Status Store::Checkpoint(const std::string& dir) {
  rocksdb::Checkpoint* cp = nullptr;
  EMBERDB_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_.get(), &cp), path_));
  std::unique_ptr<rocksdb::Checkpoint> owned(cp);
  return FromRocks(cp->CreateCheckpoint(dir), path_).WithContext("backup to " + dir);
}

uint64_t Store::ApproximateBytes(const std::string& prefix) const {
  std::string end = PrefixSuccessor(prefix);
  rocksdb::Range range(prefix, end);
  uint64_t total = 0;
  rocksdb::SizeApproximationOptions opts;
  opts.include_memtables = true;
  opts.include_files = true;
  for (auto* cf : cfs_) {
    uint64_t size = 0;
    if (db_->GetApproximateSizes(opts, cf, &range, 1, &size).ok()) total += size;
  }
  return total;
}

}  // namespace emberdb::storage
