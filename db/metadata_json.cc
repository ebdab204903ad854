// Metadata <-> JSON, for the C API, the CLI and applications that keep metadata as JSON.
#include <nlohmann/json.hpp>

#include "emberdb/document.h"

namespace emberdb {

using nlohmann::json;

namespace {

template <typename T>
bool ListOf(const json& array, MetadataValue* out) {
  std::vector<T> list;
  for (const json& e : array) {
    if constexpr (std::is_same_v<T, bool>) {
      if (!e.is_boolean()) return false;
    } else if constexpr (std::is_same_v<T, int64_t>) {
      if (!e.is_number_integer() || (e.is_number_unsigned() && e.get<uint64_t>() > INT64_MAX)) {
        return false;
      }
    } else if constexpr (std::is_same_v<T, double>) {
      if (!e.is_number()) return false;
    } else {
      if (!e.is_string()) return false;
    }
    list.push_back(e.get<T>());
  }
  *out = std::move(list);
  return true;
}

Status ValueFromJson(const std::string& key, const json& v, MetadataValue* out) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("metadata field '" + key + "': " + why);
  };
  switch (v.type()) {
    case json::value_t::null:
      *out = std::monostate();
      return Status::OK();
    case json::value_t::boolean:
      *out = v.get<bool>();
      return Status::OK();
    case json::value_t::number_integer:
      *out = v.get<int64_t>();
      return Status::OK();
    case json::value_t::number_unsigned:
      if (v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        return bad("integer does not fit in int64");
      }
      *out = static_cast<int64_t>(v.get<uint64_t>());
      return Status::OK();
    case json::value_t::number_float:
      *out = v.get<double>();
      return Status::OK();
    case json::value_t::string:
      *out = v.get<std::string>();
      return Status::OK();
    case json::value_t::array: {
      if (v.empty()) return bad("empty lists have no type; leave the field out instead");
      const json& first = v.front();
      bool ok = first.is_boolean()          ? ListOf<bool>(v, out)
                : first.is_number_integer() ? (ListOf<int64_t>(v, out) || ListOf<double>(v, out))
                : first.is_number()         ? ListOf<double>(v, out)
                : first.is_string()         ? ListOf<std::string>(v, out)
                                            : false;
      if (!ok) return bad("lists must hold only strings, only numbers or only booleans");
      return Status::OK();
    }
    default:
      return bad("unsupported type " + std::string(v.type_name()));
  }
}

}  // namespace

Status MetadataFromJson(std::string_view text, Metadata* out) {
  out->clear();
  if (text.empty()) return Status::OK();
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("metadata is not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument("metadata must be a JSON object");
  for (const auto& [key, value] : j.items()) {
    MetadataValue v;
    EMBERDB_RETURN_IF_ERROR(ValueFromJson(key, value, &v));
    out->emplace(key, std::move(v));
  }
  return Status::OK();
}

std::string MetadataToJson(const Metadata& metadata) {
  json j = json::object();
  for (const auto& [key, value] : metadata) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            j[key] = nullptr;
          } else {
            j[key] = v;
          }
        },
        value);
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace emberdb
