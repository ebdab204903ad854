// Splits a document's text into overlapping passages of about N words.
//
// Passages are byte ranges [start, end) of the text, so a search hit can be traced back to its
// place in the document and the document can be rebuilt from its passages: consecutive
// passages overlap or touch, the first starts at 0 and the last ends at text.size().
// Boundaries only fall on whitespace (never inside a word). Within the second half of each
// window the chunker prefers, in order, a paragraph break (a blank line), then a sentence end
// (a word ending in . ! or ?, possibly followed by closing quotes or brackets).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace emberdb::cli {

struct ChunkOptions {
  size_t words = 200;   // target words per passage (a passage never has more)
  size_t overlap = 40;  // words repeated at the start of the next passage (fewer when a
                        // passage cut early at a break is too short: each adds a new word)
};

struct ChunkRange {
  size_t start = 0;  // byte offsets into the text
  size_t end = 0;
};

// Empty string when the options are usable, else a sentence saying what is wrong.
std::string CheckChunkOptions(const ChunkOptions& options);

// The passages of `text`. Text without any word (empty or all whitespace) gives no passage.
// `options` must pass CheckChunkOptions.
std::vector<ChunkRange> ChunkText(std::string_view text, const ChunkOptions& options);

}  // namespace emberdb::cli
