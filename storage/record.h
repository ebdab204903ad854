// Value encodings: document records and vectors. Decoding checks every length: a record read
// back from disk is never trusted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "emberdb/document.h"
#include "emberdb/status.h"

namespace emberdb::storage {

// A document as stored under docs/cid·label. Vectors live in their own column family so that
// scans over vectors do not read text.
struct DocRecord {
  std::string id;
  std::string text;
  Metadata metadata;
};

// Layout: varint id length, id, varint text length, text, metadata.
// Metadata: varint entry count, then per entry: varint key length, key, 1 type byte, value.
// Scalars: bool 1 byte, int64 and double 8 bytes little-endian, string varint length + bytes;
// lists: varint element count then elements.
void EncodeDocRecord(const DocRecord& doc, std::string* out);
Status DecodeDocRecord(std::string_view in, DocRecord* out);

void EncodeMetadata(const Metadata& metadata, std::string* out);
Status DecodeMetadata(std::string_view* in, Metadata* out);

// Vectors: float32 little-endian (the in-memory layout on the platforms we build for).
void EncodeVector(const float* v, size_t dim, std::string* out);
Status DecodeVector(std::string_view in, size_t dim, float* out);

}  // namespace emberdb::storage
