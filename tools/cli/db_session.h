// Opening the database and a collection for a command, with the error sentences users see
// ("collection 'x' not found in /path").
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "emberdb/db.h"

namespace emberdb::cli {

// Adds --db (defaulting to $EMBERDB_DB) to `command`, storing into `*path`.
void AddDbOption(CLI::App* command, std::string* path);
// Adds --collection/-c to `command`, required.
void AddCollectionOption(CLI::App* command, std::string* name);

enum class Access {
  kRead,    // the database must exist; falls back to a read-only handle if a writer holds it
  kWrite,   // the database must exist
  kCreate,  // created when missing
};

// Opens `path`. Errors name the path: "no emberdb database at /x", "database /x is locked...".
Status OpenDatabase(const std::string& path, Access access, std::unique_ptr<DB>* out);

// Gets collection `name`; NotFound reads "collection 'name' not found in /path".
Status OpenCollection(DB* db, const std::string& db_path, const std::string& name,
                      std::shared_ptr<Collection>* out);

// Both of the above: what most commands start with.
Status OpenDatabaseAndCollection(const std::string& db_path, const std::string& name, Access access,
                                 std::unique_ptr<DB>* db, std::shared_ptr<Collection>* collection);

}  // namespace emberdb::cli

namespace emberdb::cli {

// The collection an ingest writes to: the existing one, or a new cosine collection with
// `embedder`. When `embedder_given` and the existing collection uses another embedder, fails
// with InvalidArgument (mixing vector spaces would make search meaningless).
Status OpenCollectionForIngest(DB* db, const std::string& db_path, const std::string& name,
                               const std::string& embedder, bool embedder_given,
                               std::shared_ptr<Collection>* out);

}  // namespace emberdb::cli
