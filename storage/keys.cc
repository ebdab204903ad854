#include "storage/keys.h"

#include <algorithm>
#include <cstring>
#include <set>

namespace emberdb::storage {

void AppendU32BE(std::string* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void AppendU64BE(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t ReadU32BE(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

uint64_t ReadU64BE(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string CollectionPrefix(uint32_t cid) {
  std::string k;
  AppendU32BE(&k, cid);
  return k;
}

std::string LabelKey(uint32_t cid, uint64_t label) {
  std::string k = CollectionPrefix(cid);
  AppendU64BE(&k, label);
  return k;
}

std::string IdKey(uint32_t cid, std::string_view id) {
  std::string k = CollectionPrefix(cid);
  k.append(id);
  return k;
}

std::string ChangeKey(uint32_t cid, uint64_t seq) { return LabelKey(cid, seq); }

std::string PrefixSuccessor(std::string prefix) {
  // Increment the last byte that is not 0xff, dropping the 0xff tail.
  while (!prefix.empty() && static_cast<uint8_t>(prefix.back()) == 0xff) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<uint8_t>(prefix.back()) + 1);
  return prefix;
}

std::string FieldPrefix(uint32_t cid, std::string_view field) {
  std::string k = CollectionPrefix(cid);
  k.append(field);
  k.push_back('\0');
  return k;
}

void AppendOrderedDouble(std::string* out, double d) {
  if (d == 0) d = 0;  // -0.0 and 0.0 are one value
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  bits = (bits & (1ull << 63)) ? ~bits : bits | (1ull << 63);
  AppendU64BE(out, bits);
}

static void AppendOrderedString(std::string* out, std::string_view s) {
  for (char c : s) {
    out->push_back(c);
    if (c == '\0') out->push_back('\xff');
  }
  out->push_back('\0');
  out->push_back('\x01');
}

bool AppendIndexedValue(std::string* out, const MetadataValue& v) {
  if (const bool* b = std::get_if<bool>(&v)) {
    out->push_back(static_cast<char>(IndexedType::kBool));
    out->push_back(*b ? 1 : 0);
  } else if (const int64_t* i = std::get_if<int64_t>(&v)) {
    out->push_back(static_cast<char>(IndexedType::kNumber));
    AppendOrderedDouble(out, static_cast<double>(*i));
  } else if (const double* d = std::get_if<double>(&v)) {
    out->push_back(static_cast<char>(IndexedType::kNumber));
    AppendOrderedDouble(out, *d);
  } else if (const std::string* s = std::get_if<std::string>(&v)) {
    out->push_back(static_cast<char>(IndexedType::kString));
    AppendOrderedString(out, *s);
  } else {
    return false;
  }
  return true;
}

namespace {

template <typename T>
void AppendListKeys(const std::string& prefix, uint64_t label, const std::vector<T>& list,
                    std::set<std::string>* keys) {
  for (const T& element : list) {
    std::string k = prefix;
    AppendIndexedValue(&k, MetadataValue(element));
    AppendU64BE(&k, label);
    keys->insert(std::move(k));
  }
}

}  // namespace

void IndexKeysFor(uint32_t cid, uint64_t label, const Metadata& metadata,
                  std::vector<std::string>* out) {
  std::set<std::string> keys;  // a list may repeat an element: one entry each
  for (const auto& [field, value] : metadata) {
    std::string prefix = FieldPrefix(cid, field);
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            // never stored
          } else if constexpr (std::is_same_v<T, std::vector<bool>> ||
                               std::is_same_v<T, std::vector<int64_t>> ||
                               std::is_same_v<T, std::vector<double>> ||
                               std::is_same_v<T, std::vector<std::string>>) {
            AppendListKeys(prefix, label, v, &keys);
          } else {
            std::string k = prefix;
            AppendIndexedValue(&k, MetadataValue(v));
            AppendU64BE(&k, label);
            keys.insert(std::move(k));
          }
        },
        value);
  }
  out->assign(keys.begin(), keys.end());
}

}  // namespace emberdb::storage
