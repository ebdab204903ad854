// `emberdb collections`, `create`, `drop` and `stats`: managing collections.
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "db_session.h"

namespace emberdb::cli {
namespace {

using nlohmann::json;

struct CollectionArgs {
  std::string db, collection;
  uint32_t dimension = 0;
  std::string metric = "cosine";
  std::string embedder = "hash";
  std::string index = "IVF,Flat";
  size_t train_threshold = 10000;
  bool json = false;
};

int RequireDb(const CLI::App& cmd, const CollectionArgs& args) {
  return args.db.empty() ? UsageError(cmd, "--db is required (or set EMBERDB_DB)") : kExitOk;
}

int RunCollections(const CLI::App& cmd, const CollectionArgs& args) {
  if (int rc = RequireDb(cmd, args)) return rc;
  std::unique_ptr<DB> db;
  Status s = OpenDatabase(args.db, Access::kRead, &db);
  if (!s.ok()) return StatusError(s);
  std::vector<CollectionInfo> infos;
  s = db->ListCollections(&infos);
  if (!s.ok()) return StatusError(s, "cannot list collections");
  if (!args.json) {
    std::printf("%-24s %9s %-7s %-24s %-16s %10s\n", "NAME", "DIMENSION", "METRIC", "EMBEDDER",
                "INDEX", "SIZE");
  }
  for (const auto& info : infos) {
    // The index kind in use ("Flat" until trained) comes from the stats, not the options.
    std::string index_kind = info.options.index;
    std::shared_ptr<Collection> collection;
    CollectionStats stats;
    if (db->GetCollection(info.name, &collection).ok() && collection->Stats(&stats).ok()) {
      index_kind = stats.index_kind;
    }
    const std::string embedder = info.options.embedder.empty() ? "-" : info.options.embedder;
    if (args.json) {
      std::cout << json{{"name", info.name},
                        {"dimension", info.options.dimension},
                        {"metric", MetricName(info.options.metric)},
                        {"embedder", info.options.embedder},
                        {"index", info.options.index},
                        {"index_kind", index_kind},
                        {"count", info.count}}
                       .dump()
                << "\n";
    } else {
      std::printf("%-24s %9u %-7s %-24s %-16s %10llu\n", info.name.c_str(), info.options.dimension,
                  MetricName(info.options.metric), embedder.c_str(), index_kind.c_str(),
                  static_cast<unsigned long long>(info.count));
    }
  }
  return kExitOk;
}

int RunCreate(const CLI::App& cmd, const CollectionArgs& args) {
  if (int rc = RequireDb(cmd, args)) return rc;
  CollectionOptions options;
  if (!ParseMetric(args.metric, &options.metric)) {
    return UsageError(cmd, "--metric must be cosine, l2 or ip");
  }
  options.dimension = args.dimension;
  options.embedder = args.embedder == "none" ? "" : args.embedder;
  options.index = args.index;
  options.train_threshold = args.train_threshold;
  if (options.embedder.empty() && options.dimension == 0) {
    return UsageError(cmd, "a collection without an embedder needs --dimension");
  }
  std::unique_ptr<DB> db;
  Status s = OpenDatabase(args.db, Access::kCreate, &db);
  if (!s.ok()) return StatusError(s);
  std::shared_ptr<Collection> collection;
  s = db->CreateCollection(args.collection, options, &collection);
  if (!s.ok()) return StatusError(s, "cannot create collection '" + args.collection + "'");
  const CollectionInfo info = collection->info();
  s = db->Close();
  if (!s.ok()) return StatusError(s, "cannot close database " + args.db);
  std::printf("created collection '%s' (dimension %u, %s, embedder %s, index %s)\n",
              info.name.c_str(), info.options.dimension, MetricName(info.options.metric),
              info.options.embedder.empty() ? "none" : info.options.embedder.c_str(),
              info.options.index.c_str());
  return kExitOk;
}

int RunDrop(const CLI::App& cmd, const CollectionArgs& args) {
  if (int rc = RequireDb(cmd, args)) return rc;
  std::unique_ptr<DB> db;
  Status s = OpenDatabase(args.db, Access::kWrite, &db);
  if (!s.ok()) return StatusError(s);
  s = db->DropCollection(args.collection);
  if (s.IsNotFound()) {
    return RuntimeError("collection '" + args.collection + "' not found in " + args.db);
  }
  if (!s.ok()) return StatusError(s, "cannot drop collection '" + args.collection + "'");
  s = db->Close();
  if (!s.ok()) return StatusError(s, "cannot close database " + args.db);
  std::printf("dropped collection '%s'\n", args.collection.c_str());
  return kExitOk;
}

int RunStats(const CLI::App& cmd, const CollectionArgs& args) {
  if (int rc = RequireDb(cmd, args)) return rc;
  std::unique_ptr<DB> db;
  std::shared_ptr<Collection> collection;
  Status s = OpenDatabaseAndCollection(args.db, args.collection, Access::kRead, &db, &collection);
  if (!s.ok()) return StatusError(s);
  CollectionStats st;
  s = collection->Stats(&st);
  if (!s.ok()) return StatusError(s, "cannot read statistics");
  const CollectionInfo info = collection->info();
  nlohmann::ordered_json out = {{"collection", info.name},
                                {"documents", st.documents},
                                {"dimension", info.options.dimension},
                                {"metric", MetricName(info.options.metric)},
                                {"embedder", info.options.embedder},
                                {"index_kind", st.index_kind},
                                {"vectors_indexed", st.vectors_indexed},
                                {"vectors_pending", st.vectors_pending},
                                {"training", st.training},
                                {"snapshot_pending", st.snapshot_pending},
                                {"nlist", st.nlist},
                                {"nprobe", st.nprobe},
                                {"list_imbalance", st.list_imbalance},
                                {"trained_at", st.trained_at},
                                {"memory_bytes", st.memory_bytes},
                                {"disk_bytes", st.disk_bytes}};
  if (args.json) {
    std::cout << out.dump() << "\n";
    return kExitOk;
  }
  for (auto it = out.begin(); it != out.end(); ++it) {
    std::printf("%-16s %s\n", (it.key() + ":").c_str(),
                it->is_string() ? it->get<std::string>().c_str() : it->dump().c_str());
  }
  return kExitOk;
}

}  // namespace

void AddCollectionCommands(CLI::App* root, CommandList* commands) {
  {
    auto args = std::make_shared<CollectionArgs>();
    CLI::App* cmd = root->add_subcommand("collections", "List collections");
    AddDbOption(cmd, &args->db);
    cmd->add_flag("--json", args->json, "One JSON object per collection");
    commands->push_back({cmd, [cmd, args] { return RunCollections(*cmd, *args); }});
  }
  {
    auto args = std::make_shared<CollectionArgs>();
    CLI::App* cmd = root->add_subcommand("create", "Create a collection");
    AddDbOption(cmd, &args->db);
    AddCollectionOption(cmd, &args->collection);
    cmd->add_option("--dimension", args->dimension, "Vector dimension (0: the embedder's)")
        ->capture_default_str();
    cmd->add_option("--metric", args->metric, "cosine, l2 or ip")->capture_default_str();
    cmd->add_option("--embedder", args->embedder, "Embedder spec, or 'none' for vectors only")
        ->capture_default_str();
    cmd->add_option("--index", args->index, "Flat, IVF,Flat, IVF,SQ8, IVF,PQ32...")
        ->capture_default_str();
    cmd->add_option("--train-threshold", args->train_threshold,
                    "Exact search until this many vectors, then IVF training")
        ->capture_default_str();
    commands->push_back({cmd, [cmd, args] { return RunCreate(*cmd, *args); }});
  }
  {
    auto args = std::make_shared<CollectionArgs>();
    CLI::App* cmd = root->add_subcommand("drop", "Delete a collection and all its data");
    AddDbOption(cmd, &args->db);
    AddCollectionOption(cmd, &args->collection);
    commands->push_back({cmd, [cmd, args] { return RunDrop(*cmd, *args); }});
  }
  {
    auto args = std::make_shared<CollectionArgs>();
    CLI::App* cmd = root->add_subcommand("stats", "Documents, index state and disk use");
    AddDbOption(cmd, &args->db);
    AddCollectionOption(cmd, &args->collection);
    cmd->add_flag("--json", args->json, "Print one JSON object");
    commands->push_back({cmd, [cmd, args] { return RunStats(*cmd, *args); }});
  }
}

}  // namespace emberdb::cli
