#include "db/validation.h"

#include <cmath>

namespace emberdb {
namespace {

std::string Quote(std::string_view id) {
  // Ids in messages are shown as given when printable UTF-8, else by length only.
  // Appending (not "'" + ...) sidesteps a GCC 12 -Wrestrict false positive.
  std::string out(1, IsValidUtf8(id) && id.size() <= 80 ? '\'' : '(');
  if (out[0] == '\'') {
    out.append(id);
    out += '\'';
  } else {
    out += std::to_string(id.size());
    out += "-byte id)";
  }
  return out;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p < n + 1) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    p += n + 1;
  }
  return true;
}

Status ValidateCollectionName(std::string_view name) {
  if (name.empty() || name.size() > kMaxCollectionNameBytes) {
    return Status::InvalidArgument("collection name must be 1 to 128 bytes long");
  }
  auto ok_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  };
  for (char c : name) {
    if (!ok_char(c)) {
      return Status::InvalidArgument("invalid collection name '" + std::string(name) +
                                     "': use letters, digits, '.', '_' and '-'");
    }
  }
  if (name[0] == '.' || name[0] == '-' || name[0] == '_') {
    return Status::InvalidArgument("invalid collection name '" + std::string(name) +
                                   "': must start with a letter or digit");
  }
  return Status::OK();
}

Status ValidateId(std::string_view id) {
  if (id.empty()) return Status::InvalidArgument("document id is empty");
  if (id.size() > kMaxIdBytes) {
    return Status::InvalidArgument("document id of " + std::to_string(id.size()) +
                                   " bytes exceeds the limit of 512 bytes");
  }
  if (!IsValidUtf8(id)) return Status::InvalidArgument("document id is not valid UTF-8");
  return Status::OK();
}

Status ValidateText(std::string_view id, std::string_view text) {
  if (!IsValidUtf8(text)) {
    return Status::InvalidArgument("text of document " + Quote(id) + " is not valid UTF-8");
  }
  return Status::OK();
}

Status ValidateMetadata(std::string_view id, const Metadata& metadata, bool allow_null) {
  for (const auto& [key, value] : metadata) {
    std::string where = "metadata of document " + Quote(id);
    if (key.empty() || key.size() > kMaxFieldBytes) {
      return Status::InvalidArgument(where + ": field names must be 1 to 256 bytes");
    }
    if (!IsValidUtf8(key) || key.find('\0') != std::string::npos) {
      return Status::InvalidArgument(where + ": field name is not valid UTF-8 without NUL");
    }
    if (key[0] == '$') {
      return Status::InvalidArgument(where + ": field name '" + key + "' may not start with '$'");
    }
    where += " field '" + key + "'";
    if (std::holds_alternative<std::monostate>(value) && !allow_null) {
      return Status::InvalidArgument(where +
                                     ": unsupported type null (use string, int, double, bool "
                                     "or a list of one of those)");
    }
    if (const double* d = std::get_if<double>(&value); d && !std::isfinite(*d)) {
      return Status::InvalidArgument(where + ": value is not a finite number");
    }
    if (const auto* list = std::get_if<std::vector<double>>(&value)) {
      for (double d : *list) {
        if (!std::isfinite(d)) {
          return Status::InvalidArgument(where + ": list holds a non-finite number");
        }
      }
    }
    if (const std::string* s = std::get_if<std::string>(&value); s && !IsValidUtf8(*s)) {
      return Status::InvalidArgument(where + ": string is not valid UTF-8");
    }
    if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
      for (const auto& s : *list) {
        if (!IsValidUtf8(s)) {
          return Status::InvalidArgument(where + ": list holds a string that is not UTF-8");
        }
      }
    }
  }
  return Status::OK();
}

static Status CheckVector(const std::string& what, const float* v, size_t n, uint32_t dim,
                          Metric metric) {
  if (n != dim) {
    return Status::InvalidArgument(what + " has dimension " + std::to_string(n) +
                                   ", the collection's is " + std::to_string(dim));
  }
  double norm = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) {
      return Status::InvalidArgument(what + " has a non-finite component at index " +
                                     std::to_string(i));
    }
    norm += double(v[i]) * v[i];
  }
  if (metric == Metric::kCosine && norm == 0) {
    return Status::InvalidArgument(what + " is all zeros, which has no cosine direction");
  }
  return Status::OK();
}

Status ValidateVector(std::string_view id, const float* v, size_t n, uint32_t dim, Metric metric) {
  return CheckVector("vector of document " + Quote(id), v, n, dim, metric);
}

Status ValidateQueryVector(const float* v, size_t n, uint32_t dim, Metric metric) {
  return CheckVector("query vector", v, n, dim, metric);
}

}  // namespace emberdb
