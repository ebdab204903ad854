// DBImpl: a database directory: the storage handle, the catalog of collections, and the
// collections opened so far (opened lazily: a collection's index is built on first use).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "db/collection_impl.h"
#include "db/event_log.h"
#include "emberdb/db.h"
#include "storage/store.h"

namespace emberdb {

class DBImpl : public DB {
 public:
  DBImpl(std::string path, Options options, std::shared_ptr<storage::Store> store);
  ~DBImpl() override;

  Status LoadCatalog();

  Status Close() override;
  Status CreateCollection(const std::string& name, const CollectionOptions& options,
                          std::shared_ptr<Collection>* out) override;
  Status GetCollection(const std::string& name, std::shared_ptr<Collection>* out) override;
  Status GetOrCreateCollection(const std::string& name, const CollectionOptions& options,
                               std::shared_ptr<Collection>* out) override;
  Status ListCollections(std::vector<CollectionInfo>* out) override;
  Status DropCollection(const std::string& name) override;
  Status Refresh() override;
  Status Compact(uint64_t* bytes_reclaimed) override;
  Status Backup(const std::string& dir) override;

 private:
  Status CheckOpen() const;
  Status CheckWritable() const;
  // Creates the embedder a collection's options name, with the collection's prompt settings.
  Status MakeEmbedder(const CollectionOptions& options, std::unique_ptr<Embedder>* out) const;
  IndexEnv MakeIndexEnv() const { return {store_, log_, path_ + "/index"}; }
  Status OpenCollectionLocked(const CollectionRecord& record, std::shared_ptr<CollectionImpl>* out);

  const std::string path_;
  const Options options_;
  std::shared_ptr<storage::Store> store_;
  std::shared_ptr<EventLog> log_;

  std::mutex mu_;  // guards everything below
  bool closed_ = false;
  std::map<std::string, CollectionRecord> catalog_;
  std::map<std::string, std::shared_ptr<CollectionImpl>> open_;
};

}  // namespace emberdb
