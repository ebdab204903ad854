// Readers for record files: JSON lines and CSV, one document per record.
//
// The text field becomes the document text, the id field its id; every other field becomes
// metadata: strings, numbers (integers as int64, others as double), bools, and arrays of one of
// those kinds. Nested objects and mixed arrays are stored as their JSON text; nulls and empty
// arrays are left out (their type is unknown). CSV values are always strings: CSV has no types,
// and guessing would corrupt values like "007".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "emberdb/document.h"

namespace emberdb::cli {

struct RecordFields {
  std::string text_field = "text";
  std::string id_field = "id";
};

struct Record {
  std::string id;  // empty when the record has no id field: the caller derives one
  std::string text;
  Metadata metadata;
  size_t line = 0;  // 1-based line (JSONL) or record number (CSV) in the file
};

// A record that could not be used; the rest of the file still is.
struct RecordProblem {
  size_t line = 0;
  std::string message;
};

// Parses JSON lines. Blank lines are ignored. Lines that are not JSON objects, or lack a string
// text field, are reported in `problems` and skipped.
void ReadJsonLines(std::string_view content, const RecordFields& fields,
                   std::vector<Record>* records, std::vector<RecordProblem>* problems);

// Parses RFC 4180 CSV with a header row (quoted fields may hold commas, "" and line breaks).
// Returns false, with `*error` set, when the header is missing or the text field is not a
// column; rows with the wrong number of fields are reported in `problems` and skipped.
bool ReadCsv(std::string_view content, const RecordFields& fields, std::vector<Record>* records,
             std::vector<RecordProblem>* problems, std::string* error);

// Splits CSV into rows of fields (exposed for tests). `*error` names the first unterminated
// quote, if any; the rows before it are returned.
std::vector<std::vector<std::string>> ParseCsvRows(std::string_view content, std::string* error);

}  // namespace emberdb::cli
