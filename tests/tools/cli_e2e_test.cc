// End-to-end tests of the `emberdb` command-line tool: they run the built binary on small
// corpora generated in temporary directories and check its output, exit codes and the data it
// leaves in the database.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kBinary = EMBERDB_BINARY_DIR "/tools/emberdb";

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

class Sandbox {
 public:
  Sandbox() {
    char tmpl[] = "/tmp/emberdb-cli-XXXXXX";
    root_ = mkdtemp(tmpl);
    db_ = (root_ / "db").string();
  }
  ~Sandbox() { fs::remove_all(root_); }

  const fs::path& root() const { return root_; }
  const std::string& db() const { return db_; }

  // Runs `emberdb ARGS` (a shell fragment: quote JSON with single quotes) in the sandbox.
  Result Run(const std::string& args, const std::string& env = "",
             const std::string& stdin_file = "/dev/null") const {
    const fs::path out = root_ / "stdout", err = root_ / "stderr";
    const std::string command = "cd '" + root_.string() + "' && env -u EMBERDB_DB " + env + " '" +
                                kBinary + "' " + args + " >'" + out.string() + "' 2>'" +
                                err.string() + "' <'" + stdin_file + "'";
    const int status = std::system(command.c_str());
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = ReadAll(out);
    r.err = ReadAll(err);
    return r;
  }

  // Runs a command that must succeed; returns its stdout.
  std::string Ok(const std::string& args, const std::string& env = "") const {
    const Result r = Run(args, env);
    INFO("emberdb " << args << "\nstderr: " << r.err);
    REQUIRE(r.code == 0);
    return r.out;
  }

  json IngestJson(const std::string& args, const std::string& env = "") const {
    const std::string out = Ok("ingest --db '" + db_ + "' -c docs --json -q " + args, env);
    const json summary = json::parse(out, nullptr, false);
    INFO(out);
    REQUIRE(summary.is_object());
    return summary;
  }

  std::vector<json> Lines(const std::string& args) const {
    std::vector<json> out;
    std::istringstream in(Ok(args));
    std::string line;
    while (std::getline(in, line)) {
      out.push_back(json::parse(line, nullptr, false));
      INFO(line);
      REQUIRE_FALSE(out.back().is_discarded());
    }
    return out;
  }

  // Passages of one source, as JSON objects (id, text, metadata).
  std::vector<json> Passages(const std::string& source) const {
    return Lines("get --db '" + db_ + "' -c docs --json --where '" +
                 json{{"source", source}}.dump() + "'");
  }

  uint64_t Count() const { return std::stoull(Ok("count --db '" + db_ + "' -c docs")); }

 private:
  fs::path root_;
  std::string db_;
};

// A text of `sentences` sentences, numbered so that each passage is distinguishable.
std::string Prose(int sentences, const std::string& topic) {
  std::string text;
  for (int i = 0; i < sentences; ++i) {
    text += "The " + topic + " note number " + std::to_string(i) +
            " explains how records flow through the system quickly.";
    text += (i % 5 == 4) ? "\n\n" : " ";
  }
  return text;
}

// Rebuilds a document from its passages' offsets; fails the test on a gap or a mismatch.
std::string Reassemble(const std::vector<json>& passages) {
  std::string text;
  for (const auto& p : passages) {
    const size_t start = p["metadata"]["start"].get<size_t>();
    const size_t end = p["metadata"]["end"].get<size_t>();
    const std::string piece = p["text"].get<std::string>();
    REQUIRE(piece.size() == end - start);
    REQUIRE(start <= text.size());  // no gap
    // The overlapping part must agree with what earlier passages said.
    CHECK(text.substr(start) == piece.substr(0, text.size() - start));
    if (end > text.size()) text += piece.substr(text.size() - start);
  }
  return text;
}

std::vector<json> ByChunk(std::vector<json> passages) {
  std::sort(passages.begin(), passages.end(), [](const json& a, const json& b) {
    return a["metadata"]["chunk"].get<int>() < b["metadata"]["chunk"].get<int>();
  });
  return passages;
}

}  // namespace

TEST_CASE("cli: every format is ingested with traceable, reassemblable passages") {
  Sandbox box;
  const fs::path corpus = box.root() / "corpus";
  const std::string long_text = Prose(80, "storage");  // ~1100 words: several passages
  WriteFile(corpus / "long.txt", long_text);
  WriteFile(corpus / "guide.md",
            "# Guide\n\nRead the **[manual](http://x)** and run `make`.\n\n```\ncode stays\n```\n");
  WriteFile(corpus / "page.html",
            "<html><head><style>p{}</style><script>var secret=1;</script></head>"
            "<body><p>Caf&eacute; &amp; r&#233;sum&#xE9;</p></body></html>");
  WriteFile(corpus / "records.jsonl",
            "{\"id\": \"r1\", \"text\": \"penguins live in the south\", \"year\": 2020, "
            "\"tags\": [\"bird\", \"cold\"]}\n"
            "{\"id\": \"r2\", \"text\": \"camels cross the desert\", \"weight\": 1.5}\n");
  WriteFile(corpus / "rows.csv", "id,text,lang\nc1,\"tea, with milk\",en\nc2,\"caf\xC3\xA9\",fr\n");
  const json summary = box.IngestJson("'" + corpus.string() + "'");
  CHECK(summary["files"] == 5);
  CHECK(summary["ingested"] == 5);
  CHECK(summary["failed"] == 0);
  const uint64_t passages = summary["passages"];
  CHECK(box.Count() == passages);

  // Plain text: several passages whose offsets rebuild the file exactly.
  const std::string long_source = (corpus / "long.txt").string();
  const auto long_passages = ByChunk(box.Passages(long_source));
  REQUIRE(long_passages.size() >= 5);
  CHECK(Reassemble(long_passages) == long_text);
  for (size_t i = 0; i < long_passages.size(); ++i) {
    const json& m = long_passages[i]["metadata"];
    CHECK(long_passages[i]["id"] == long_source + "#" + std::to_string(i));
    CHECK(m["chunk"] == i);
    CHECK(m["passages"] == long_passages.size());
    CHECK(m["content_hash"].get<std::string>().size() == 64);
  }

  // Markdown and HTML: converted text, markup gone.
  const auto md = box.Passages((corpus / "guide.md").string());
  REQUIRE(md.size() == 1);
  CHECK(md[0]["text"] == "Guide\n\nRead the manual and run make.\n\ncode stays");
  const auto html = box.Passages((corpus / "page.html").string());
  REQUIRE(html.size() == 1);
  CHECK(html[0]["text"] == "Caf\xC3\xA9 & r\xC3\xA9sum\xC3\xA9");

  // Records: ids from the id field, other fields as typed metadata.
  const auto r1 = box.Lines("get --db '" + box.db() + "' -c docs --json --ids 'r1#0,c1#0'");
  REQUIRE(r1.size() == 2);
  std::map<std::string, json> by_id;
  for (const auto& d : r1) by_id[d["id"]] = d;
  CHECK(by_id["r1#0"]["metadata"]["year"] == 2020);
  CHECK(by_id["r1#0"]["metadata"]["tags"] == json::array({"bird", "cold"}));
  CHECK(by_id["r1#0"]["metadata"]["source"] == (corpus / "records.jsonl").string());
  CHECK(by_id["c1#0"]["text"] == "tea, with milk");
  CHECK(by_id["c1#0"]["metadata"]["lang"] == "en");

  // query --json: ranked results that parse back.
  const auto hits = box.Lines("query --db '" + box.db() + "' -c docs -k 3 --json penguins south");
  REQUIRE(hits.size() == 3);
  CHECK(hits[0]["id"] == "r1#0");
  for (size_t i = 0; i < hits.size(); ++i) {
    for (const char* key : {"id", "score", "distance", "text", "metadata"})
      CHECK(hits[i].contains(key));
    if (i > 0) CHECK(hits[i - 1]["score"].get<double>() >= hits[i]["score"].get<double>());
  }
  const auto filtered = box.Lines("query --db '" + box.db() +
                                  "' -c docs -k 5 --json --where "
                                  "'{\"lang\": \"fr\"}' tea");
  REQUIRE(filtered.size() == 1);
  CHECK(filtered[0]["id"] == "c2#0");
  const std::string text_out = box.Ok("query --db '" + box.db() + "' -c docs -k 1 camels desert");
  CHECK(text_out.find("r2#0") != std::string::npos);
  CHECK(text_out.find("camels cross the desert") != std::string::npos);

  // stdin.
  const fs::path input = box.root() / "input.txt";
  WriteFile(input, "piped text about volcanoes");
  const Result piped =
      box.Run("ingest --db '" + box.db() + "' -c docs -q --stdin-name notes -", "", input.string());
  CHECK(piped.code == 0);
  const auto notes = box.Passages("notes");
  REQUIRE(notes.size() == 1);
  CHECK(notes[0]["text"] == "piped text about volcanoes");
}

TEST_CASE("cli: re-ingest skips unchanged files, replaces changed ones and prunes deleted") {
  Sandbox box;
  const fs::path corpus = box.root() / "corpus";
  for (int i = 0; i < 4; ++i) {
    WriteFile(corpus / ("f" + std::to_string(i) + ".txt"), Prose(30, "topic" + std::to_string(i)));
  }
  const std::string dir = "'" + corpus.string() + "'";
  WriteFile(corpus / "empty.txt", " \n");  // no words: nothing stored, never "changed"
  const json first = box.IngestJson("--chunk-words 50 --overlap 10 " + dir);
  CHECK(first["ingested"] == 4);
  CHECK(first["empty"] == 1);
  const uint64_t total = box.Count();
  CHECK(total == first["passages"]);

  const json again = box.IngestJson("--chunk-words 50 --overlap 10 " + dir);
  CHECK(again["unchanged"] == 4);
  CHECK(again["empty"] == 1);
  CHECK(again["ingested"] == 0);
  CHECK(again["passages"] == 0);
  CHECK(box.Count() == total);

  // A shorter version of f1: fewer passages, the extra old ones must go.
  const std::string f1 = (corpus / "f1.txt").string();
  const size_t old_f1 = box.Passages(f1).size();
  WriteFile(corpus / "f1.txt", Prose(6, "changed"));
  fs::remove(corpus / "f2.txt");
  const json changed = box.IngestJson("--chunk-words 50 --overlap 10 --prune " + dir);
  CHECK(changed["unchanged"] == 2);
  CHECK(changed["ingested"] == 1);
  CHECK(changed["pruned"] == 1);
  const auto f1_passages = ByChunk(box.Passages(f1));
  REQUIRE(f1_passages.size() < old_f1);
  CHECK(Reassemble(f1_passages) == Prose(6, "changed"));
  for (const auto& p : f1_passages)
    CHECK(p["text"].get<std::string>().find("topic1") == std::string::npos);
  CHECK(box.Passages((corpus / "f2.txt").string()).empty());
  uint64_t expected = 0;
  for (const char* name : {"f0.txt", "f1.txt", "f3.txt"}) {
    expected += box.Passages((corpus / name).string()).size();
  }
  CHECK(box.Count() == expected);

  // A file with no passages left on disk outside the pruned root is kept.
  const json outside = box.IngestJson("--prune '" + (corpus / "f0.txt").string() + "'");
  CHECK(outside["unchanged"] == 1);
  CHECK(outside["pruned"] == 0);
}

TEST_CASE("cli: bad files are reported and skipped, the run goes on") {
  Sandbox box;
  const fs::path corpus = box.root() / "corpus";
  WriteFile(corpus / "good.txt", "a perfectly fine file");
  WriteFile(corpus / "latin1.txt", "caf\xE9 au lait");
  fs::create_symlink(corpus / "missing-target.txt", corpus / "dangling.txt");
  int expected_failures = 2;
  if (geteuid() != 0) {  // root reads anything, so permission bits cannot make a file unreadable
    WriteFile(corpus / "secret.txt", "hidden");
    fs::permissions(corpus / "secret.txt", fs::perms::none);
    ++expected_failures;
  }
  WriteFile(corpus / "records.jsonl", "{\"id\": \"ok\", \"text\": \"fine\"}\n{broken\n");
  const Result r =
      box.Run("ingest --db '" + box.db() + "' -c docs --json -q '" + corpus.string() + "'");
  INFO(r.err);
  CHECK(r.code == 0);
  const json summary = json::parse(r.out);
  CHECK(summary["failed"] == expected_failures);
  CHECK(summary["ingested"] == 2);
  CHECK(summary["errors"] == expected_failures + 1);  // + the broken JSONL line
  CHECK(r.err.find("latin1.txt: not valid UTF-8") != std::string::npos);
  CHECK(r.err.find("dangling.txt") != std::string::npos);
  CHECK(r.err.find("line 2") != std::string::npos);
  CHECK(box.Count() == 2);
}

TEST_CASE("cli: export and import reproduce a collection exactly") {
  Sandbox box;
  const fs::path corpus = box.root() / "corpus";
  WriteFile(corpus / "a.txt", Prose(40, "export"));
  WriteFile(corpus / "r.jsonl",
            "{\"id\": \"x\", \"text\": \"typed\", \"i\": 3, \"d\": 3.0, \"f\": 0.1, "
            "\"b\": false, \"li\": [1, 2], \"ld\": [0.5, 1e-7], \"lb\": [true], "
            "\"unicode\": \"\\u00e9\\u4e2d\"}\n");
  box.IngestJson("'" + corpus.string() + "'");
  const fs::path dump = box.root() / "dump.jsonl";
  box.Ok("export --db '" + box.db() + "' -c docs -o '" + dump.string() + "'");
  const std::string db2 = (box.root() / "db2").string();
  const std::string imported = box.Ok("import --db '" + db2 + "' -c docs '" + dump.string() + "'");
  CHECK(imported.find("imported") != std::string::npos);
  const fs::path dump2 = box.root() / "dump2.jsonl";
  box.Ok("export --db '" + db2 + "' -c docs -o '" + dump2.string() + "'");
  const std::string a = ReadAll(dump), b = ReadAll(dump2);
  CHECK(a == b);
  // The dump really has vectors and typed metadata.
  std::istringstream lines(a);
  std::string header, line;
  std::getline(lines, header);
  CHECK(json::parse(header)["embedder"] == "hash");
  size_t docs = 0;
  while (std::getline(lines, line)) {
    const json d = json::parse(line);
    CHECK(d["vector"].size() == json::parse(header)["dimension"]);
    if (d["id"] == "x#0") {
      CHECK(d["metadata"]["d"].is_number_float());
      CHECK(d["metadata"]["i"].is_number_integer());
    }
    ++docs;
  }
  CHECK(docs == json::parse(header)["count"]);
  // Queries on the copy rank like the original.
  const std::string q = " -c docs -k 3 --json flows quickly";
  CHECK(box.Ok("query --db '" + box.db() + "'" + q) == box.Ok("query --db '" + db2 + "'" + q));
}

TEST_CASE("cli: Ctrl-C finishes the batch, keeps it, exits 130, and a re-run resumes") {
  Sandbox box;
  const fs::path corpus = box.root() / "corpus";
  for (int i = 0; i < 12; ++i) {
    WriteFile(corpus / ("f" + std::to_string(10 + i) + ".txt"), Prose(4, "n" + std::to_string(i)));
  }
  const std::string args = "ingest --db '" + box.db() +
                           "' -c docs --json -q --batch 3 "
                           "--chunk-words 20 --overlap 5 '" +
                           corpus.string() + "'";
  const Result stopped = box.Run(args, "EMBERDB_TEST_INTERRUPT_AFTER_BATCHES=2");
  INFO(stopped.err);
  CHECK(stopped.code == 130);
  const json s1 = json::parse(stopped.out);
  CHECK(s1["interrupted"] == true);
  CHECK(s1["passages"].get<uint64_t>() >= 6);
  const uint64_t kept = box.Count();
  CHECK(kept == s1["passages"]);
  const Result resumed = box.Run(args);
  CHECK(resumed.code == 0);
  const json s2 = json::parse(resumed.out);
  CHECK(s2["unchanged"].get<int>() >= 1);
  CHECK(s2["unchanged"].get<int>() + s2["ingested"].get<int>() == 12);
  // Same content as one uninterrupted run.
  Sandbox fresh;
  const json full =
      fresh.IngestJson("--batch 3 --chunk-words 20 --overlap 5 '" + corpus.string() + "'");
  CHECK(box.Count() == full["passages"]);
}

TEST_CASE("cli: exit codes, usage text and error sentences") {
  Sandbox box;
  const Result none = box.Run("");
  CHECK(none.code == 1);
  CHECK(none.err.find("ingest") != std::string::npos);  // the usage lists the commands
  const Result bad_option = box.Run("count --db x -c y --bogus");
  CHECK(bad_option.code == 1);
  CHECK(bad_option.err.find("--bogus") != std::string::npos);
  const Result no_db = box.Run("count -c docs");
  CHECK(no_db.code == 1);
  CHECK(no_db.err.find("EMBERDB_DB") != std::string::npos);
  const Result missing_db = box.Run("count --db '" + box.db() + "' -c docs");
  CHECK(missing_db.code == 2);
  CHECK(missing_db.err.find("no emberdb database at " + box.db()) != std::string::npos);
  box.Ok("create --db '" + box.db() + "' -c other --embedder none --dimension 4 --index Flat");
  const Result missing = box.Run("query --db '" + box.db() + "' -c nope hello");
  CHECK(missing.code == 2);
  CHECK(missing.err == "emberdb: collection 'nope' not found in " + box.db() + "\n");
  // $EMBERDB_DB stands in for --db.
  const Result env_db = box.Run("count -c nope", "EMBERDB_DB='" + box.db() + "'");
  CHECK(env_db.code == 2);
  CHECK(env_db.err.find("collection 'nope' not found") != std::string::npos);
  const Result bad_where = box.Run("get --db '" + box.db() + "' -c other --where '{oops'");
  CHECK(bad_where.code == 1);
  const Result bad_overlap = box.Run("ingest --db '" + box.db() +
                                     "' -c d --chunk-words 10 "
                                     "--overlap 10 x.txt");
  CHECK(bad_overlap.code == 1);
  for (const char* command : {"ingest", "query", "get", "delete", "count", "collections", "create",
                              "drop", "stats", "export", "import", "embed", "demo"}) {
    const Result help = box.Run(std::string(command) + " --help");
    CAPTURE(command);
    CHECK(help.code == 0);
    CHECK(help.out.find(command) != std::string::npos);
    CHECK(help.out.find("--help") != std::string::npos);
  }
}

TEST_CASE("cli: collections, create, stats, delete, drop and embed") {
  Sandbox box;
  const std::string db = " --db '" + box.db() + "'";
  box.Ok("create" + db + " -c vec --embedder none --dimension 8 --metric l2 --index Flat");
  WriteFile(box.root() / "a.txt", "alpha beta gamma");
  WriteFile(box.root() / "b.txt", "delta epsilon");
  box.Ok("ingest" + db + " -c docs -q '" + (box.root() / "a.txt").string() + "' '" +
         (box.root() / "b.txt").string() + "'");
  std::map<std::string, json> listed;
  for (const auto& c : box.Lines("collections --json" + db)) listed[c["name"]] = c;
  REQUIRE(listed.size() == 2);
  CHECK(listed["vec"]["dimension"] == 8);
  CHECK(listed["vec"]["metric"] == "l2");
  CHECK(listed["vec"]["embedder"] == "");
  CHECK(listed["docs"]["embedder"] == "hash");
  CHECK(listed["docs"]["metric"] == "cosine");
  CHECK(listed["docs"]["count"] == 2);
  const json stats = json::parse(box.Ok("stats --json" + db + " -c docs"));
  CHECK(stats["documents"] == 2);
  CHECK(stats["disk_bytes"].get<uint64_t>() > 0);
  CHECK(stats["index_kind"].is_string());

  // get: id order, --limit and --offset.
  const auto both = box.Lines("get --json" + db + " -c docs");
  REQUIRE(both.size() == 2);
  CHECK(both[0]["id"].get<std::string>() < both[1]["id"].get<std::string>());
  const auto second = box.Lines("get --json" + db + " -c docs --limit 1 --offset 1");
  REQUIRE(second.size() == 1);
  CHECK(second[0]["id"] == both[1]["id"]);
  const auto with_vectors = box.Lines("get --json --vectors" + db + " -c docs --limit 1");
  REQUIRE(with_vectors.size() == 1);
  CHECK(with_vectors[0]["vector"].size() == 384);

  const std::string deleted = box.Ok("delete" + db + " -c docs --where '{\"source\": \"" +
                                     (box.root() / "a.txt").string() + "\"}'");
  CHECK(deleted == "deleted 1 documents\n");
  CHECK(box.Count() == 1);
  CHECK(box.Run("delete" + db + " -c docs").code == 1);  // neither --ids nor --where
  CHECK(box.Ok("drop" + db + " -c vec") == "dropped collection 'vec'\n");
  CHECK(box.Run("drop" + db + " -c vec").code == 2);

  const auto vectors = box.Lines("embed --embedder hash 'red apples' 'green pears' 'red apples'");
  REQUIRE(vectors.size() == 3);
  CHECK(vectors[0].is_array());
  CHECK(vectors[0].size() == 384);
  CHECK(vectors[0] == vectors[2]);
  CHECK(vectors[0] != vectors[1]);
  const auto described = box.Lines("embed --json --embedder hash:dim=16 'red apples'");
  REQUIRE(described.size() == 1);
  CHECK(described[0]["vector"].size() == 16);
  CHECK(described[0]["embedder"]["kind"] == "hash");
  CHECK(box.Run("embed --embedder nosuch:thing x").code == 2);
}

TEST_CASE("cli: demo on a small apt list, and without lists") {
  Sandbox box;
  const fs::path lists = box.root() / "lists";
  WriteFile(lists / "deb.example_dists_x_main_i18n_Translation-en",
            "Package: gimp\nDescription-md5: 1\nDescription-en: GNU Image Manipulation Program\n"
            " Edit photos and images: retouching, painting and image composition.\n\n"
            "Package: mutt\nDescription-md5: 2\nDescription-en: text-based mailreader\n"
            " Read email in the terminal with threading and PGP support.\n\n"
            "Package: zip\nDescription-md5: 3\nDescription-en: Archiver for .zip files\n"
            " Compress files into an archive.\n");
  const std::string args = "demo -q --db '" + box.db() + "' --lists-dir '" + lists.string() + "'";
  const std::string out = box.Ok(args);
  CHECK(out.find("3 Debian package descriptions") != std::string::npos);
  CHECK(out.find("passages/s") != std::string::npos);
  const size_t q = out.find("Q: edit photos and images");
  REQUIRE(q != std::string::npos);
  const size_t first = out.find("\n  1. ", q);
  REQUIRE(first != std::string::npos);
  const std::string first_line = out.substr(first + 1, out.find('\n', first + 1) - first - 1);
  CHECK(first_line.find("gimp") != std::string::npos);
  const size_t mail = out.find("\n  1. ", out.find("Q: read email in the terminal"));
  CHECK(out.substr(mail, out.find('\n', mail + 1) - mail).find("mutt") != std::string::npos);
  const std::string again = box.Ok(args);
  CHECK(again.find("already ingested") != std::string::npos);
  const Result no_lists =
      box.Run("demo --db '" + box.db() + "' --lists-dir '" + (box.root() / "empty").string() + "'");
  CHECK(no_lists.code == 2);
  CHECK(no_lists.err.find("apt-get update") != std::string::npos);
}
