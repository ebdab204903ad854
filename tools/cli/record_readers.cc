#include "record_readers.h"

#include <nlohmann/json.hpp>

namespace emberdb::cli {
namespace {

using nlohmann::json;

// Converts one JSON value to metadata; false when it has no metadata form (null, empty array).
bool ToMetadataValue(const json& value, MetadataValue* out) {
  switch (value.type()) {
    case json::value_t::string:
      *out = value.get<std::string>();
      return true;
    case json::value_t::boolean:
      *out = value.get<bool>();
      return true;
    case json::value_t::number_integer:
      *out = value.get<int64_t>();
      return true;
    case json::value_t::number_unsigned:
      if (value.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) {
        *out = static_cast<int64_t>(value.get<uint64_t>());
      } else {
        *out = value.get<double>();
      }
      return true;
    case json::value_t::number_float:
      *out = value.get<double>();
      return true;
    case json::value_t::array: {
      if (value.empty()) return false;
      bool all_bool = true, all_int = true, all_number = true, all_string = true;
      for (const auto& e : value) {
        all_bool &= e.is_boolean();
        all_int &= e.is_number_integer() &&
                   !(e.is_number_unsigned() && e.get<uint64_t>() > uint64_t{INT64_MAX});
        all_number &= e.is_number();
        all_string &= e.is_string();
      }
      if (all_bool) {
        *out = value.get<std::vector<bool>>();
      } else if (all_int) {
        *out = value.get<std::vector<int64_t>>();
      } else if (all_number) {
        *out = value.get<std::vector<double>>();
      } else if (all_string) {
        *out = value.get<std::vector<std::string>>();
      } else {
        *out = value.dump();
      }
      return true;
    }
    case json::value_t::object:
      *out = value.dump();
      return true;
    default:
      return false;
  }
}

std::string IdText(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number() || value.is_boolean()) return value.dump();
  return "";
}

}  // namespace

void ReadJsonLines(std::string_view content, const RecordFields& fields,
                   std::vector<Record>* records, std::vector<RecordProblem>* problems) {
  size_t pos = 0;
  size_t line_no = 0;
  while (pos < content.size()) {
    size_t nl = content.find('\n', pos);
    if (nl == std::string_view::npos) nl = content.size();
    std::string_view line = content.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    json object = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (object.is_discarded()) {
      problems->push_back({line_no, "not valid JSON"});
      continue;
    }
    if (!object.is_object()) {
      problems->push_back({line_no, "not a JSON object"});
      continue;
    }
    auto text = object.find(fields.text_field);
    if (text == object.end() || !text->is_string()) {
      problems->push_back({line_no, "no string field '" + fields.text_field + "'"});
      continue;
    }
    Record record;
    record.line = line_no;
    record.text = text->get<std::string>();
    for (auto it = object.begin(); it != object.end(); ++it) {
      if (it.key() == fields.text_field) continue;
      if (it.key() == fields.id_field) {
        record.id = IdText(it.value());
        continue;
      }
      if (it.key().empty() || it.key()[0] == '$' || it.key().size() > 256) continue;
      MetadataValue value;
      if (ToMetadataValue(it.value(), &value)) record.metadata[it.key()] = std::move(value);
    }
    records->push_back(std::move(record));
  }
}

std::vector<std::vector<std::string>> ParseCsvRows(std::string_view content, std::string* error) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool in_quotes = false;
  bool field_started = false;  // something (even "") was read for the current field
  size_t quote_line = 0;
  size_t line = 1;
  for (size_t i = 0; i < content.size(); ++i) {
    const char c = content[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < content.size() && content[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && field.empty()) {
      in_quotes = true;
      field_started = true;
      quote_line = line;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < content.size() && content[i + 1] == '\n') ++i;
      ++line;
      if (!row.empty() || !field.empty() || field_started) {
        row.push_back(std::move(field));
        rows.push_back(std::move(row));
      }
      row.clear();
      field.clear();
      field_started = false;
    } else {
      field.push_back(c);
    }
  }
  if (in_quotes) {
    *error = "unterminated quoted field starting on line " + std::to_string(quote_line);
    return rows;
  }
  if (!row.empty() || !field.empty() || field_started) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

bool ReadCsv(std::string_view content, const RecordFields& fields, std::vector<Record>* records,
             std::vector<RecordProblem>* problems, std::string* error) {
  std::string parse_error;
  const auto rows = ParseCsvRows(content, &parse_error);
  if (rows.empty()) {
    *error = parse_error.empty() ? "no header row" : parse_error;
    return false;
  }
  const auto& header = rows[0];
  int text_column = -1, id_column = -1;
  for (size_t c = 0; c < header.size(); ++c) {
    if (header[c] == fields.text_field) text_column = static_cast<int>(c);
    if (header[c] == fields.id_field) id_column = static_cast<int>(c);
  }
  if (text_column < 0) {
    *error = "the header has no column '" + fields.text_field + "'";
    return false;
  }
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    if (row.size() != header.size()) {
      problems->push_back({r, "record " + std::to_string(r) + " has " + std::to_string(row.size()) +
                                  " fields, the header has " + std::to_string(header.size())});
      continue;
    }
    Record record;
    record.line = r;
    record.text = row[text_column];
    if (id_column >= 0) record.id = row[id_column];
    for (size_t c = 0; c < header.size(); ++c) {
      if (static_cast<int>(c) == text_column || static_cast<int>(c) == id_column) continue;
      if (header[c].empty() || header[c][0] == '$' || header[c].size() > 256) continue;
      record.metadata[header[c]] = row[c];
    }
    records->push_back(std::move(record));
  }
  if (!parse_error.empty()) problems->push_back({rows.size(), parse_error});
  return true;
}

}  // namespace emberdb::cli
