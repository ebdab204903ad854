// The catalog: how a collection's configuration and counters are persisted in the default
// column family (see storage/README.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "emberdb/db.h"

namespace emberdb {

// A collection's persisted configuration.
struct CollectionRecord {
  uint32_t cid = 0;
  std::string name;
  CollectionOptions options;  // dimension always set
  EmbedderIdentity embedder;  // kind empty when the collection has no embedder
};

// Per-collection counters, rewritten by every write batch of the collection.
struct Counters {
  uint64_t next_label = 0;  // labels are never reused
  uint64_t count = 0;       // live documents
  uint64_t change_seq = 0;  // last change-log sequence written
};

// Change-log entries (storage/README.md): one byte of operation, then the label.
constexpr char kChangeAdd = 'A';
constexpr char kChangeRemove = 'R';

std::string CatalogKey(std::string_view name);
constexpr std::string_view kCatalogPrefix = "collection/";
std::string CountersKey(uint32_t cid);
constexpr std::string_view kNextCollectionIdKey = "next_collection_id";

std::string EncodeCollectionRecord(const CollectionRecord& rec);
Status DecodeCollectionRecord(std::string_view bytes, CollectionRecord* rec);

std::string EncodeCounters(const Counters& c);
Status DecodeCounters(std::string_view bytes, Counters* c);

}  // namespace emberdb
