#include "chunker.h"

#include <algorithm>

namespace emberdb::cli {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

struct Word {
  size_t start;
  size_t end;
};

std::vector<Word> SplitWords(std::string_view text) {
  std::vector<Word> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    if (i == text.size()) break;
    const size_t start = i;
    while (i < text.size() && !IsSpace(text[i])) ++i;
    words.push_back({start, i});
  }
  return words;
}

// A blank line between the two words.
bool IsParagraphBreak(std::string_view text, const Word& before, const Word& after) {
  int newlines = 0;
  for (size_t i = before.end; i < after.start; ++i) {
    if (text[i] == '\n' && ++newlines == 2) return true;
  }
  return false;
}

// `word` ends a sentence: its last character, ignoring closing quotes and brackets, is . ! ?
bool EndsSentence(std::string_view text, const Word& word) {
  size_t i = word.end;
  while (i > word.start) {
    const char c = text[i - 1];
    if (c == '"' || c == '\'' || c == ')' || c == ']') {
      --i;
      continue;
    }
    return c == '.' || c == '!' || c == '?';
  }
  return false;
}

}  // namespace

std::string CheckChunkOptions(const ChunkOptions& options) {
  if (options.words == 0) return "--chunk-words must be at least 1";
  if (options.overlap >= options.words) {
    return "--overlap (" + std::to_string(options.overlap) +
           ") must be smaller than --chunk-words (" + std::to_string(options.words) + ")";
  }
  return "";
}

std::vector<ChunkRange> ChunkText(std::string_view text, const ChunkOptions& options) {
  const std::vector<Word> words = SplitWords(text);
  std::vector<ChunkRange> chunks;
  if (words.empty()) return chunks;
  const size_t n = words.size();
  // Word index ranges [first, last) per passage.
  std::vector<std::pair<size_t, size_t>> spans;
  size_t first = 0;
  while (true) {
    if (n - first <= options.words) {
      spans.emplace_back(first, n);
      break;
    }
    const size_t limit = first + options.words;  // exclusive end at the full window
    // Look for a natural break in the second half of the window, latest first, so passages
    // stay close to the target size.
    const size_t earliest = first + std::max<size_t>(1, (options.words + 1) / 2);
    size_t cut = 0;
    for (size_t e = limit; e >= earliest && cut == 0; --e) {
      if (IsParagraphBreak(text, words[e - 1], words[e])) cut = e;
    }
    for (size_t e = limit; e >= earliest && cut == 0; --e) {
      if (EndsSentence(text, words[e - 1])) cut = e;
    }
    if (cut == 0) cut = limit;
    spans.emplace_back(first, cut);
    // The next passage repeats `overlap` words, but always moves forward.
    first = std::max(first + 1, cut > options.overlap ? cut - options.overlap : 0);
  }
  chunks.reserve(spans.size());
  for (size_t i = 0; i < spans.size(); ++i) {
    ChunkRange range;
    range.start = i == 0 ? 0 : words[spans[i].first].start;
    if (i + 1 == spans.size()) {
      range.end = text.size();
    } else {
      // Without overlap the whitespace between passages belongs to the earlier one, so the
      // passages still tile the text.
      range.end = std::max(words[spans[i].second - 1].end, words[spans[i + 1].first].start);
    }
    chunks.push_back(range);
  }
  return chunks;
}

}  // namespace emberdb::cli
