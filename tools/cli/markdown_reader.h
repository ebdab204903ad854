// Markdown to plain text for embedding: the words a reader sees, without the markup.
//
//   # Heading / Setext underlines   -> heading text
//   **bold**, *em*, __b__, _em_, ~~s~~ -> the text (underscores inside words are kept: snake_case)
//   [text](url), [text][ref]        -> text; reference definitions "[ref]: url" are dropped
//   ![alt](src)                     -> alt
//   `code`                          -> code;  fenced blocks (``` / ~~~) keep their content
//   > quotes, list bullets, rules   -> markers removed
//   inline HTML tags                -> removed (entities decoded)
#pragma once

#include <string>
#include <string_view>

namespace emberdb::cli {

std::string MarkdownToText(std::string_view markdown);

// Inline markup only (one line, no block structure); exposed for tests.
std::string StripInlineMarkdown(std::string_view line);

}  // namespace emberdb::cli
