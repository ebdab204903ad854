#include "metadata_json.h"

#include <cstdio>

#include "utf8_text.h"

namespace emberdb::cli {

using nlohmann::json;

namespace {

struct ToJson {
  json operator()(std::monostate) const { return nullptr; }
  template <typename T>
  json operator()(const T& v) const {
    return json(v);
  }
};

}  // namespace

json MetadataToJson(const Metadata& metadata) {
  json out = json::object();
  for (const auto& [key, value] : metadata) out[key] = std::visit(ToJson{}, value);
  return out;
}

bool MetadataFromJson(const json& object, Metadata* out, std::string* error) {
  if (!object.is_object()) {
    *error = "metadata must be a JSON object";
    return false;
  }
  for (auto it = object.begin(); it != object.end(); ++it) {
    const json& v = it.value();
    MetadataValue value;
    if (v.is_boolean()) {
      value = v.get<bool>();
    } else if (v.is_number_integer() &&
               !(v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX})) {
      value = v.get<int64_t>();
    } else if (v.is_number()) {
      value = v.get<double>();
    } else if (v.is_string()) {
      value = v.get<std::string>();
    } else if (v.is_array()) {
      bool all_bool = true, all_int = true, all_number = true, all_string = true;
      for (const auto& e : v) {
        all_bool &= e.is_boolean();
        all_int &= e.is_number_integer();
        all_number &= e.is_number();
        all_string &= e.is_string();
      }
      // An empty list has no element type; strings is as good a guess as any.
      if (v.empty() || all_string) {
        value = v.get<std::vector<std::string>>();
      } else if (all_bool) {
        value = v.get<std::vector<bool>>();
      } else if (all_int) {
        value = v.get<std::vector<int64_t>>();
      } else if (all_number) {
        value = v.get<std::vector<double>>();
      } else {
        *error = "metadata field '" + it.key() + "' is a list of mixed types";
        return false;
      }
    } else {
      *error = "metadata field '" + it.key() + "' has an unsupported type (" + v.type_name() + ")";
      return false;
    }
    (*out)[it.key()] = std::move(value);
  }
  return true;
}

std::string VectorToJson(const std::vector<float>& vector) {
  std::string out = "[";
  char buffer[32];
  for (size_t i = 0; i < vector.size(); ++i) {
    if (i > 0) out.push_back(',');
    std::snprintf(buffer, sizeof(buffer), "%.9g", static_cast<double>(vector[i]));
    out += buffer;
  }
  out.push_back(']');
  return out;
}

std::string AppendRawField(std::string object_json, const std::string& key,
                           const std::string& raw_value) {
  if (object_json.empty() || object_json.back() != '}') return object_json;
  object_json.pop_back();
  if (object_json.size() > 1) object_json.push_back(',');
  object_json += json(key).dump() + ":" + raw_value + "}";
  return object_json;
}

std::string Snippet(const std::string& text, size_t max_bytes) {
  std::string flat;
  flat.reserve(std::min(text.size(), max_bytes * 2));
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !flat.empty();
      continue;
    }
    if (space) flat.push_back(' ');
    space = false;
    flat.push_back(c);
    if (flat.size() > max_bytes + 8) break;
  }
  if (flat.size() <= max_bytes) return flat;
  std::string_view cut = Utf8Prefix(flat, max_bytes);
  const size_t last_space = cut.find_last_of(' ');
  if (last_space != std::string_view::npos && last_space > max_bytes / 2) {
    cut = cut.substr(0, last_space);
  }
  return std::string(cut) + "...";
}

std::string MetadataString(const Metadata& metadata, const std::string& key) {
  auto it = metadata.find(key);
  if (it == metadata.end()) return "";
  if (const auto* s = std::get_if<std::string>(&it->second)) return *s;
  return "";
}

int64_t MetadataInt(const Metadata& metadata, const std::string& key, int64_t fallback) {
  auto it = metadata.find(key);
  if (it == metadata.end()) return fallback;
  if (const auto* i = std::get_if<int64_t>(&it->second)) return *i;
  if (const auto* d = std::get_if<double>(&it->second)) return static_cast<int64_t>(*d);
  return fallback;
}

}  // namespace emberdb::cli
