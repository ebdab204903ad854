// Store: the RocksDB database behind an emberdb directory, reduced to what db/ needs:
// column families by role, atomic batches, consistent read views, prefix iteration.
// RocksDB types do not leak out of storage/.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "emberdb/status.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Iterator;
class Snapshot;
class WriteBatch;
}  // namespace rocksdb

namespace emberdb::storage {

// Column families, see README.md.
enum class Cf : int { kDefault = 0, kIds, kDocs, kVectors, kMetaIndex, kChanges, kCount };

struct StoreOptions {
  bool create_if_missing = true;
  bool error_if_exists = false;
  bool read_only = false;  // a RocksDB secondary instance that follows the writer
  size_t block_cache_bytes = 64u << 20;
};

// An atomic group of writes.
class Batch {
 public:
  Batch();
  ~Batch();
  Batch(Batch&&) noexcept;
  Batch& operator=(Batch&&) noexcept;
  void Put(Cf cf, std::string_view key, std::string_view value);
  void Delete(Cf cf, std::string_view key);
  // Deletes every key in [begin, end).
  void DeleteRange(Cf cf, std::string_view begin, std::string_view end);
  size_t count() const;

 private:
  friend class Store;
  std::unique_ptr<rocksdb::WriteBatch> batch_;
  std::vector<rocksdb::ColumnFamilyHandle*>* cfs_ = nullptr;  // set by Store::NewBatch
};

// A consistent point-in-time view for reads. Released on destruction, which must come before
// the Store's (as must every PrefixIterator's).
class ReadView {
 public:
  ~ReadView();
  ReadView(const ReadView&) = delete;
  ReadView& operator=(const ReadView&) = delete;

 private:
  friend class Store;
  ReadView(rocksdb::DB* db, const rocksdb::Snapshot* snapshot) : db_(db), snapshot_(snapshot) {}
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};

// Iterates the keys of one column family that start with a prefix, in order.
class PrefixIterator {
 public:
  ~PrefixIterator();
  void Seek(std::string_view key);  // positions at the first key >= key (within the prefix)
  bool Valid() const;
  void Next();
  std::string_view key() const;
  std::string_view value() const;
  Status status() const;

 private:
  friend class Store;
  PrefixIterator(rocksdb::Iterator* it, std::string prefix);
  std::unique_ptr<rocksdb::Iterator> it_;
  std::string prefix_;
};

class Store {
 public:
  static Status Open(const std::string& path, const StoreOptions& options,
                     std::unique_ptr<Store>* out);
  ~Store();

  const std::string& path() const { return path_; }
  bool read_only() const { return read_only_; }

  Batch NewBatch();
  Status Write(Batch* batch, bool sync);

  std::unique_ptr<ReadView> NewReadView() const;
  // `view` may be null: read the latest data.
  Status Get(Cf cf, std::string_view key, std::string* value, const ReadView* view = nullptr,
             bool* found = nullptr) const;
  // values[i] is set and found[i] true for keys that exist.
  Status MultiGet(Cf cf, const std::vector<std::string>& keys, std::vector<std::string>* values,
                  std::vector<bool>* found, const ReadView* view = nullptr) const;
  std::unique_ptr<PrefixIterator> NewIterator(Cf cf, std::string prefix,
                                              const ReadView* view = nullptr) const;

  // Read-only handles: catch up with the writer.
  Status CatchUp();
  // Flushes and compacts every column family; `reclaimed` gets the drop in SST bytes.
  Status Compact(uint64_t* reclaimed);
  // A RocksDB checkpoint in `dir` (hard links where possible).
  Status Checkpoint(const std::string& dir);
  // Approximate on-disk bytes of the keys starting with `prefix`, over all column families.
  uint64_t ApproximateBytes(const std::string& prefix) const;

 private:
  Store() = default;
  std::string path_;
  std::string secondary_path_;
  bool read_only_ = false;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
};

}  // namespace emberdb::storage
