// Metadata and document filters: Chroma's `where` and `where_document` languages.
//
//   where:          {"field": value}                      ($eq shorthand)
//                   {"field": {"$eq"|"$ne"|"$gt"|"$gte"|"$lt"|"$lte": value}}
//                   {"field": {"$in"|"$nin": [values]}}
//                   {"$and": [where, ...]}, {"$or": [where, ...]}
//                   several keys in one object mean $and.
//   where_document: {"$contains": "text"}, {"$not_contains": "text"}, $and / $or of those.
//
// Semantics: numbers compare numerically whatever their stored type (int64 3 == double 3.0);
// $gt/$gte/$lt/$lte take a number; $eq/$ne take a string, number or bool; a document lacking the
// field matches $ne and $nin but nothing else. A list-valued field matches $eq/$in when any
// element matches, and $ne/$nin when no element does.
// Malformed filters are InvalidArgument errors naming what is wrong.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emberdb/document.h"
#include "emberdb/status.h"

namespace emberdb {

// A range of one field's indexed values, for the metadata index. Scalar bounds only:
// bool, int64/double (compared as numbers) or string; monostate for an open end.
struct IndexRange {
  std::string field;
  MetadataValue lo;  // std::monostate: unbounded
  MetadataValue hi;
  bool lo_inclusive = true;
  bool hi_inclusive = true;
};

// A candidate plan: documents that may match the filter, as a tree of index ranges.
// Every matching document is in the plan's result (it is a superset); the full filter is still
// evaluated on each candidate.
struct IndexPlan {
  enum class Kind { kRange, kAnd, kOr };
  Kind kind = Kind::kRange;
  IndexRange range;                // kRange
  std::vector<IndexPlan> children;  // kAnd (intersection), kOr (union)
};

class Filter {
 public:
  // Parses both filters; either string may be empty (no condition).
  static Status Parse(std::string_view where_json, std::string_view where_document_json,
                      std::unique_ptr<Filter>* out);
  ~Filter();

  bool empty() const;
  // True when the document satisfies both filters.
  bool Matches(const Metadata& metadata, std::string_view text) const;
  // True when evaluating needs the document's text.
  bool needs_text() const;
  // A plan over the metadata index, or nullopt when the filter cannot be served by the index
  // (e.g. it is only $ne/$nin or where_document conditions).
  std::optional<IndexPlan> Plan() const;

 private:
  struct Node;
  Filter();
  std::unique_ptr<Node> where_;
  std::unique_ptr<Node> where_document_;
};

}  // namespace emberdb
