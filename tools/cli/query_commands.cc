// `emberdb query`, `get`, `delete` and `count`: reading and removing documents.
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "db_session.h"
#include "metadata_json.h"

namespace emberdb::cli {
namespace {

using nlohmann::json;

struct QueryArgs {
  std::string db, collection, where, where_document;
  size_t k = 5;
  int nprobe = 0;
  bool json = false;
  std::vector<std::string> text;
};

struct GetArgs {
  std::string db, collection, where, where_document;
  std::vector<std::string> ids;
  size_t limit = SIZE_MAX;
  size_t offset = 0;
  bool json = false;
  bool vectors = false;
};

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out.push_back(' ');
    out += w;
  }
  return out;
}

// Filters are checked here so that a typo is a usage error, not a database error.
bool CheckFilters(const std::string& where, const std::string& where_document, std::string* error) {
  for (const auto& [text, flag] :
       {std::pair{&where, "--where"}, std::pair{&where_document, "--where-document"}}) {
    if (text->empty()) continue;
    const json parsed = json::parse(*text, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      *error = std::string(flag) + " must be a JSON object, e.g. '{\"source\": \"a.md\"}'";
      return false;
    }
  }
  return true;
}

std::string DocumentJson(const std::string& id, const std::string& text, const Metadata& metadata,
                         const std::vector<float>* vector, const float* score,
                         const float* distance) {
  json object = {{"id", id}, {"text", text}, {"metadata", MetadataToJson(metadata)}};
  if (score) object["score"] = *score;
  if (distance) object["distance"] = *distance;
  std::string line = object.dump(-1, ' ', false, json::error_handler_t::replace);
  if (vector && !vector->empty()) line = AppendRawField(line, "vector", VectorToJson(*vector));
  return line;
}

int RunQuery(const CLI::App& cmd, const QueryArgs& args) {
  if (args.db.empty()) return UsageError(cmd, "--db is required (or set EMBERDB_DB)");
  std::string error;
  if (!CheckFilters(args.where, args.where_document, &error)) return UsageError(cmd, error);
  const std::string text = Join(args.text);
  if (text.empty()) return UsageError(cmd, "the query text is empty");
  std::unique_ptr<DB> db;
  std::shared_ptr<Collection> collection;
  Status s = OpenDatabaseAndCollection(args.db, args.collection, Access::kRead, &db, &collection);
  if (!s.ok()) return StatusError(s);
  QueryOptions options;
  options.k = args.k;
  options.where = args.where;
  options.where_document = args.where_document;
  options.nprobe = args.nprobe;
  std::vector<Hit> hits;
  s = collection->QueryText(text, options, &hits);
  if (!s.ok()) return StatusError(s, "query failed");
  for (size_t i = 0; i < hits.size(); ++i) {
    const Hit& h = hits[i];
    if (args.json) {
      std::cout << DocumentJson(h.id, h.text, h.metadata, nullptr, &h.score, &h.distance) << "\n";
      continue;
    }
    const std::string source = MetadataString(h.metadata, "source");
    std::printf("%2zu. %.4f  %s%s%s\n    %s\n", i + 1, h.score, h.id.c_str(),
                source.empty() ? "" : "  [", source.empty() ? "" : (source + "]").c_str(),
                Snippet(h.text).c_str());
  }
  if (hits.empty() && !args.json) std::printf("no results\n");
  return kExitOk;
}

int RunGet(const CLI::App& cmd, const GetArgs& args) {
  if (args.db.empty()) return UsageError(cmd, "--db is required (or set EMBERDB_DB)");
  std::string error;
  if (!CheckFilters(args.where, args.where_document, &error)) return UsageError(cmd, error);
  std::unique_ptr<DB> db;
  std::shared_ptr<Collection> collection;
  Status s = OpenDatabaseAndCollection(args.db, args.collection, Access::kRead, &db, &collection);
  if (!s.ok()) return StatusError(s);
  GetOptions options;
  options.ids = args.ids;
  options.where = args.where;
  options.where_document = args.where_document;
  options.limit = args.limit;
  options.offset = args.offset;
  options.include = args.vectors ? kIncludeAll : kIncludeDefault;
  std::vector<Document> docs;
  s = collection->Get(options, &docs);
  if (!s.ok()) return StatusError(s, "get failed");
  for (const auto& d : docs) {
    if (args.json) {
      std::cout << DocumentJson(d.id, d.text, d.metadata, &d.vector, nullptr, nullptr) << "\n";
    } else {
      std::printf("%s\n    %s\n", d.id.c_str(), Snippet(d.text).c_str());
    }
  }
  return kExitOk;
}

int RunDelete(const CLI::App& cmd, const GetArgs& args) {
  if (args.db.empty()) return UsageError(cmd, "--db is required (or set EMBERDB_DB)");
  const bool by_ids = !args.ids.empty();
  const bool by_filter = !args.where.empty() || !args.where_document.empty();
  if (by_ids == by_filter) return UsageError(cmd, "give either --ids or --where/--where-document");
  std::string error;
  if (!CheckFilters(args.where, args.where_document, &error)) return UsageError(cmd, error);
  std::unique_ptr<DB> db;
  std::shared_ptr<Collection> collection;
  Status s = OpenDatabaseAndCollection(args.db, args.collection, Access::kWrite, &db, &collection);
  if (!s.ok()) return StatusError(s);
  uint64_t deleted = 0;
  s = by_ids ? collection->Delete(args.ids, {}, &deleted)
             : collection->DeleteWhere(args.where, args.where_document, {}, &deleted);
  if (!s.ok()) return StatusError(s, "delete failed");
  s = db->Close();
  if (!s.ok()) return StatusError(s, "cannot close database " + args.db);
  std::printf("deleted %llu documents\n", static_cast<unsigned long long>(deleted));
  return kExitOk;
}

int RunCount(const CLI::App& cmd, const GetArgs& args) {
  if (args.db.empty()) return UsageError(cmd, "--db is required (or set EMBERDB_DB)");
  std::unique_ptr<DB> db;
  std::shared_ptr<Collection> collection;
  Status s = OpenDatabaseAndCollection(args.db, args.collection, Access::kRead, &db, &collection);
  if (!s.ok()) return StatusError(s);
  uint64_t count = 0;
  s = collection->Count(&count);
  if (!s.ok()) return StatusError(s, "count failed");
  std::printf("%llu\n", static_cast<unsigned long long>(count));
  return kExitOk;
}

void AddFilterOptions(CLI::App* cmd, std::string* where, std::string* where_document) {
  cmd->add_option("--where", *where, "Metadata filter (JSON), e.g. '{\"source\": \"a.md\"}'");
  cmd->add_option("--where-document", *where_document,
                  "Text filter (JSON), e.g. '{\"$contains\": \"rocksdb\"}'");
}

}  // namespace

void AddQueryCommands(CLI::App* root, CommandList* commands) {
  {
    auto args = std::make_shared<QueryArgs>();
    CLI::App* cmd = root->add_subcommand("query", "Search a collection with a text query");
    AddDbOption(cmd, &args->db);
    AddCollectionOption(cmd, &args->collection);
    cmd->add_option("-k", args->k, "Number of results")
        ->capture_default_str()
        ->check(CLI::Range(size_t{1}, size_t{100000}));
    AddFilterOptions(cmd, &args->where, &args->where_document);
    cmd->add_option("--nprobe", args->nprobe, "IVF lists to probe (0: the collection's setting)");
    cmd->add_flag("--json", args->json,
                  "One JSON object per result: id, score, distance, text, metadata");
    cmd->add_option("text", args->text, "Query text")->required();
    commands->push_back({cmd, [cmd, args] { return RunQuery(*cmd, *args); }});
  }
  {
    auto args = std::make_shared<GetArgs>();
    CLI::App* cmd = root->add_subcommand("get", "Read documents by id or filter");
    AddDbOption(cmd, &args->db);
    AddCollectionOption(cmd, &args->collection);
    cmd->add_option("--ids", args->ids, "Ids (comma-separated or repeated)")->delimiter(',');
    AddFilterOptions(cmd, &args->where, &args->where_document);
    cmd->add_option("--limit", args->limit, "At most this many documents (default: all)");
    cmd->add_option("--offset", args->offset, "Skip this many matching documents");
    cmd->add_flag("--json", args->json, "One JSON object per document: id, text, metadata");
    cmd->add_flag("--vectors", args->vectors, "Include vectors in --json output");
    commands->push_back({cmd, [cmd, args] { return RunGet(*cmd, *args); }});
  }
  {
    auto args = std::make_shared<GetArgs>();
    CLI::App* cmd = root->add_subcommand("delete", "Delete documents by id or filter");
    AddDbOption(cmd, &args->db);
    AddCollectionOption(cmd, &args->collection);
    cmd->add_option("--ids", args->ids, "Ids (comma-separated or repeated)")->delimiter(',');
    AddFilterOptions(cmd, &args->where, &args->where_document);
    commands->push_back({cmd, [cmd, args] { return RunDelete(*cmd, *args); }});
  }
  {
    auto args = std::make_shared<GetArgs>();
    CLI::App* cmd = root->add_subcommand("count", "Print the number of documents");
    AddDbOption(cmd, &args->db);
    AddCollectionOption(cmd, &args->collection);
    commands->push_back({cmd, [cmd, args] { return RunCount(*cmd, *args); }});
  }
}

}  // namespace emberdb::cli
