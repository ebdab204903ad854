#include "document_reader.h"

#include <algorithm>
#include <cctype>

#include "html_reader.h"
#include "markdown_reader.h"
#include "utf8_text.h"

namespace emberdb::cli {

Format FormatFromName(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "txt" || lower == "text") return Format::kText;
  if (lower == "md" || lower == "markdown") return Format::kMarkdown;
  if (lower == "html" || lower == "htm") return Format::kHtml;
  if (lower == "jsonl" || lower == "ndjson") return Format::kJsonLines;
  if (lower == "csv") return Format::kCsv;
  return Format::kUnknown;
}

Format FormatForPath(std::string_view path) {
  const size_t slash = path.find_last_of('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = name.find_last_of('.');
  if (dot == std::string_view::npos || dot == 0) return Format::kUnknown;
  return FormatFromName(name.substr(dot + 1));
}

const char* FormatName(Format format) {
  switch (format) {
    case Format::kText:
      return "txt";
    case Format::kMarkdown:
      return "md";
    case Format::kHtml:
      return "html";
    case Format::kJsonLines:
      return "jsonl";
    case Format::kCsv:
      return "csv";
    case Format::kUnknown:
      break;
  }
  return "unknown";
}

bool ConvertDocument(std::string_view source, Format format, std::string_view bytes,
                     const RecordFields& fields, std::vector<SourceDocument>* docs,
                     std::vector<std::string>* problems, std::string* error) {
  size_t bad = 0;
  if (!IsValidUtf8(bytes, &bad)) {
    *error = "not valid UTF-8 (first bad byte at offset " + std::to_string(bad) + ")";
    return false;
  }
  const std::string normalized = NormalizeLineEnds(bytes);
  switch (format) {
    case Format::kText:
      docs->push_back({std::string(source), normalized, {}});
      return true;
    case Format::kMarkdown:
      docs->push_back({std::string(source), MarkdownToText(normalized), {}});
      return true;
    case Format::kHtml:
      docs->push_back({std::string(source), HtmlToText(normalized), {}});
      return true;
    case Format::kJsonLines:
    case Format::kCsv: {
      std::vector<Record> records;
      std::vector<RecordProblem> record_problems;
      if (format == Format::kJsonLines) {
        // JSON strings carry their own escapes: CRs inside a value are data, so parse the bytes
        // with only the BOM removed.
        std::string_view raw = bytes;
        if (raw.substr(0, 3) == "\xEF\xBB\xBF") raw.remove_prefix(3);
        ReadJsonLines(raw, fields, &records, &record_problems);
      } else if (!ReadCsv(normalized, fields, &records, &record_problems, error)) {
        return false;
      }
      for (const auto& p : record_problems) {
        problems->push_back(std::string(format == Format::kCsv ? "record " : "line ") +
                            std::to_string(p.line) + ": " + p.message);
      }
      for (auto& record : records) {
        SourceDocument doc;
        // Records without an id are named by their position, which is stable while the file
        // is unchanged (a changed file is replaced as a whole anyway).
        doc.id_base = record.id.empty() ? std::string(source) + ":" + std::to_string(record.line)
                                        : std::move(record.id);
        doc.text = std::move(record.text);
        doc.metadata = std::move(record.metadata);
        docs->push_back(std::move(doc));
      }
      return true;
    }
    case Format::kUnknown:
      break;
  }
  *error = "unknown format (expected .txt, .md, .html, .htm, .jsonl or .csv)";
  return false;
}

}  // namespace emberdb::cli
