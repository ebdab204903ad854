// `emberdb demo`: ingests the Debian package descriptions that apt keeps on this machine
// (tens of thousands of documents) and answers a few natural-language questions over them.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>

#include "apt_translations.h"
#include "command.h"
#include "db_session.h"
#include "ingester.h"
#include "interrupt.h"
#include "metadata_json.h"
#include "progress.h"
#include "sha256.h"

namespace emberdb::cli {
namespace {

constexpr const char* kSource = "apt:Translation-en";

struct DemoArgs {
  std::string db;
  std::string collection = "debian";
  std::string embedder = "hash";
  std::string lists_dir = "/var/lib/apt/lists";
  size_t limit = 0;
  size_t top = 3;
  bool quiet = false;
  std::vector<std::string> questions = {
      "edit photos and images",  "play music files",           "compress files into an archive",
      "monitor network traffic", "read email in the terminal", "convert documents to PDF",
  };
};

std::string DefaultDemoDb() {
  if (const char* env = std::getenv("EMBERDB_DB"); env && *env) return env;
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp && *tmp ? tmp : "/tmp") + "/emberdb-demo";
}

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

int RunDemo(const DemoArgs& args) {
  const std::string db_path = args.db.empty() ? DefaultDemoDb() : args.db;
  const std::vector<std::string> lists = FindTranslationLists(args.lists_dir);
  if (lists.empty()) {
    return RuntimeError("no apt Translation-en lists in " + args.lists_dir +
                        "; fetch them with: apt-get update -o Acquire::Languages=en");
  }
  // One document per package; lists are read in sorted order and later lists win, so the
  // result does not depend on the directory order.
  std::map<std::string, PackageDescription> packages;
  std::string fingerprint;
  for (const auto& list : lists) {
    std::string content, error;
    if (!ReadAptList(list, &content, &error)) return RuntimeError(error);
    fingerprint += Sha256Hex(content);
    for (auto& d : ParseTranslationList(content)) packages[d.package] = std::move(d);
  }
  std::vector<SourceDocument> docs;
  for (auto& [name, d] : packages) {
    if (args.limit > 0 && docs.size() >= args.limit) break;
    SourceDocument doc;
    doc.id_base = name;
    doc.text = PackageDocumentText(d);
    doc.metadata["package"] = name;
    if (!d.description_md5.empty()) doc.metadata["description_md5"] = d.description_md5;
    docs.push_back(std::move(doc));
  }
  std::printf("emberdb demo: %zu Debian package descriptions from %zu apt list%s\n", docs.size(),
              lists.size(), lists.size() == 1 ? "" : "s");
  std::printf("database %s, collection '%s', embedder %s\n", db_path.c_str(),
              args.collection.c_str(), args.embedder.c_str());
  std::fflush(stdout);

  std::unique_ptr<DB> db;
  Status s = OpenDatabase(db_path, Access::kCreate, &db);
  if (!s.ok()) return StatusError(s);
  std::shared_ptr<Collection> collection;
  s = OpenCollectionForIngest(db.get(), db_path, args.collection, args.embedder, true, &collection);
  if (!s.ok()) return StatusError(s);

  InstallInterruptHandler();
  Progress progress(Progress::DetectMode(args.quiet), "passages");
  Ingester ingester(collection.get(), ChunkOptions{}, 256);
  ingester.report = [&](const std::string& problem) {
    progress.Finish();
    std::cerr << "emberdb: " << problem << "\n";
  };
  ingester.on_planned = [&](size_t total) { progress.SetTotal(total, 0); };
  ingester.after_flush = [&] {
    const uint64_t done = ingester.counters().passages_written;
    progress.Update(done, 0, done);
    CountBatchForTestInterrupt();
  };
  ingester.should_stop = [] { return Interrupted(); };
  const std::string content_hash = Sha256Hex(fingerprint + "|limit=" + std::to_string(args.limit));
  s = ingester.AddSource(kSource, content_hash, std::move(docs));
  if (s.ok()) s = ingester.Flush();
  progress.Finish();
  const double seconds = progress.ElapsedSeconds();
  const IngestCounters& c = ingester.counters();
  if (Interrupted()) {
    // Everything acknowledged so far is kept; a re-run sees the source incomplete and
    // completes it.
    std::printf("interrupted: %llu passages written in %.1f s; run the demo again to finish\n",
                static_cast<unsigned long long>(c.passages_written), seconds);
    return kExitInterrupted;
  }
  if (!s.ok()) return StatusError(s, "ingest failed");
  uint64_t count = 0;
  s = collection->Count(&count);
  if (!s.ok()) return StatusError(s, "count failed");
  if (c.sources_unchanged > 0) {
    std::printf("already ingested: %llu passages (unchanged lists are not ingested again)\n",
                static_cast<unsigned long long>(count));
  } else {
    std::printf("ingested %llu passages in %.1f s: %.0f passages/s\n",
                static_cast<unsigned long long>(c.passages_written), seconds,
                seconds > 0 ? c.passages_written / seconds : 0.0);
  }

  for (const auto& question : args.questions) {
    QueryOptions options;
    options.k = args.top;
    std::vector<Hit> hits;
    const auto start = std::chrono::steady_clock::now();
    s = collection->QueryText(question, options, &hits);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!s.ok()) return StatusError(s, "query failed");
    std::printf("\nQ: %s  (%.1f ms)\n", question.c_str(), ms);
    for (size_t i = 0; i < hits.size(); ++i) {
      std::string package = MetadataString(hits[i].metadata, "package");
      std::printf("  %zu. %.3f  %-28s %s\n", i + 1, hits[i].score, package.c_str(),
                  Snippet(FirstLine(hits[i].text), 100).c_str());
    }
  }
  CollectionStats stats;
  if (collection->Stats(&stats).ok()) {
    std::printf("\nindex: %s, %llu of %llu vectors indexed%s, %.1f MiB on disk\n",
                stats.index_kind.c_str(), static_cast<unsigned long long>(stats.vectors_indexed),
                static_cast<unsigned long long>(stats.documents),
                stats.training ? " (IVF training in the background)" : "",
                stats.disk_bytes / 1048576.0);
  }
  std::printf("try: emberdb query --db %s -c %s \"your question\"\n", db_path.c_str(),
              args.collection.c_str());
  s = db->Close();
  if (!s.ok()) return StatusError(s, "cannot close database " + db_path);
  return kExitOk;
}

}  // namespace

void AddDemoCommand(CLI::App* root, CommandList* commands) {
  auto args = std::make_shared<DemoArgs>();
  CLI::App* cmd = root->add_subcommand(
      "demo", "Ingest this machine's Debian package descriptions and answer sample questions");
  cmd->add_option("--db", args->db,
                  "Database directory (default: $EMBERDB_DB, else $TMPDIR/emberdb-demo)");
  cmd->add_option("-c,--collection", args->collection, "Collection name")->capture_default_str();
  cmd->add_option("--embedder", args->embedder, "Embedder spec")->capture_default_str();
  cmd->add_option("--limit", args->limit, "Ingest only the first N packages (0: all)")
      ->capture_default_str();
  cmd->add_option("--lists-dir", args->lists_dir, "Where apt keeps its lists")
      ->capture_default_str();
  cmd->add_option("-k,--top", args->top, "Results per question")->capture_default_str();
  cmd->add_option("-Q,--question", args->questions, "Ask this instead (repeatable)");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress output");
  commands->push_back({cmd, [args] { return RunDemo(*args); }});
}

}  // namespace emberdb::cli
