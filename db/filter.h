// Metadata and document filters: Chroma's `where` and `where_document` languages.
//
//   where:          {"field": value}                      ($eq shorthand)
//                   {"field": {"$eq"|"$ne"|"$gt"|"$gte"|"$lt"|"$lte": value}}
//                   {"field": {"$in"|"$nin": [values]}}
//                   {"$and": [where, ...]}, {"$or": [where, ...]}
//                   several keys in one object mean $and; several operators on one field too.
//   where_document: {"$contains": "text"}, {"$not_contains": "text"}, $and / $or of those
//                   (several keys in one object mean $and).
//
// Semantics: numbers compare numerically and exactly whatever their stored type (int64 3 ==
// double 3.0; 2^53 + 1 != 2^53); $gt/$gte/$lt/$lte take a number and never match a stored string
// or bool; $eq/$ne take a string, number or bool; a bool never equals a number; $in/$nin take a
// non-empty array of those (types may be mixed). A document lacking the field matches $ne and
// $nin but nothing else. A list-valued field matches $eq/$in and the range operators when any
// element does, and $ne/$nin when no element does; several operators on one field are separate
// conditions, so {"$gt": 1, "$lt": 5} matches the list [0, 10]. $contains/$not_contains are
// case-sensitive byte substring tests on the UTF-8 text, with a non-empty needle.
// An empty string, blanks or {} mean no condition; an empty object nested in $and/$or is an
// error. Duplicate JSON keys are not rejected: the last one wins (nlohmann::json's behaviour).
// Malformed filters are InvalidArgument errors prefixed "where: " or "where_document: " that
// name the operator, field and offending value. Nesting is limited to 64 $and/$or levels and 256
// JSON levels.
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
//   $eq: a point range (lo == hi, both inclusive); $gt/$gte/$lt/$lte: a range open at one end
//   (the open end stays within the bound's type: a number range never yields strings);
//   $in: kOr of points; $ne/$nin/where_document: not indexable (they match documents lacking the
//   field). $and: kAnd of its indexable children (none: not indexable); $or: kOr only if every
//   child is indexable. A one-child kAnd/kOr is that child, and nested kAnd/kOr of the same kind
//   are flattened. Several operators on one field stay separate ranges (see list semantics).
//   A range holds a document when any element of its field lies in it.
// Number bounds are int64_t or double as the user wrote them (a JSON integer above INT64_MAX
// becomes a double). An exclusive number bound of magnitude >= 2^53 is widened to inclusive, so
// that the plan stays a superset when the index stores numbers as (rounded) doubles.
struct IndexPlan {
  enum class Kind { kRange, kAnd, kOr };
  Kind kind = Kind::kRange;
  IndexRange range;                 // kRange
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
