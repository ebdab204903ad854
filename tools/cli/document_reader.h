// Turns a file's bytes into the documents to ingest, choosing the format by extension:
// .txt (as is), .md/.markdown, .html/.htm, .jsonl/.ndjson (one document per line), .csv (one per
// row). Every format requires UTF-8; line ends are normalised to LF for whole-file formats.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "emberdb/document.h"
#include "record_readers.h"

namespace emberdb::cli {

enum class Format { kText, kMarkdown, kHtml, kJsonLines, kCsv, kUnknown };

// By extension, case-insensitively; kUnknown for anything else.
Format FormatForPath(std::string_view path);
// Parses "txt", "md", "html", "jsonl", "csv"; kUnknown otherwise.
Format FormatFromName(std::string_view name);
const char* FormatName(Format format);

// One document of a file: whole-file formats give one, record formats one per record.
struct SourceDocument {
  std::string id_base;  // passage ids are "<id_base>#<chunk>"
  std::string text;     // after format conversion; passage offsets point into it
  Metadata metadata;    // record fields (record formats only)
};

// Converts `bytes` read from `source`. Returns false with `*error` (one sentence) when the
// file as a whole is unusable (e.g. not UTF-8); records that alone are bad go to `problems`.
bool ConvertDocument(std::string_view source, Format format, std::string_view bytes,
                     const RecordFields& fields, std::vector<SourceDocument>* docs,
                     std::vector<std::string>* problems, std::string* error);

}  // namespace emberdb::cli
