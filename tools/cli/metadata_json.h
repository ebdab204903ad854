// Metadata, vectors and hits as JSON, for --json output and export/import.
// Floats are printed with %.9g, which round-trips every float32 exactly; doubles in metadata
// use nlohmann's shortest round-trip form.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "emberdb/document.h"

namespace emberdb::cli {

nlohmann::json MetadataToJson(const Metadata& metadata);
// Exact inverse of MetadataToJson for its output. False with `*error` for values metadata
// cannot hold (null, objects, mixed arrays).
bool MetadataFromJson(const nlohmann::json& object, Metadata* out, std::string* error);

// "[0.123456789,-1,...]"
std::string VectorToJson(const std::vector<float>& vector);
// Appends `"key":<raw json>` to a serialized JSON object (before its closing brace).
std::string AppendRawField(std::string object_json, const std::string& key,
                           const std::string& raw_value);

// A short one-line excerpt of `text` (whitespace collapsed, cut at a word, "..." when cut).
std::string Snippet(const std::string& text, size_t max_bytes = 160);

// The string value of metadata `key`, or "" when absent or not a string.
std::string MetadataString(const Metadata& metadata, const std::string& key);
// The integer value of metadata `key`, or `fallback`.
int64_t MetadataInt(const Metadata& metadata, const std::string& key, int64_t fallback);

}  // namespace emberdb::cli
