// Documents and their metadata: what a collection stores and what queries return.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "emberdb/status.h"

namespace emberdb {

// One metadata value. Scalars (bool, int64, double, string) and homogeneous lists of them.
// std::monostate ("null") is only meaningful in Collection::Update, where it removes the key;
// anywhere else it is rejected as an unsupported type.
using MetadataValue =
    std::variant<std::monostate, bool, int64_t, double, std::string, std::vector<bool>,
                 std::vector<int64_t>, std::vector<double>, std::vector<std::string>>;

// Keys are UTF-8 field names (1..256 bytes, not starting with '$'). Ordered, so that encodings
// and printed output are deterministic.
using Metadata = std::map<std::string, MetadataValue>;

// A document: a string id (1..512 bytes of UTF-8), UTF-8 text (may be empty when a vector is
// given), metadata and a float32 vector of the collection's dimension. When `vector` is empty
// and the collection has an embedder, the vector is computed from `text` on ingest.
struct Document {
  std::string id;
  std::string text;
  Metadata metadata;
  std::vector<float> vector;
};

// A partial change for Collection::Update: fields left unset keep their stored value.
// Metadata is merged key by key; a std::monostate value removes that key.
struct DocumentUpdate {
  std::string id;
  std::optional<std::string> text;  // a new text; re-embedded when the collection has an embedder
                                    // and no new vector is given
  Metadata metadata;                // merged into the stored metadata
  std::optional<std::vector<float>> vector;
};

// What a Get or Query returns for each document. Bitwise OR of these.
enum Include : uint32_t {
  kIncludeNone = 0,
  kIncludeDocuments = 1u << 0,  // text
  kIncludeMetadatas = 1u << 1,
  kIncludeVectors = 1u << 2,
  kIncludeDefault = kIncludeDocuments | kIncludeMetadatas,
  kIncludeAll = kIncludeDocuments | kIncludeMetadatas | kIncludeVectors,
};

// One query result.
//
// `distance` is what the index ranks by, smaller is closer:
//   cosine:        1 - cos(q, v)              in [0, 2]
//   l2:            squared Euclidean distance in [0, inf)
//   inner_product: -<q, v>
// `score` is the same ranking as a similarity, larger is closer:
//   cosine: cos(q, v) in [-1, 1];  l2: 1 / (1 + distance) in (0, 1];  inner_product: <q, v>.
// Results are ordered by distance, ties broken by ascending id, so equal inputs always give
// equal outputs.
struct Hit {
  std::string id;
  float distance = 0;
  float score = 0;
  std::string text;           // when kIncludeDocuments
  Metadata metadata;          // when kIncludeMetadatas
  std::vector<float> vector;  // when kIncludeVectors
};

// Metadata as a JSON object: strings, integers (int64), other numbers (double), booleans and
// homogeneous arrays of those; null only where Update accepts it. Anything else (nested
// objects, mixed arrays, empty arrays) is InvalidArgument naming the field.
Status MetadataFromJson(std::string_view json, Metadata* out);
// The inverse; integers stay integers, doubles print with enough digits to round-trip.
std::string MetadataToJson(const Metadata& metadata);

}  // namespace emberdb
