#include "db_session.h"

#include <cstdlib>
#include <filesystem>

namespace emberdb::cli {

void AddDbOption(CLI::App* command, std::string* path) {
  command->add_option("--db", *path, "Database directory")->envname("EMBERDB_DB");
}

void AddCollectionOption(CLI::App* command, std::string* name) {
  command->add_option("-c,--collection", *name, "Collection name")->required();
}

Status OpenDatabase(const std::string& path, Access access, std::unique_ptr<DB>* out) {
  std::error_code ec;
  if (access != Access::kCreate && !std::filesystem::exists(path, ec)) {
    return Status::NotFound("no emberdb database at " + path);
  }
  Options options;
  options.create_if_missing = access == Access::kCreate;
  Status s = DB::Open(path, options, out);
  if (s.IsBusy() && access == Access::kRead) {
    // Another process (e.g. a running ingest) holds the writer lock: read alongside it.
    options.read_only = true;
    s = DB::Open(path, options, out);
  }
  // The engine's message usually names the directory already; say it once.
  if (!s.ok() && s.message().find(path) == std::string::npos) {
    return s.WithContext("cannot open database " + path);
  }
  return s;
}

Status OpenCollection(DB* db, const std::string& db_path, const std::string& name,
                      std::shared_ptr<Collection>* out) {
  Status s = db->GetCollection(name, out);
  if (s.IsNotFound()) return Status::NotFound("collection '" + name + "' not found in " + db_path);
  return s;
}

Status OpenDatabaseAndCollection(const std::string& db_path, const std::string& name, Access access,
                                 std::unique_ptr<DB>* db, std::shared_ptr<Collection>* collection) {
  Status s = OpenDatabase(db_path, access, db);
  if (!s.ok()) return s;
  return OpenCollection(db->get(), db_path, name, collection);
}

}  // namespace emberdb::cli

namespace emberdb::cli {

Status OpenCollectionForIngest(DB* db, const std::string& db_path, const std::string& name,
                               const std::string& embedder, bool embedder_given,
                               std::shared_ptr<Collection>* out) {
  Status s = db->GetCollection(name, out);
  if (s.IsNotFound()) {
    CollectionOptions options;
    options.embedder = embedder;
    options.metric = Metric::kCosine;
    s = db->CreateCollection(name, options, out);
    if (!s.ok()) return s.WithContext("cannot create collection '" + name + "' in " + db_path);
    return s;
  }
  if (!s.ok()) return s;
  const std::string current = (*out)->info().options.embedder;
  if (embedder_given && current != embedder) {
    return Status::InvalidArgument("collection '" + name + "' uses embedder '" + current +
                                   "', not '" + embedder + "'");
  }
  if (current.empty()) {
    return Status::InvalidArgument("collection '" + name +
                                   "' has no embedder, so text cannot be ingested into it");
  }
  return Status::OK();
}

}  // namespace emberdb::cli
