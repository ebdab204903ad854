// `emberdb export` and `emberdb import`: a collection as JSON lines, and back.
//
// The first line is a header describing the collection:
//   {"emberdb_export":1,"collection":"docs","dimension":384,"metric":"cosine",
//    "embedder":"hash","index":"IVF,Flat","train_threshold":10000,"count":2}
// then one line per document, in id order:
//   {"id":"a#0","metadata":{...},"text":"...","vector":[0.0123456789,...]}
// Vectors are printed with %.9g (exact for float32), metadata doubles in shortest round-trip
// form, so export | import reproduces ids, texts, metadata (with types) and vectors exactly.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "db_session.h"
#include "interrupt.h"
#include "metadata_json.h"

namespace emberdb::cli {
namespace {

using nlohmann::json;

constexpr size_t kPage = 1024;

struct TransferArgs {
  std::string db, collection, file = "-";
  std::string embedder;  // import: for a new collection without a header
  size_t batch = 256;
};

int RunExport(const CLI::App& cmd, const TransferArgs& args) {
  if (args.db.empty()) return UsageError(cmd, "--db is required (or set EMBERDB_DB)");
  std::unique_ptr<DB> db;
  std::shared_ptr<Collection> collection;
  Status s = OpenDatabaseAndCollection(args.db, args.collection, Access::kRead, &db, &collection);
  if (!s.ok()) return StatusError(s);
  std::ofstream file;
  if (args.file != "-") {
    file.open(args.file, std::ios::binary | std::ios::trunc);
    if (!file) return RuntimeError("cannot write " + args.file);
  }
  std::ostream& out = args.file == "-" ? std::cout : file;
  const CollectionInfo info = collection->info();
  out << json{{"emberdb_export", 1},
              {"collection", info.name},
              {"dimension", info.options.dimension},
              {"metric", MetricName(info.options.metric)},
              {"embedder", info.options.embedder},
              {"index", info.options.index},
              {"train_threshold", info.options.train_threshold},
              {"count", info.count}}
             .dump()
      << "\n";
  uint64_t written = 0;
  for (size_t offset = 0;; offset += kPage) {
    GetOptions page;
    page.include = kIncludeAll;
    page.limit = kPage;
    page.offset = offset;
    std::vector<Document> docs;
    s = collection->Get(page, &docs);
    if (!s.ok()) return StatusError(s, "cannot read collection '" + args.collection + "'");
    for (const auto& d : docs) {
      std::string line =
          json{{"id", d.id}, {"text", d.text}, {"metadata", MetadataToJson(d.metadata)}}.dump();
      out << AppendRawField(std::move(line), "vector", VectorToJson(d.vector)) << "\n";
    }
    written += docs.size();
    if (docs.size() < kPage) break;
  }
  out.flush();
  if (!out) return RuntimeError("cannot write " + (args.file == "-" ? "to stdout" : args.file));
  std::fprintf(stderr, "exported %llu documents\n", static_cast<unsigned long long>(written));
  return kExitOk;
}

// Creates the import's target collection from the export header, or the --embedder flag.
Status CreateForImport(DB* db, const TransferArgs& args, const json& header,
                       std::shared_ptr<Collection>* out) {
  CollectionOptions options;
  if (header.is_object()) {
    options.dimension = header.value("dimension", 0u);
    const std::string metric = header.value("metric", std::string("cosine"));
    if (!ParseMetric(metric, &options.metric)) {
      return Status::InvalidArgument("the export header names an unknown metric '" + metric + "'");
    }
    options.embedder = header.value("embedder", std::string());
    options.index = header.value("index", options.index);
    options.train_threshold = header.value("train_threshold", options.train_threshold);
  } else {
    options.embedder = args.embedder.empty() ? "hash" : args.embedder;
  }
  if (!args.embedder.empty()) options.embedder = args.embedder == "none" ? "" : args.embedder;
  return db->CreateCollection(args.collection, options, out);
}

int RunImport(const CLI::App& cmd, const TransferArgs& args) {
  if (args.db.empty()) return UsageError(cmd, "--db is required (or set EMBERDB_DB)");
  std::ifstream file;
  if (args.file != "-") {
    file.open(args.file, std::ios::binary);
    if (!file) return RuntimeError("cannot read " + args.file);
  }
  std::istream& in = args.file == "-" ? std::cin : file;
  std::unique_ptr<DB> db;
  Status s = OpenDatabase(args.db, Access::kCreate, &db);
  if (!s.ok()) return StatusError(s);
  InstallInterruptHandler();
  std::shared_ptr<Collection> collection;
  std::vector<Document> batch;
  uint64_t imported = 0;
  size_t line_no = 0;
  std::string line;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::OK();
    EMBERDB_RETURN_IF_ERROR(collection->Upsert(batch));
    imported += batch.size();
    batch.clear();
    CountBatchForTestInterrupt();
    return Status::OK();
  };
  const std::string where = args.file == "-" ? "stdin" : args.file;
  while (!Interrupted() && std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const json object = json::parse(line, nullptr, false);
    if (object.is_discarded() || !object.is_object()) {
      return RuntimeError(where + " line " + std::to_string(line_no) + " is not a JSON object");
    }
    if (!collection) {
      const bool is_header = object.contains("emberdb_export");
      s = db->GetCollection(args.collection, &collection);
      if (s.IsNotFound())
        s = CreateForImport(db.get(), args, is_header ? object : json(), &collection);
      if (!s.ok()) return StatusError(s, "cannot create collection '" + args.collection + "'");
      if (is_header) continue;
    }
    Document doc;
    std::string error;
    try {
      doc.id = object.at("id").get<std::string>();
      doc.text = object.value("text", std::string());
      if (object.contains("metadata") &&
          !MetadataFromJson(object.at("metadata"), &doc.metadata, &error)) {
        return RuntimeError(where + " line " + std::to_string(line_no) + ": " + error);
      }
      if (object.contains("vector")) {
        for (const auto& v : object.at("vector")) doc.vector.push_back(v.get<float>());
      }
    } catch (const json::exception& e) {
      return RuntimeError(where + " line " + std::to_string(line_no) +
                          " needs a string \"id\", and numbers in \"vector\"");
    }
    batch.push_back(std::move(doc));
    if (batch.size() >= args.batch) {
      s = flush();
      if (!s.ok()) return StatusError(s, "import failed near line " + std::to_string(line_no));
    }
  }
  if (!collection) return RuntimeError(where + " holds no documents");
  s = flush();
  if (!s.ok()) return StatusError(s, "import failed near line " + std::to_string(line_no));
  s = db->Close();
  if (!s.ok()) return StatusError(s, "cannot close database " + args.db);
  std::printf("%s%llu documents imported into '%s'\n", Interrupted() ? "interrupted: " : "",
              static_cast<unsigned long long>(imported), args.collection.c_str());
  return Interrupted() ? kExitInterrupted : kExitOk;
}

}  // namespace

void AddTransferCommands(CLI::App* root, CommandList* commands) {
  {
    auto args = std::make_shared<TransferArgs>();
    CLI::App* cmd = root->add_subcommand("export", "Write a collection as JSON lines");
    AddDbOption(cmd, &args->db);
    AddCollectionOption(cmd, &args->collection);
    cmd->add_option("-o,--output", args->file, "Output file (- for stdout)")->capture_default_str();
    commands->push_back({cmd, [cmd, args] { return RunExport(*cmd, *args); }});
  }
  {
    auto args = std::make_shared<TransferArgs>();
    CLI::App* cmd = root->add_subcommand(
        "import", "Load JSON lines (id, text, metadata, vector) into a collection");
    AddDbOption(cmd, &args->db);
    AddCollectionOption(cmd, &args->collection);
    cmd->add_option("input", args->file, "Input file (- for stdin)")->capture_default_str();
    cmd->add_option("--embedder", args->embedder,
                    "Embedder for a new collection when the input has no export header");
    cmd->add_option("--batch", args->batch, "Documents per write")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    commands->push_back({cmd, [cmd, args] { return RunImport(*cmd, *args); }});
  }
}

}  // namespace emberdb::cli
