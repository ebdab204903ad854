// Key encodings of the RocksDB layout (see README.md). Pure functions, no RocksDB calls.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "emberdb/document.h"

namespace emberdb::storage {

void AppendU32BE(std::string* out, uint32_t v);
void AppendU64BE(std::string* out, uint64_t v);
uint32_t ReadU32BE(const char* p);
uint64_t ReadU64BE(const char* p);

// cid · label: the key of a document record, a vector, and the suffix of index entries.
std::string LabelKey(uint32_t cid, uint64_t label);
// cid · document id: the key of the id -> label map.
std::string IdKey(uint32_t cid, std::string_view id);
// cid · change sequence.
std::string ChangeKey(uint32_t cid, uint64_t seq);
// cid alone: the prefix of every key of a collection in a column family.
std::string CollectionPrefix(uint32_t cid);
// The first key after every key with `prefix`.
std::string PrefixSuccessor(std::string prefix);

// meta_index keys.
// Value kinds of indexed scalars, in sort order.
enum class IndexedType : uint8_t { kBool = 1, kNumber = 2, kString = 3 };

// cid · field · 0x00: the prefix of every index entry of a field.
std::string FieldPrefix(uint32_t cid, std::string_view field);
// Appends a typed scalar (bool, int64, double or string) in order-preserving form.
// Returns false for non-scalar values.
bool AppendIndexedValue(std::string* out, const MetadataValue& v);
// The order-preserving 8 bytes of a double.
void AppendOrderedDouble(std::string* out, double d);
// Every index entry key of one document (one per distinct scalar or list element).
void IndexKeysFor(uint32_t cid, uint64_t label, const Metadata& metadata,
                  std::vector<std::string>* keys);

}  // namespace emberdb::storage
