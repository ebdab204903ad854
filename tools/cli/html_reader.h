// HTML to plain text: tags, comments, scripts and styles removed; block elements become line
// breaks (paragraph-like elements a blank line); character references decoded. Pure, no I/O.
#pragma once

#include <string>
#include <string_view>

namespace emberdb::cli {

// Plain text of an HTML document. Never fails: malformed markup is treated as text.
std::string HtmlToText(std::string_view html);

// Decodes named (&amp;), decimal (&#233;) and hex (&#xE9;) character references; unknown or
// malformed references are kept as they are.
std::string DecodeHtmlEntities(std::string_view text);

// Removes tags (and <script>/<style> bodies, comments) from `html`, emitting `\n` for line
// breaking elements and `\n\n` for paragraph-like ones. Entities are left alone.
std::string StripHtmlTags(std::string_view html);

}  // namespace emberdb::cli
