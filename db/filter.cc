// Chroma-style `where` / `where_document` filters: parsing (JSON via nlohmann::json, whose
// exceptions are caught here), evaluation on one document, and the candidate plan for the
// metadata index. Knows only the public document types; the index itself belongs to storage/.
#include "db/filter.h"

#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <utility>
#include <variant>

namespace emberdb {
namespace {

using Json = nlohmann::json;

// Deep nesting would only exhaust the stack; no real filter comes close. kMaxDepth counts
// $and/$or levels, kMaxJsonDepth raw JSON levels (values are checked before they are printed).
constexpr int kMaxDepth = 64;
constexpr int kMaxJsonDepth = 256;
constexpr double kTwoPow53 = 9007199254740992.0;
constexpr double kTwoPow63 = 9223372036854775808.0;

// A short rendering of a JSON value for error messages.
std::string Describe(const Json& j) {
  std::string s = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > 80) {
    s.resize(77);
    // Cut at a character boundary so that the message stays valid UTF-8.
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
    if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
    s += "...";
  }
  return s;
}

// nlohmann parses without recursion, but dump() and our parser recurse: measure the nesting
// with an explicit stack first.
bool WithinJsonDepth(const Json& root) {
  std::vector<std::pair<const Json*, int>> pending{{&root, 1}};
  while (!pending.empty()) {
    const auto [json, depth] = pending.back();
    pending.pop_back();
    if (depth > kMaxJsonDepth) return false;
    if (json->is_structured()) {
      for (const Json& child : *json) pending.emplace_back(&child, depth + 1);
    }
  }
  return true;
}

// One element of a stored value or operand; lists are matched element by element.
using Scalar = std::variant<bool, int64_t, double, std::string_view>;

Scalar ToScalar(bool v) { return Scalar(std::in_place_type<bool>, v); }
Scalar ToScalar(int64_t v) { return Scalar(std::in_place_type<int64_t>, v); }
Scalar ToScalar(double v) { return Scalar(std::in_place_type<double>, v); }
Scalar ToScalar(const std::string& v) { return Scalar(std::in_place_type<std::string_view>, v); }

// Operands are always scalar MetadataValues (checked at parse time).
Scalar OperandScalar(const MetadataValue& v) {
  return std::visit(
      [](const auto& x) -> Scalar {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, int64_t> ||
                      std::is_same_v<T, double> || std::is_same_v<T, std::string>) {
          return ToScalar(x);
        } else {
          return ToScalar(false);  // unreachable: the parser stores scalars only
        }
      },
      v);
}

bool IsNumber(const Scalar& s) {
  return std::holds_alternative<int64_t>(s) || std::holds_alternative<double>(s);
}

// Exact comparison of an int64 with a double: no rounding of either side, so that values
// beyond 2^53 (where double cannot represent every integer) still order correctly.
std::partial_ordering CompareIntDouble(int64_t i, double d) {
  if (std::isnan(d)) return std::partial_ordering::unordered;
  if (d >= kTwoPow63) return std::partial_ordering::less;
  if (d < -kTwoPow63) return std::partial_ordering::greater;
  const double floor_d = std::floor(d);
  const auto floor_i = static_cast<int64_t>(floor_d);  // exact: |floor_d| <= 2^63, in range
  if (i < floor_i) return std::partial_ordering::less;
  if (i > floor_i) return std::partial_ordering::greater;
  return floor_d == d ? std::partial_ordering::equivalent : std::partial_ordering::less;
}

// Both arguments must be numbers.
std::partial_ordering CompareNumbers(const Scalar& a, const Scalar& b) {
  if (const auto* ai = std::get_if<int64_t>(&a)) {
    if (const auto* bi = std::get_if<int64_t>(&b)) return *ai <=> *bi;
    return CompareIntDouble(*ai, std::get<double>(b));
  }
  const double ad = std::get<double>(a);
  if (const auto* bi = std::get_if<int64_t>(&b)) return 0 <=> CompareIntDouble(*bi, ad);
  return ad <=> std::get<double>(b);
}

// Numbers equal numerically; bool equals only bool, string only string.
bool ScalarEquals(const Scalar& a, const Scalar& b) {
  if (IsNumber(a) && IsNumber(b)) return CompareNumbers(a, b) == 0;
  if (a.index() != b.index()) return false;
  return a == b;
}

// True when `pred` holds for any element of `value` (the value itself when it is a scalar).
template <typename Pred>
bool AnyElement(const MetadataValue& value, const Pred& pred) {
  return std::visit(
      [&](const auto& x) -> bool {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return false;
        } else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, int64_t> ||
                             std::is_same_v<T, double> || std::is_same_v<T, std::string>) {
          return pred(ToScalar(x));
        } else {
          for (const auto& element : x) {
            // vector<bool> yields proxies; every other list yields references.
            if constexpr (std::is_same_v<T, std::vector<bool>>) {
              if (pred(ToScalar(static_cast<bool>(element)))) return true;
            } else {
              if (pred(ToScalar(element))) return true;
            }
          }
          return false;
        }
      },
      value);
}

// A JSON scalar as an operand: string, bool, or number (int64 when it fits, else double).
bool JsonToOperand(const Json& j, MetadataValue* out) {
  if (j.is_string()) {
    *out = j.get<std::string>();
  } else if (j.is_boolean()) {
    *out = j.get<bool>();
  } else if (j.is_number_unsigned()) {
    const auto u = j.get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      *out = static_cast<int64_t>(u);
    } else {
      *out = static_cast<double>(u);  // above every int64, so comparisons stay correct
    }
  } else if (j.is_number_integer()) {
    *out = j.get<int64_t>();
  } else if (j.is_number_float()) {
    const double d = j.get<double>();
    if (!std::isfinite(d)) return false;
    *out = d;
  } else {
    return false;
  }
  return true;
}

bool IsNumberOperand(const MetadataValue& v) {
  return std::holds_alternative<int64_t>(v) || std::holds_alternative<double>(v);
}

// The index stores numbers as doubles. Integers of magnitude >= 2^53 may round onto an exclusive
// bound there (e.g. 2^53 + 1 becomes 2^53), so such bounds are widened to inclusive to keep the
// plan a superset; below 2^53 every stored number keeps its exact order against the bound.
bool MayRoundOntoBound(const MetadataValue& bound) {
  if (const auto* i = std::get_if<int64_t>(&bound)) {
    return *i >= (int64_t{1} << 53) || *i <= -(int64_t{1} << 53);
  }
  if (const auto* d = std::get_if<double>(&bound)) return std::fabs(*d) >= kTwoPow53;
  return false;
}

IndexPlan RangePlan(const std::string& field, MetadataValue lo, bool lo_inclusive, MetadataValue hi,
                    bool hi_inclusive) {
  IndexPlan plan;
  plan.kind = IndexPlan::Kind::kRange;
  plan.range.field = field;
  plan.range.lo = std::move(lo);
  plan.range.hi = std::move(hi);
  plan.range.lo_inclusive = lo_inclusive;
  plan.range.hi_inclusive = hi_inclusive;
  return plan;
}

// Builds a kAnd/kOr from children, flattening children of the same kind and collapsing a
// single child into itself.
IndexPlan CombinePlans(IndexPlan::Kind kind, std::vector<IndexPlan> parts) {
  std::vector<IndexPlan> flat;
  for (auto& part : parts) {
    if (part.kind == kind) {
      for (auto& grandchild : part.children) flat.push_back(std::move(grandchild));
    } else {
      flat.push_back(std::move(part));
    }
  }
  if (flat.size() == 1) return std::move(flat.front());
  IndexPlan plan;
  plan.kind = kind;
  plan.children = std::move(flat);
  return plan;
}

}  // namespace

struct Filter::Node {
  enum class Kind { kAnd, kOr, kCompare, kContains, kNotContains };
  enum class Op { kEq, kNe, kGt, kGte, kLt, kLte, kIn, kNin };

  Kind kind = Kind::kAnd;
  std::vector<std::unique_ptr<Node>> children;  // kAnd, kOr
  std::string field;                            // kCompare
  Op op = Op::kEq;                              // kCompare
  std::vector<MetadataValue> operands;          // kCompare: one, or the $in/$nin list
  std::string text;                             // kContains, kNotContains

  static bool LookupOp(std::string_view name, Op* op) {
    static constexpr std::pair<std::string_view, Op> kOps[] = {
        {"$eq", Op::kEq}, {"$ne", Op::kNe},   {"$gt", Op::kGt}, {"$gte", Op::kGte},
        {"$lt", Op::kLt}, {"$lte", Op::kLte}, {"$in", Op::kIn}, {"$nin", Op::kNin}};
    for (const auto& [n, o] : kOps) {
      if (n == name) {
        *op = o;
        return true;
      }
    }
    return false;
  }

  // One node, or an implicit $and of several.
  static std::unique_ptr<Node> AllOf(std::vector<std::unique_ptr<Node>> parts) {
    if (parts.size() == 1) return std::move(parts.front());
    auto node = std::make_unique<Node>();
    node->kind = Kind::kAnd;
    node->children = std::move(parts);
    return node;
  }

  // The elements of a $and/$or array, each parsed by `parse_child`.
  template <typename ParseChild>
  static Status ParseLogical(const std::string& key, const Json& value, int depth,
                             const ParseChild& parse_child, std::unique_ptr<Node>* out) {
    if (!value.is_array() || value.empty()) {
      return Status::InvalidArgument(key + " needs a non-empty array, got " + Describe(value));
    }
    auto node = std::make_unique<Node>();
    node->kind = key == "$and" ? Kind::kAnd : Kind::kOr;
    for (size_t i = 0; i < value.size(); ++i) {
      const Json& child_json = value[i];
      const std::string where = key + "[" + std::to_string(i) + "]";
      if (!child_json.is_object()) {
        return Status::InvalidArgument(where + " must be an object, got " + Describe(child_json));
      }
      if (child_json.empty()) {
        return Status::InvalidArgument(where + " is an empty object {}");
      }
      std::unique_ptr<Node> child;
      EMBERDB_RETURN_IF_ERROR(parse_child(child_json, depth + 1, &child));
      node->children.push_back(std::move(child));
    }
    *out = std::move(node);
    return Status::OK();
  }

  // A non-empty `where` object.
  static Status ParseWhere(const Json& object, int depth, std::unique_ptr<Node>* out) {
    if (depth > kMaxDepth) {
      return Status::InvalidArgument("nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    std::vector<std::unique_ptr<Node>> parts;
    for (const auto& [key, value] : object.items()) {
      std::unique_ptr<Node> part;
      if (key == "$and" || key == "$or") {
        EMBERDB_RETURN_IF_ERROR(ParseLogical(key, value, depth, ParseWhere, &part));
      } else if (key.empty()) {
        return Status::InvalidArgument("empty field name");
      } else if (key[0] == '$') {
        return Status::InvalidArgument("unknown operator " + key +
                                       " (field names cannot start with '$')");
      } else {
        EMBERDB_RETURN_IF_ERROR(ParseField(key, value, &part));
      }
      parts.push_back(std::move(part));
    }
    *out = AllOf(std::move(parts));
    return Status::OK();
  }

  // {"field": value} or {"field": {"$op": operand, ...}}.
  static Status ParseField(const std::string& field, const Json& value,
                           std::unique_ptr<Node>* out) {
    if (!value.is_object()) return ParseCompare(field, "$eq", Op::kEq, value, out);
    if (value.empty()) {
      return Status::InvalidArgument("field '" + field + "' has an empty operator object {}");
    }
    std::vector<std::unique_ptr<Node>> parts;
    for (const auto& [name, operand] : value.items()) {
      Op op;
      if (!LookupOp(name, &op)) {
        if (!name.empty() && name[0] == '$') {
          return Status::InvalidArgument("unknown operator " + name + " on field '" + field + "'");
        }
        return Status::InvalidArgument("field '" + field + "' needs an operator such as $eq, " +
                                       "got key '" + name + "' (objects are not values)");
      }
      std::unique_ptr<Node> part;
      EMBERDB_RETURN_IF_ERROR(ParseCompare(field, name, op, operand, &part));
      parts.push_back(std::move(part));
    }
    *out = AllOf(std::move(parts));
    return Status::OK();
  }

  static Status ParseCompare(const std::string& field, const std::string& name, Op op,
                             const Json& operand, std::unique_ptr<Node>* out) {
    auto node = std::make_unique<Node>();
    node->kind = Kind::kCompare;
    node->field = field;
    node->op = op;
    const std::string what = "operator " + name + " on field '" + field + "'";
    if (op == Op::kIn || op == Op::kNin) {
      if (!operand.is_array() || operand.empty()) {
        return Status::InvalidArgument(what + " needs a non-empty array, got " + Describe(operand));
      }
      for (size_t i = 0; i < operand.size(); ++i) {
        MetadataValue v;
        if (!JsonToOperand(operand[i], &v)) {
          return Status::InvalidArgument(what + ": element " + std::to_string(i) +
                                         " must be a string, number or bool, got " +
                                         Describe(operand[i]));
        }
        node->operands.push_back(std::move(v));
      }
    } else {
      MetadataValue v;
      const bool range = op != Op::kEq && op != Op::kNe;
      if (!JsonToOperand(operand, &v) || (range && !IsNumberOperand(v))) {
        std::string message = what +
                              (range ? " needs a number" : " needs a string, number or bool") +
                              ", got " + Describe(operand);
        if (operand.is_array() && !range) message += " (use $in/$nin for a list)";
        return Status::InvalidArgument(message);
      }
      node->operands.push_back(std::move(v));
    }
    *out = std::move(node);
    return Status::OK();
  }

  // A non-empty `where_document` object.
  static Status ParseDocument(const Json& object, int depth, std::unique_ptr<Node>* out) {
    if (depth > kMaxDepth) {
      return Status::InvalidArgument("nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    std::vector<std::unique_ptr<Node>> parts;
    for (const auto& [key, value] : object.items()) {
      std::unique_ptr<Node> part;
      if (key == "$and" || key == "$or") {
        EMBERDB_RETURN_IF_ERROR(ParseLogical(key, value, depth, ParseDocument, &part));
      } else if (key == "$contains" || key == "$not_contains") {
        if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
          return Status::InvalidArgument(key + " needs a non-empty string, got " + Describe(value));
        }
        part = std::make_unique<Node>();
        part->kind = key == "$contains" ? Kind::kContains : Kind::kNotContains;
        part->text = value.get<std::string>();
      } else {
        return Status::InvalidArgument("unknown operator " + key);
      }
      parts.push_back(std::move(part));
    }
    *out = AllOf(std::move(parts));
    return Status::OK();
  }

  // Parses one filter string: empty, whitespace or {} mean "no condition" (*out stays null).
  template <typename ParseObject>
  static Status ParseFilterJson(std::string_view source, const ParseObject& parse_object,
                                std::unique_ptr<Node>* out) {
    if (source.find_first_not_of(" \t\r\n") == std::string_view::npos) return Status::OK();
    Json json;
    try {
      json = Json::parse(source.begin(), source.end());
    } catch (const std::exception& e) {
      return Status::InvalidArgument(std::string("not valid JSON: ") + e.what());
    }
    if (!WithinJsonDepth(json)) {
      return Status::InvalidArgument("JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                                     " levels");
    }
    if (!json.is_object()) {
      return Status::InvalidArgument("must be a JSON object, got " + Describe(json));
    }
    if (json.empty()) return Status::OK();
    try {
      return parse_object(json, 0, out);
    } catch (const std::exception& e) {  // e.g. bad_alloc; nlohmann accessors are type-checked
      return Status::InvalidArgument(std::string("could not be read: ") + e.what());
    }
  }

  bool Matches(const Metadata& metadata, std::string_view doc_text) const {
    switch (kind) {
      case Kind::kAnd:
        for (const auto& child : children) {
          if (!child->Matches(metadata, doc_text)) return false;
        }
        return true;
      case Kind::kOr:
        for (const auto& child : children) {
          if (child->Matches(metadata, doc_text)) return true;
        }
        return false;
      case Kind::kContains:
        return doc_text.find(text) != std::string_view::npos;
      case Kind::kNotContains:
        return doc_text.find(text) == std::string_view::npos;
      case Kind::kCompare:
        return CompareMatches(metadata);
    }
    return false;
  }

  bool CompareMatches(const Metadata& metadata) const {
    const auto it = metadata.find(field);
    if (it == metadata.end() || std::holds_alternative<std::monostate>(it->second)) {
      return op == Op::kNe || op == Op::kNin;
    }
    const MetadataValue& value = it->second;
    const auto equals_an_operand = [&](const Scalar& element) {
      for (const auto& operand : operands) {
        if (ScalarEquals(element, OperandScalar(operand))) return true;
      }
      return false;
    };
    const Scalar bound = OperandScalar(operands.front());
    const auto in_range = [&](const Scalar& element) {
      if (!IsNumber(element)) return false;
      const std::partial_ordering order = CompareNumbers(element, bound);
      switch (op) {
        case Op::kGt:
          return order > 0;
        case Op::kGte:
          return order >= 0;
        case Op::kLt:
          return order < 0;
        default:
          return order <= 0;
      }
    };
    switch (op) {
      case Op::kEq:
      case Op::kIn:
        return AnyElement(value, equals_an_operand);
      case Op::kNe:
      case Op::kNin:
        return !AnyElement(value, equals_an_operand);
      default:
        return AnyElement(value, in_range);
    }
  }

  std::optional<IndexPlan> Plan() const {
    switch (kind) {
      case Kind::kAnd: {
        std::vector<IndexPlan> parts;
        for (const auto& child : children) {
          if (auto part = child->Plan()) parts.push_back(std::move(*part));
        }
        if (parts.empty()) return std::nullopt;
        return CombinePlans(IndexPlan::Kind::kAnd, std::move(parts));
      }
      case Kind::kOr: {
        std::vector<IndexPlan> parts;
        for (const auto& child : children) {
          auto part = child->Plan();
          if (!part) return std::nullopt;  // that branch could match documents off the index
          parts.push_back(std::move(*part));
        }
        return CombinePlans(IndexPlan::Kind::kOr, std::move(parts));
      }
      case Kind::kContains:
      case Kind::kNotContains:
        return std::nullopt;
      case Kind::kCompare:
        return ComparePlan();
    }
    return std::nullopt;
  }

  std::optional<IndexPlan> ComparePlan() const {
    const MetadataValue& bound = operands.front();
    const bool widen = MayRoundOntoBound(bound);
    switch (op) {
      case Op::kEq:
        return RangePlan(field, bound, true, bound, true);
      case Op::kIn: {
        std::vector<IndexPlan> points;
        for (const auto& operand : operands) {
          points.push_back(RangePlan(field, operand, true, operand, true));
        }
        return CombinePlans(IndexPlan::Kind::kOr, std::move(points));
      }
      case Op::kGt:
        return RangePlan(field, bound, widen, std::monostate{}, true);
      case Op::kGte:
        return RangePlan(field, bound, true, std::monostate{}, true);
      case Op::kLt:
        return RangePlan(field, std::monostate{}, true, bound, widen);
      case Op::kLte:
        return RangePlan(field, std::monostate{}, true, bound, true);
      case Op::kNe:
      case Op::kNin:
        return std::nullopt;  // matches documents without the field, which the index lacks
    }
    return std::nullopt;
  }
};

Filter::Filter() = default;
Filter::~Filter() = default;

Status Filter::Parse(std::string_view where_json, std::string_view where_document_json,
                     std::unique_ptr<Filter>* out) {
  std::unique_ptr<Filter> filter(new Filter());
  EMBERDB_RETURN_IF_ERROR(
      Node::ParseFilterJson(where_json, Node::ParseWhere, &filter->where_).WithContext("where"));
  EMBERDB_RETURN_IF_ERROR(
      Node::ParseFilterJson(where_document_json, Node::ParseDocument, &filter->where_document_)
          .WithContext("where_document"));
  *out = std::move(filter);
  return Status::OK();
}

bool Filter::empty() const { return where_ == nullptr && where_document_ == nullptr; }

bool Filter::Matches(const Metadata& metadata, std::string_view text) const {
  if (where_ && !where_->Matches(metadata, text)) return false;
  return !where_document_ || where_document_->Matches(metadata, text);
}

bool Filter::needs_text() const { return where_document_ != nullptr; }

std::optional<IndexPlan> Filter::Plan() const {
  if (!where_) return std::nullopt;
  return where_->Plan();
}

}  // namespace emberdb
