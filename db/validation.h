// Input checks for the write and read paths. Each returns InvalidArgument naming the offending
// document and field; nothing is written when any check fails.
#pragma once

#include <string>
#include <string_view>

#include "emberdb/document.h"
#include "emberdb/options.h"
#include "emberdb/status.h"

namespace emberdb {

constexpr size_t kMaxIdBytes = 512;
constexpr size_t kMaxFieldBytes = 256;
constexpr size_t kMaxCollectionNameBytes = 128;

bool IsValidUtf8(std::string_view s);

// Collection names: 1..128 bytes of [A-Za-z0-9._-], starting with a letter or digit.
Status ValidateCollectionName(std::string_view name);
Status ValidateId(std::string_view id);
Status ValidateText(std::string_view id, std::string_view text);
// `allow_null` admits std::monostate values (Update's "remove this key").
Status ValidateMetadata(std::string_view id, const Metadata& metadata, bool allow_null);
// Dimension, finiteness, and a non-zero norm under cosine.
Status ValidateVector(std::string_view id, const float* v, size_t n, uint32_t dim, Metric metric);
Status ValidateQueryVector(const float* v, size_t n, uint32_t dim, Metric metric);

}  // namespace emberdb
