// Unit tests of the CLI's format readers (Markdown, HTML, CSV, JSONL, apt lists) and file walk.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "../../tools/cli/apt_translations.h"
#include "../../tools/cli/document_reader.h"
#include "../../tools/cli/file_walk.h"
#include "../../tools/cli/html_reader.h"
#include "../../tools/cli/markdown_reader.h"
#include "../../tools/cli/record_readers.h"

using namespace emberdb::cli;

TEST_CASE("markdown: markup is stripped, words and code are kept") {
  const std::string md =
      "# Install *emberdb*\n"
      "\n"
      "Read the **[guide](https://x.org/guide)** first, or see ![the logo](logo.png).\n"
      "Use `snake_case_names` and my_var but _emphasis_ goes; 2 * 3 stays.\n"
      "\n"
      "```cpp\n"
      "int main() { return 0; }  // keep_me\n"
      "```\n"
      "> quoted <b>bold</b> &amp; more\n"
      "- item one\n"
      "1. first\n"
      "Setext\n"
      "======\n"
      "[ref]: http://example.com\n"
      "See [the docs][ref] and <https://a.b/c>.\n"
      "---\n";
  const std::string text = MarkdownToText(md);
  CHECK(text.find("Install emberdb\n") == 0);
  CHECK(text.find("Read the guide first, or see the logo.") != std::string::npos);
  CHECK(text.find("snake_case_names and my_var but emphasis goes; 2 * 3 stays.") !=
        std::string::npos);
  CHECK(text.find("int main() { return 0; }  // keep_me") !=
        std::string::npos);  // code kept verbatim
  CHECK(text.find("quoted bold & more") != std::string::npos);
  CHECK(text.find("\nitem one\n") != std::string::npos);
  CHECK(text.find("1. first") != std::string::npos);
  CHECK(text.find("See the docs and https://a.b/c.") != std::string::npos);
  for (const char* markup :
       {"```", "](", "**", "#", "====", "[ref]", "http://example.com", "<b>", "---", "> "}) {
    CAPTURE(markup);
    CHECK(text.find(markup) == std::string::npos);
  }
}

TEST_CASE("markdown: inline edge cases") {
  CHECK(StripInlineMarkdown("a [link with [nested] brackets](u) b") ==
        "a link with [nested] brackets b");
  CHECK(StripInlineMarkdown("unclosed [bracket and *star") == "unclosed [bracket and star");
  CHECK(StripInlineMarkdown("escaped \\*not emphasis\\*") == "escaped *not emphasis*");
  CHECK(StripInlineMarkdown("~~gone~~ but ~ stays") == "gone but ~ stays");
  CHECK(StripInlineMarkdown("``code with ` tick``") == "code with ` tick");
}

TEST_CASE("html: scripts, styles, comments and tags go, entities are decoded") {
  const std::string html =
      "<!DOCTYPE html><html><head><title>T&eacute;st</title>"
      "<style>body { color: red; }</style>"
      "<script type=\"text/javascript\">var x = '<p>not text</p>';</script></head>"
      "<body><!-- a comment <p>hidden</p> -->"
      "<h1>Caf&#233; &amp; Bar</h1>"
      "<p class=\"a>b\">Fish&nbsp;&amp;&nbsp;chips &#x1F600; &lt;tag&gt; &bogus; &#;</p>"
      "<ul><li>one</li><li>two</li></ul>a<b>c</b>d"
      "<SCRIPT>alert(1)</SCRIPT>end</body></html>";
  const std::string text = HtmlToText(html);
  CHECK(text.find("Caf\xC3\xA9 & Bar") != std::string::npos);
  CHECK(text.find("Fish & chips \xF0\x9F\x98\x80 <tag> &bogus; &#;") != std::string::npos);
  CHECK(text.find("one\ntwo") != std::string::npos);
  CHECK(text.find("acd") != std::string::npos);
  CHECK(text.find("T\xC3\xA9st") == 0);
  for (const char* gone : {"color", "not text", "hidden", "alert", "comment", "<", "class"}) {
    CAPTURE(gone);
    if (std::string(gone) == "<") {
      CHECK(text.find("<p") == std::string::npos);
    } else {
      CHECK(text.find(gone) == std::string::npos);
    }
  }
  // Paragraph elements become blank lines, and there is never more than one.
  CHECK(text.find("Bar\n\nFish") != std::string::npos);
  CHECK(text.find("\n\n\n") == std::string::npos);
}

TEST_CASE("html: entity decoding on its own") {
  CHECK(DecodeHtmlEntities("&lt;&gt;&quot;&apos;&amp;amp;") == "<>\"'&amp;");
  CHECK(DecodeHtmlEntities("&#65;&#x42;&#X43;") == "ABC");
  CHECK(DecodeHtmlEntities("&#1114112;") == "\xEF\xBF\xBD");  // beyond Unicode -> U+FFFD
  CHECK(DecodeHtmlEntities("a & b &c d;") == "a & b &c d;");
  CHECK(DecodeHtmlEntities("&#xZZ;") == "&#xZZ;");
}

TEST_CASE("csv: RFC 4180 quoting, header row, bad rows reported") {
  const std::string csv =
      "id,text,lang\r\n"
      "a1,\"Hello, world\",en\r\n"
      "a2,\"She said \"\"hi\"\"\nand left\",fr\n"
      "a3,too,many,fields\n"
      "a4,,de";
  std::vector<Record> records;
  std::vector<RecordProblem> problems;
  std::string error;
  REQUIRE(ReadCsv(csv, RecordFields{}, &records, &problems, &error));
  REQUIRE(records.size() == 3);
  CHECK(records[0].id == "a1");
  CHECK(records[0].text == "Hello, world");
  CHECK(std::get<std::string>(records[0].metadata.at("lang")) == "en");
  CHECK(records[0].metadata.count("id") == 0);
  CHECK(records[1].text == "She said \"hi\"\nand left");
  CHECK(records[2].id == "a4");
  CHECK(records[2].text.empty());
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].message.find("4 fields") != std::string::npos);

  CHECK_FALSE(ReadCsv("id,body\n1,x\n", RecordFields{}, &records, &problems, &error));
  CHECK(error.find("'text'") != std::string::npos);
  std::string parse_error;
  const auto rows = ParseCsvRows("a,b\n\"open,x\n", &parse_error);
  CHECK(rows.size() == 1);
  CHECK(parse_error.find("line 2") != std::string::npos);
}

TEST_CASE("jsonl: metadata types, ids, bad lines") {
  const std::string jsonl =
      "{\"id\": \"r1\", \"text\": \"first\", \"year\": 2021, \"score\": 0.5, \"ok\": true,"
      " \"tags\": [\"a\", \"b\"], \"nums\": [1, 2.5], \"nested\": {\"k\": 1}, \"none\": null,"
      " \"empty\": [], \"mixed\": [1, \"x\"]}\n"
      "\n"
      "{\"id\": 7, \"text\": \"second\\r\\nline\"}\n"
      "not json\n"
      "[1, 2]\n"
      "{\"id\": \"r4\", \"body\": \"no text field\"}\n"
      "{\"text\": \"no id\"}\n";
  std::vector<Record> records;
  std::vector<RecordProblem> problems;
  ReadJsonLines(jsonl, RecordFields{}, &records, &problems);
  REQUIRE(records.size() == 3);
  const auto& m = records[0].metadata;
  CHECK(std::get<int64_t>(m.at("year")) == 2021);
  CHECK(std::get<double>(m.at("score")) == 0.5);
  CHECK(std::get<bool>(m.at("ok")));
  CHECK(std::get<std::vector<std::string>>(m.at("tags")) == std::vector<std::string>{"a", "b"});
  CHECK(std::get<std::vector<double>>(m.at("nums")) == std::vector<double>{1, 2.5});
  CHECK(std::get<std::string>(m.at("nested")) == "{\"k\":1}");
  CHECK(std::get<std::string>(m.at("mixed")) == "[1,\"x\"]");
  CHECK(m.count("none") == 0);
  CHECK(m.count("empty") == 0);
  CHECK(m.count("id") == 0);
  CHECK(m.count("text") == 0);
  CHECK(records[1].id == "7");
  CHECK(records[1].text == "second\r\nline");
  CHECK(records[1].line == 3);
  CHECK(records[2].id.empty());
  REQUIRE(problems.size() == 3);
  CHECK(problems[0].line == 4);
  CHECK(problems[1].message == "not a JSON object");
  CHECK(problems[2].message.find("'text'") != std::string::npos);

  // Other field names.
  records.clear();
  problems.clear();
  ReadJsonLines("{\"key\": \"k1\", \"body\": \"b\"}\n", RecordFields{"body", "key"}, &records,
                &problems);
  REQUIRE(records.size() == 1);
  CHECK(records[0].id == "k1");
  CHECK(records[0].text == "b");
}

TEST_CASE("documents: formats by extension, UTF-8 required, record ids") {
  CHECK(FormatForPath("/a/b/README.MD") == Format::kMarkdown);
  CHECK(FormatForPath("x.htm") == Format::kHtml);
  CHECK(FormatForPath("x.ndjson") == Format::kJsonLines);
  CHECK(FormatForPath("x.tar.gz") == Format::kUnknown);
  CHECK(FormatForPath(".txt") == Format::kUnknown);
  std::vector<SourceDocument> docs;
  std::vector<std::string> problems;
  std::string error;
  CHECK_FALSE(ConvertDocument("bad.txt", Format::kText, "ok\xFF", {}, &docs, &problems, &error));
  CHECK(error.find("UTF-8") != std::string::npos);
  CHECK(error.find("offset 2") != std::string::npos);
  REQUIRE(ConvertDocument("a.txt", Format::kText, "\xEF\xBB\xBFone\r\ntwo", {}, &docs, &problems,
                          &error));
  REQUIRE(docs.size() == 1);
  CHECK(docs[0].text == "one\ntwo");
  CHECK(docs[0].id_base == "a.txt");
  docs.clear();
  REQUIRE(ConvertDocument("r.jsonl", Format::kJsonLines,
                          "{\"text\":\"x\"}\n{\"id\":\"b\",\"text\":\"y\"}", {}, &docs, &problems,
                          &error));
  REQUIRE(docs.size() == 2);
  CHECK(docs[0].id_base == "r.jsonl:1");
  CHECK(docs[1].id_base == "b");
}

TEST_CASE("apt lists: stanzas, continuation lines and paragraphs") {
  const std::string list =
      "Package: vim\n"
      "Description-md5: 59e8b8f7757db8b53566d5d119872de8\n"
      "Description-en: Vi IMproved - enhanced vi editor\n"
      " Vim is an almost compatible version of the UNIX editor Vi.\n"
      " .\n"
      " Many new features have been added.\n"
      "\n"
      "Package: nodesc\n"
      "Description-md5: 00\n"
      "\n"
      "Package: gimp\n"
      "Description-en: GNU Image Manipulation Program\n";
  const auto packages = ParseTranslationList(list);
  REQUIRE(packages.size() == 2);
  CHECK(packages[0].package == "vim");
  CHECK(packages[0].description_md5 == "59e8b8f7757db8b53566d5d119872de8");
  CHECK(packages[0].synopsis == "Vi IMproved - enhanced vi editor");
  CHECK(packages[0].long_description ==
        "Vim is an almost compatible version of the UNIX editor Vi.\n\n"
        "Many new features have been added.");
  CHECK(packages[1].package == "gimp");
  CHECK(packages[1].long_description.empty());
  CHECK(PackageDocumentText(packages[1]) == "gimp: GNU Image Manipulation Program");
  CHECK(PackageDocumentText(packages[0]).find("vim: Vi IMproved") == 0);
}

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/emberdb-walk-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  void Write(const std::string& rel, const std::string& content = "x") const {
    std::filesystem::create_directories((path / rel).parent_path());
    std::ofstream(path / rel) << content;
  }
};

std::vector<std::string> Relative(const WalkResult& r, const std::filesystem::path& root) {
  std::vector<std::string> out;
  for (const auto& f : r.files)
    out.push_back(std::filesystem::path(f.path).lexically_relative(root));
  return out;
}

}  // namespace

TEST_CASE("file walk: known formats, globs, hidden entries, sorted order") {
  TempDir dir;
  dir.Write("b.md");
  dir.Write("a.txt");
  dir.Write("sub/c.html");
  dir.Write("sub/deep/d.jsonl");
  dir.Write("sub/skip.bin");
  dir.Write(".git/config.txt");
  dir.Write("build/out.txt");
  const auto all = WalkPaths({dir.path.string()}, {});
  CHECK(all.errors.empty());
  CHECK(Relative(all, dir.path) == std::vector<std::string>{"a.txt", "b.md", "build/out.txt",
                                                            "sub/c.html", "sub/deep/d.jsonl"});
  REQUIRE(all.roots.size() == 1);
  CHECK(all.roots[0] == dir.path.lexically_normal().string());

  const auto excluded = WalkPaths({dir.path.string() + "/"}, {{}, {"build", "*.html"}});
  CHECK(Relative(excluded, dir.path) ==
        std::vector<std::string>{"a.txt", "b.md", "sub/deep/d.jsonl"});
  const auto included = WalkPaths({dir.path.string()}, {{"sub/*"}, {}});
  CHECK(Relative(included, dir.path) ==
        std::vector<std::string>{"sub/c.html", "sub/deep/d.jsonl", "sub/skip.bin"});

  const auto missing = WalkPaths({(dir.path / "nope").string(), "-"}, {});
  REQUIRE(missing.errors.size() == 1);
  CHECK(missing.errors[0].find("nope") != std::string::npos);
  REQUIRE(missing.files.size() == 1);
  CHECK(missing.files[0].path == "-");
  CHECK(GlobMatches("*.md", "x/y/z.md"));
  CHECK_FALSE(GlobMatches("x/*.md", "z.md"));
}

TEST_CASE("readers stay linear on adversarial input") {
  // Each of these was quadratic with unbounded searches; 400k characters would take minutes.
  for (const char c : {'[', '`', '<', '&', '*', '!'}) {
    CAPTURE(c);
    std::string line = "a " + std::string(400'000, c);  // "a " : not a fence or rule line
    line[1000] = 'x';
    CHECK_FALSE(MarkdownToText(line).empty());
    CHECK_FALSE(HtmlToText(line).empty());
  }
  std::string entities;
  for (int i = 0; i < 100'000; ++i) entities += "&amp";
  CHECK(DecodeHtmlEntities(entities) == entities);
}
