// UTF-8 checks and small text helpers shared by the format readers. Pure functions, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace emberdb::cli {

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points above
// U+10FFFF). On failure `*bad_offset` (when given) receives the byte offset of the first bad byte.
bool IsValidUtf8(std::string_view text, size_t* bad_offset = nullptr);

// Appends the UTF-8 encoding of `code_point`; invalid code points become U+FFFD.
void AppendUtf8(uint32_t code_point, std::string* out);

// Drops a leading byte-order mark and turns CRLF and lone CR line ends into LF, so that
// offsets and paragraph detection work the same for files from any platform.
std::string NormalizeLineEnds(std::string_view text);

// The longest prefix of `text` with at most `max_bytes` bytes that does not cut a UTF-8
// sequence in half.
std::string_view Utf8Prefix(std::string_view text, size_t max_bytes);

}  // namespace emberdb::cli
