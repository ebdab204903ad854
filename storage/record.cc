#include "storage/record.h"

#include <bit>
#include <cstring>

static_assert(std::endian::native == std::endian::little, "storage encodings assume little-endian");

namespace emberdb::storage {
namespace {

enum Tag : uint8_t {
  kBool = 1,
  kInt = 2,
  kDouble = 3,
  kString = 4,
  kBoolList = 5,
  kIntList = 6,
  kDoubleList = 7,
  kStringList = 8,
};

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    uint8_t byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) {
      *v = result;
      return true;
    }
  }
  return false;
}

void PutString(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}

bool GetString(std::string_view* in, std::string* s) {
  uint64_t n;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  s->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

template <typename T>
void PutFixed(std::string* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <typename T>
bool GetFixed(std::string_view* in, T* v) {
  if (in->size() < sizeof(T)) return false;
  std::memcpy(v, in->data(), sizeof(T));
  in->remove_prefix(sizeof(T));
  return true;
}

void PutScalar(std::string* out, bool v) { out->push_back(v ? 1 : 0); }
void PutScalar(std::string* out, int64_t v) { PutFixed(out, v); }
void PutScalar(std::string* out, double v) { PutFixed(out, v); }
void PutScalar(std::string* out, const std::string& v) { PutString(out, v); }

bool GetScalar(std::string_view* in, bool* v) {
  uint8_t b;
  if (!GetFixed(in, &b) || b > 1) return false;
  *v = b != 0;
  return true;
}
bool GetScalar(std::string_view* in, int64_t* v) { return GetFixed(in, v); }
bool GetScalar(std::string_view* in, double* v) { return GetFixed(in, v); }
bool GetScalar(std::string_view* in, std::string* v) { return GetString(in, v); }

template <typename T>
bool GetList(std::string_view* in, MetadataValue* out) {
  uint64_t n;
  if (!GetVarint(in, &n) || n > in->size()) return false;  // every element takes >= 1 byte
  std::vector<T> list;
  list.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    T v{};
    if (!GetScalar(in, &v)) return false;
    list.push_back(std::move(v));
  }
  *out = std::move(list);
  return true;
}

template <typename T>
bool GetOne(std::string_view* in, MetadataValue* out) {
  T v{};
  if (!GetScalar(in, &v)) return false;
  *out = std::move(v);
  return true;
}

}  // namespace

void EncodeMetadata(const Metadata& metadata, std::string* out) {
  size_t stored = 0;
  for (const auto& [k, v] : metadata) stored += !std::holds_alternative<std::monostate>(v);
  PutVarint(out, stored);
  for (const auto& [key, value] : metadata) {
    if (std::holds_alternative<std::monostate>(value)) continue;
    PutString(out, key);
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, bool>) {
            out->push_back(kBool);
            PutScalar(out, v);
          } else if constexpr (std::is_same_v<T, int64_t>) {
            out->push_back(kInt);
            PutScalar(out, v);
          } else if constexpr (std::is_same_v<T, double>) {
            out->push_back(kDouble);
            PutScalar(out, v);
          } else if constexpr (std::is_same_v<T, std::string>) {
            out->push_back(kString);
            PutScalar(out, v);
          } else if constexpr (std::is_same_v<T, std::monostate>) {
          } else {
            using E = typename T::value_type;
            out->push_back(std::is_same_v<E, bool>      ? kBoolList
                           : std::is_same_v<E, int64_t> ? kIntList
                           : std::is_same_v<E, double>  ? kDoubleList
                                                        : kStringList);
            PutVarint(out, v.size());
            for (const auto& e : v) PutScalar(out, static_cast<E>(e));
          }
        },
        value);
  }
}

Status DecodeMetadata(std::string_view* in, Metadata* out) {
  auto bad = [] { return Status::Corruption("malformed metadata record"); };
  uint64_t n;
  if (!GetVarint(in, &n) || n > in->size()) return bad();
  out->clear();
  for (uint64_t i = 0; i < n; ++i) {
    std::string key;
    uint8_t tag;
    if (!GetString(in, &key) || !GetFixed(in, &tag)) return bad();
    MetadataValue value;
    bool ok = false;
    switch (tag) {
      case kBool:
        ok = GetOne<bool>(in, &value);
        break;
      case kInt:
        ok = GetOne<int64_t>(in, &value);
        break;
      case kDouble:
        ok = GetOne<double>(in, &value);
        break;
      case kString:
        ok = GetOne<std::string>(in, &value);
        break;
      case kBoolList:
        ok = GetList<bool>(in, &value);
        break;
      case kIntList:
        ok = GetList<int64_t>(in, &value);
        break;
      case kDoubleList:
        ok = GetList<double>(in, &value);
        break;
      case kStringList:
        ok = GetList<std::string>(in, &value);
        break;
      default:
        break;
    }
    if (!ok) return bad();
    out->emplace(std::move(key), std::move(value));
  }
  return Status::OK();
}

void EncodeDocRecord(const DocRecord& doc, std::string* out) {
  PutString(out, doc.id);
  PutString(out, doc.text);
  EncodeMetadata(doc.metadata, out);
}

Status DecodeDocRecord(std::string_view in, DocRecord* out) {
  if (!GetString(&in, &out->id) || !GetString(&in, &out->text)) {
    return Status::Corruption("malformed document record");
  }
  EMBERDB_RETURN_IF_ERROR(DecodeMetadata(&in, &out->metadata));
  if (!in.empty()) return Status::Corruption("trailing bytes in document record");
  return Status::OK();
}

void EncodeVector(const float* v, size_t dim, std::string* out) {
  out->assign(reinterpret_cast<const char*>(v), dim * sizeof(float));
}

Status DecodeVector(std::string_view in, size_t dim, float* out) {
  if (in.size() != dim * sizeof(float)) {
    return Status::Corruption("stored vector has " + std::to_string(in.size()) +
                              " bytes, expected " + std::to_string(dim * sizeof(float)));
  }
  std::memcpy(out, in.data(), in.size());
  return Status::OK();
}

}  // namespace emberdb::storage
