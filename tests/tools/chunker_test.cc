// Unit tests of the CLI's passage chunker, UTF-8 checks and content hash.
#include "../../tools/cli/chunker.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "../../tools/cli/ingester.h"
#include "../../tools/cli/metadata_json.h"
#include "../../tools/cli/sha256.h"
#include "../../tools/cli/utf8_text.h"

using emberdb::cli::ChunkOptions;
using emberdb::cli::ChunkRange;
using emberdb::cli::ChunkText;

namespace {

bool IsSpaceChar(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

size_t CountWords(std::string_view s) {
  size_t n = 0;
  bool in_word = false;
  for (char c : s) {
    if (IsSpaceChar(c)) {
      in_word = false;
    } else if (!in_word) {
      in_word = true;
      ++n;
    }
  }
  return n;
}

// A text of `n` random words with random separators, sentence ends and paragraph breaks.
std::string RandomText(std::mt19937* rng, size_t n) {
  static const char* kSeparators[] = {" ", " ", " ", "  ", "\n", "\t", "\n\n", " \n\n  "};
  std::string text = (*rng)() % 2 ? "  " : "";
  for (size_t i = 0; i < n; ++i) {
    const size_t len = 1 + (*rng)() % 9;
    for (size_t k = 0; k < len; ++k) text.push_back(static_cast<char>('a' + (*rng)() % 26));
    if ((*rng)() % 7 == 0) text.push_back('.');
    if (i + 1 < n) text += kSeparators[(*rng)() % 8];
  }
  if ((*rng)() % 2) text += "\n";
  return text;
}

// Every structural promise of ChunkText, checked on one text.
void CheckChunks(const std::string& text, const ChunkOptions& options) {
  const std::vector<ChunkRange> chunks = ChunkText(text, options);
  const size_t words = CountWords(text);
  if (words == 0) {
    CHECK(chunks.empty());
    return;
  }
  REQUIRE_FALSE(chunks.empty());
  CHECK(chunks.front().start == 0);
  CHECK(chunks.back().end == text.size());
  std::string rebuilt(text.size(), '\0');
  for (size_t i = 0; i < chunks.size(); ++i) {
    const ChunkRange& c = chunks[i];
    REQUIRE(c.start < c.end);
    REQUIRE(c.end <= text.size());
    // Never mid-word: passages start on a word and end next to whitespace.
    if (c.start > 0) CHECK(IsSpaceChar(text[c.start - 1]));
    if (c.start > 0) CHECK_FALSE(IsSpaceChar(text[c.start]));
    if (c.end < text.size()) CHECK((IsSpaceChar(text[c.end]) || IsSpaceChar(text[c.end - 1])));
    const std::string_view passage = std::string_view(text).substr(c.start, c.end - c.start);
    CHECK(CountWords(passage) <= options.words);
    CHECK(CountWords(passage) >= 1);
    if (i > 0) {
      const ChunkRange& prev = chunks[i - 1];
      CHECK(c.start > prev.start);
      CHECK(c.start <= prev.end);  // no gap: the passages tile the text
      if (options.overlap > 0) {
        // `overlap` words are repeated, unless a short (early-cut) passage has fewer to spare:
        // every passage adds at least one new word.
        const size_t prev_words =
            CountWords(std::string_view(text).substr(prev.start, prev.end - prev.start));
        CHECK(CountWords(std::string_view(text).substr(c.start, prev.end - c.start)) ==
              std::min(options.overlap, prev_words - 1));
      } else {
        CHECK(c.start == prev.end);
      }
    }
    text.copy(rebuilt.data() + c.start, c.end - c.start, c.start);
  }
  CHECK(rebuilt == text);
}

}  // namespace

TEST_CASE("chunker: empty and whitespace-only texts give no passages") {
  CHECK(ChunkText("", ChunkOptions{}).empty());
  CHECK(ChunkText(" \n\n\t  ", ChunkOptions{}).empty());
}

TEST_CASE("chunker: a short text is one passage covering all of it") {
  const std::string text = "  Hello world.\n\nSecond paragraph here.  \n";
  const auto chunks = ChunkText(text, ChunkOptions{200, 40});
  REQUIRE(chunks.size() == 1);
  CHECK(chunks[0].start == 0);
  CHECK(chunks[0].end == text.size());
}

TEST_CASE("chunker: random texts keep every promise (bounds, overlap, offsets, reassembly)") {
  std::mt19937 rng(1234);
  const ChunkOptions option_sets[] = {{200, 40}, {10, 3}, {7, 0}, {5, 4}, {1, 0}, {50, 25}};
  for (int round = 0; round < 60; ++round) {
    const std::string text = RandomText(&rng, 1 + rng() % 700);
    for (const auto& options : option_sets) {
      CAPTURE(round);
      CAPTURE(options.words);
      CAPTURE(options.overlap);
      CheckChunks(text, options);
    }
  }
}

TEST_CASE("chunker: prefers sentence ends over cutting mid-sentence") {
  // Sentences of 6 words; a 20-word window can end after 18 words at a sentence end.
  std::string text;
  for (int s = 0; s < 20; ++s) text += "one two three four five six" + std::string(". ");
  const auto chunks = ChunkText(text, ChunkOptions{20, 0});
  REQUIRE(chunks.size() > 2);
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    const std::string passage = text.substr(chunks[i].start, chunks[i].end - chunks[i].start);
    const size_t last = passage.find_last_not_of(' ');
    CHECK(passage[last] == '.');
    CHECK(CountWords(passage) == 18);
  }
}

TEST_CASE("chunker: prefers paragraph breaks over sentence ends") {
  // Paragraphs of 14 words (two sentences of 7); window 20 -> cut after each paragraph.
  std::string text;
  for (int p = 0; p < 10; ++p) {
    text += "a b c d e f g. h i j k l m n.";
    text += "\n\n";
  }
  const auto chunks = ChunkText(text, ChunkOptions{20, 2});
  REQUIRE(chunks.size() >= 5);
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    CHECK(text.compare(chunks[i].end, 2, "\n\n") == 0);
  }
  CheckChunks(text, ChunkOptions{20, 2});
}

TEST_CASE("chunker: huge inputs") {
  std::string text;
  text.reserve(2'000'000);
  for (int i = 0; i < 200'000; ++i) text += "word" + std::to_string(i % 97) + " ";
  const auto chunks = ChunkText(text, ChunkOptions{200, 40});
  // Each passage but the last advances by words - overlap = 160 words.
  CHECK(chunks.size() == (200'000 - 40 + 159) / 160);
  CheckChunks(text, ChunkOptions{200, 40});
  // One enormous "word" cannot be split: it is a single passage.
  const std::string blob(1 << 20, 'x');
  const auto one = ChunkText(blob, ChunkOptions{200, 40});
  REQUIRE(one.size() == 1);
  CHECK(one[0].end == blob.size());
}

TEST_CASE("chunker: option checks") {
  CHECK(emberdb::cli::CheckChunkOptions({200, 40}).empty());
  CHECK_FALSE(emberdb::cli::CheckChunkOptions({0, 0}).empty());
  CHECK_FALSE(emberdb::cli::CheckChunkOptions({10, 10}).empty());
  CHECK(emberdb::cli::CheckChunkOptions({10, 9}).empty());
}

TEST_CASE("utf8: validation finds the first bad byte") {
  using emberdb::cli::IsValidUtf8;
  size_t bad = 99;
  CHECK(IsValidUtf8("plain ascii"));
  CHECK(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  CHECK_FALSE(IsValidUtf8("ab\xFF", &bad));
  CHECK(bad == 2);
  CHECK_FALSE(IsValidUtf8("\xC0\x80", &bad));  // overlong NUL
  CHECK(bad == 0);
  CHECK_FALSE(IsValidUtf8("x\xED\xA0\x80", &bad));  // UTF-16 surrogate
  CHECK(bad == 1);
  CHECK_FALSE(IsValidUtf8("xy\xE2\x82", &bad));  // truncated
  CHECK(bad == 2);
  CHECK_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
}

TEST_CASE("utf8: encoding, line ends and safe prefixes") {
  std::string out;
  emberdb::cli::AppendUtf8(0xE9, &out);
  emberdb::cli::AppendUtf8(0x1F600, &out);
  emberdb::cli::AppendUtf8(0xD800, &out);  // surrogate -> U+FFFD
  CHECK(out == "\xC3\xA9\xF0\x9F\x98\x80\xEF\xBF\xBD");
  CHECK(emberdb::cli::NormalizeLineEnds("\xEF\xBB\xBF"
                                        "a\r\nb\rc\n") == "a\nb\nc\n");
  CHECK(emberdb::cli::Utf8Prefix("ab\xC3\xA9", 3) == "ab");
  CHECK(emberdb::cli::Utf8Prefix("ab\xC3\xA9", 4) == "ab\xC3\xA9");
}

TEST_CASE("sha256: standard test vectors") {
  using emberdb::cli::Sha256Hex;
  CHECK(Sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(Sha256Hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Lengths around the padding boundary differ from each other.
  CHECK(Sha256Hex(std::string(55, 'x')) != Sha256Hex(std::string(56, 'x')));
}

TEST_CASE("passage ids and JSON helpers") {
  using emberdb::cli::PassageId;
  CHECK(PassageId("/a/b.txt", 3) == "/a/b.txt#3");
  const std::string long_base(600, 'p');
  const std::string id = PassageId(long_base, 12);
  CHECK(id.size() <= 512);
  CHECK(id == "sha256:" + emberdb::cli::Sha256Hex(long_base) + "#12");

  // %.9g round-trips float32 exactly.
  const std::vector<float> v = {0.1f, -1.0f / 3.0f, 1e-38f, 3.4028235e38f, 0.0f, 123456.789f};
  const auto parsed = nlohmann::json::parse(emberdb::cli::VectorToJson(v));
  REQUIRE(parsed.size() == v.size());
  for (size_t i = 0; i < v.size(); ++i) CHECK(parsed[i].get<float>() == v[i]);
  CHECK(emberdb::cli::AppendRawField("{\"a\":1}", "v", "[1]") == "{\"a\":1,\"v\":[1]}");
  CHECK(emberdb::cli::AppendRawField("{}", "v", "[]") == "{\"v\":[]}");

  // Metadata survives JSON with its types.
  emberdb::Metadata m = {{"i", int64_t{3}},
                         {"d", 3.0},
                         {"b", false},
                         {"s", std::string("x")},
                         {"li", std::vector<int64_t>{1, 2}},
                         {"ld", std::vector<double>{0.5, 2.0}},
                         {"lb", std::vector<bool>{true}},
                         {"ls", std::vector<std::string>{"a"}}};
  const auto text = emberdb::cli::MetadataToJson(m).dump();
  emberdb::Metadata back;
  std::string error;
  REQUIRE(emberdb::cli::MetadataFromJson(nlohmann::json::parse(text), &back, &error));
  CHECK(back == m);
  CHECK_FALSE(
      emberdb::cli::MetadataFromJson(nlohmann::json::parse("{\"o\": {\"x\": 1}}"), &back, &error));
  CHECK(error.find("'o'") != std::string::npos);

  CHECK(emberdb::cli::Snippet("  a\n\n b  c ") == "a b c");
  const std::string snippet =
      emberdb::cli::Snippet(std::string(100, 'w') + " " + std::string(100, 'z'), 150);
  CHECK(snippet == std::string(100, 'w') + "...");
}
