// `emberdb ingest`: files, directories and stdin into a collection. See ingester.h for the
// idempotency and atomicity rules, file_walk.h for path selection.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "command.h"
#include "db_session.h"
#include "document_reader.h"
#include "file_walk.h"
#include "ingester.h"
#include "interrupt.h"
#include "progress.h"
#include "sha256.h"
#include "utf8_text.h"

namespace emberdb::cli {
namespace {

struct IngestArgs {
  std::string db;
  std::string collection;
  std::string embedder = "hash";
  size_t chunk_words = 200;
  size_t overlap = 40;
  size_t batch = 256;
  size_t max_file_mb = 256;
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  std::string text_field = "text";
  std::string id_field = "id";
  std::string stdin_format = "txt";
  std::string stdin_name = "stdin";
  bool prune = false;
  bool quiet = false;
  bool json = false;
  std::vector<std::string> paths;
};

// Reads a whole file; false with a sentence in `*error`.
bool ReadFile(const std::string& path, uint64_t max_bytes, std::string* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = std::string("cannot read: ") + std::strerror(errno);
    return false;
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) {
    *error = "cannot read: not a regular file";
    return false;
  }
  if (static_cast<uint64_t>(size) > max_bytes) {
    *error = "larger than the " + std::to_string(max_bytes >> 20) + " MiB limit (--max-file-mb)";
    return false;
  }
  in.seekg(0, std::ios::beg);
  out->resize(static_cast<size_t>(size));
  if (size > 0 && !in.read(out->data(), size)) {
    *error = std::string("cannot read: ") + std::strerror(errno);
    return false;
  }
  return true;
}

void PrintSummary(const IngestCounters& c, uint64_t files, uint64_t errors, double seconds,
                  bool interrupted, bool json) {
  const double rate = seconds > 0 ? c.passages_written / seconds : 0;
  if (json) {
    nlohmann::json out = {{"files", files},
                          {"ingested", c.sources_ingested},
                          {"unchanged", c.sources_unchanged},
                          {"empty", c.sources_empty},
                          {"failed", c.sources_failed},
                          {"record_errors", c.record_problems},
                          {"errors", errors},
                          {"passages", c.passages_written},
                          {"deleted", c.passages_deleted},
                          {"pruned", c.sources_pruned},
                          {"seconds", seconds},
                          {"passages_per_second", rate},
                          {"interrupted", interrupted}};
    std::cout << out.dump() << "\n";
    return;
  }
  std::printf(
      "%s%llu files: %llu ingested, %llu skipped (unchanged), %llu empty, %llu failed; %llu "
      "passages written, %llu deleted, %llu files pruned; %llu errors; %.2f s, %.0f passages/s\n",
      interrupted ? "interrupted after " : "", static_cast<unsigned long long>(files),
      static_cast<unsigned long long>(c.sources_ingested),
      static_cast<unsigned long long>(c.sources_unchanged),
      static_cast<unsigned long long>(c.sources_empty),
      static_cast<unsigned long long>(c.sources_failed),
      static_cast<unsigned long long>(c.passages_written),
      static_cast<unsigned long long>(c.passages_deleted),
      static_cast<unsigned long long>(c.sources_pruned), static_cast<unsigned long long>(errors),
      seconds, rate);
  std::fflush(stdout);
}

int RunIngest(const CLI::App& command, const IngestArgs& args, bool embedder_given) {
  if (args.db.empty()) return UsageError(command, "--db is required (or set EMBERDB_DB)");
  ChunkOptions chunk{args.chunk_words, args.overlap};
  if (std::string problem = CheckChunkOptions(chunk); !problem.empty()) {
    return UsageError(command, problem);
  }
  if (FormatFromName(args.stdin_format) == Format::kUnknown) {
    return UsageError(command, "--stdin-format must be txt, md, html, jsonl or csv");
  }
  WalkResult walk = WalkPaths(args.paths, WalkOptions{args.include, args.exclude});
  uint64_t errors = 0;
  for (const auto& e : walk.errors) {
    std::cerr << "emberdb: " << e << "\n";
    ++errors;
  }
  if (walk.files.empty() && !walk.errors.empty()) return RuntimeError("nothing to ingest");

  std::unique_ptr<DB> db;
  Status s = OpenDatabase(args.db, Access::kCreate, &db);
  if (!s.ok()) return StatusError(s);
  std::shared_ptr<Collection> collection;
  s = OpenCollectionForIngest(db.get(), args.db, args.collection, args.embedder, embedder_given,
                              &collection);
  if (!s.ok()) return StatusError(s);

  InstallInterruptHandler();
  Progress progress(Progress::DetectMode(args.quiet), "files");
  uint64_t total_bytes = 0;
  for (const auto& f : walk.files) total_bytes += f.size;
  progress.SetTotal(walk.files.size(), total_bytes);

  Ingester ingester(collection.get(), chunk, args.batch);
  ingester.report = [&](const std::string& problem) {
    progress.Finish();
    std::cerr << "emberdb: " << problem << "\n";
  };
  uint64_t files_done = 0, bytes_done = 0;
  ingester.after_flush = [&] {
    progress.Update(files_done, bytes_done, ingester.counters().passages_written);
    CountBatchForTestInterrupt();
  };
  ingester.should_stop = [] { return Interrupted(); };
  const RecordFields fields{args.text_field, args.id_field};
  std::set<std::string> present;
  for (const auto& file : walk.files) {
    if (Interrupted()) break;
    present.insert(file.path);
    const bool is_stdin = file.path == "-";
    const std::string source = is_stdin ? args.stdin_name : file.path;
    const Format format = is_stdin ? FormatFromName(args.stdin_format) : FormatForPath(file.path);
    std::string bytes, error;
    bool ok = true;
    if (is_stdin) {
      std::ostringstream buffer;
      buffer << std::cin.rdbuf();
      bytes = buffer.str();
    } else {
      ok = ReadFile(file.path, static_cast<uint64_t>(args.max_file_mb) << 20, &bytes, &error);
    }
    if (ok && !IsValidUtf8(source)) {
      ok = false;
      error = "the path is not valid UTF-8";
    }
    std::vector<SourceDocument> docs;
    std::vector<std::string> problems;
    if (ok) ok = ConvertDocument(source, format, bytes, fields, &docs, &problems, &error);
    if (!ok) {
      ingester.report("skipped " + source + ": " + error);
      ++ingester.mutable_counters().sources_failed;
      ++errors;
    } else {
      for (const auto& p : problems) ingester.report(source + ": " + p);
      ingester.mutable_counters().record_problems += problems.size();
      errors += problems.size();
      const uint64_t before = ingester.counters().record_problems;
      s = ingester.AddSource(source, Sha256Hex(bytes), std::move(docs));
      errors += ingester.counters().record_problems - before;
      if (s.IsAborted() && Interrupted()) break;
      if (!s.ok()) {
        progress.Finish();
        return StatusError(s,
                           "cannot write " + source + " to collection '" + args.collection + "'");
      }
    }
    ++files_done;
    bytes_done += file.size;
    progress.Update(files_done, bytes_done, ingester.counters().passages_written);
  }
  // Ctrl-C: the batch in hand is still written, so everything read so far is kept.
  s = ingester.Flush();
  if (s.ok() && args.prune && !Interrupted()) {
    // A walk that failed part-way has not seen every file: pruning would delete live ones.
    if (walk.errors.empty()) {
      s = ingester.Prune(walk.roots, present);
    } else {
      ingester.report("not pruning: some paths could not be read");
    }
  }
  progress.Finish();
  if (!s.ok()) return StatusError(s, "cannot write to collection '" + args.collection + "'");
  s = db->Close();
  if (!s.ok()) return StatusError(s, "cannot close database " + args.db);
  PrintSummary(ingester.counters(), files_done, errors, progress.ElapsedSeconds(), Interrupted(),
               args.json);
  return Interrupted() ? kExitInterrupted : kExitOk;
}

}  // namespace

void AddIngestCommand(CLI::App* root, CommandList* commands) {
  auto args = std::make_shared<IngestArgs>();
  CLI::App* cmd = root->add_subcommand(
      "ingest", "Ingest files, directories or stdin (-) into a collection, idempotently");
  AddDbOption(cmd, &args->db);
  AddCollectionOption(cmd, &args->collection);
  CLI::Option* embedder =
      cmd->add_option("--embedder", args->embedder,
                      "Embedder spec for a new collection (hash, hf:DIR, ollama:M@URL...)")
          ->capture_default_str();
  cmd->add_option("--chunk-words", args->chunk_words, "Words per passage")->capture_default_str();
  cmd->add_option("--overlap", args->overlap, "Words shared by consecutive passages")
      ->capture_default_str();
  cmd->add_option("--include", args->include, "Only files matching this glob (repeatable)");
  cmd->add_option("--exclude", args->exclude, "Skip files and folders matching this glob");
  cmd->add_option("--text-field", args->text_field, "JSONL/CSV field holding the text")
      ->capture_default_str();
  cmd->add_option("--id-field", args->id_field, "JSONL/CSV field holding the record id")
      ->capture_default_str();
  cmd->add_option("--stdin-format", args->stdin_format, "Format of '-' input")
      ->capture_default_str();
  cmd->add_option("--stdin-name", args->stdin_name, "Source name of '-' input")
      ->capture_default_str();
  cmd->add_option("--batch", args->batch, "Passages per write")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--max-file-mb", args->max_file_mb, "Skip larger files")->capture_default_str();
  cmd->add_flag("--prune", args->prune,
                "Delete passages of files that disappeared from the given directories");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress output");
  cmd->add_flag("--json", args->json, "Print the summary as one JSON object");
  cmd->add_option("paths", args->paths, "Files, directories, or - for stdin")->required();
  commands->push_back(
      {cmd, [cmd, args, embedder] { return RunIngest(*cmd, *args, embedder->count() > 0); }});
}

}  // namespace emberdb::cli
