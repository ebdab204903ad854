// Randomised checks with a fixed seed: Matches agrees with an independent reference evaluator,
// and every matching document is covered by the index plan (the plan is a superset), both when
// the index compares numbers exactly and when it stores them as doubles.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "db/filter.h"

namespace emberdb {
namespace {

using Json = nlohmann::json;

// The reference evaluator compares numbers as long double, exact for every int64 and double.
static_assert(std::numeric_limits<long double>::digits >= 64);

const int64_t kIntPool[] = {-3,
                            0,
                            1,
                            2,
                            3,
                            int64_t{1} << 53,
                            (int64_t{1} << 53) + 1,
                            -(int64_t{1} << 53) - 1,
                            std::numeric_limits<int64_t>::max(),
                            std::numeric_limits<int64_t>::min()};
const double kDoublePool[] = {
    -2.5,  -0.0,  1.0, 2.0, 2.5, 9007199254740992.0, 9007199254740994.0, 9223372036854775808.0,
    1e300, -1e300};
const char* const kStringPool[] = {"", "a", "b", "ab"};
const char* const kFields[] = {"a", "b", "c", "d"};

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  int Below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  std::string Field() { return kFields[Below(4)]; }
  int64_t Int() { return kIntPool[Below(std::size(kIntPool))]; }
  double Double() { return kDoublePool[Below(std::size(kDoublePool))]; }
  std::string String() { return kStringPool[Below(std::size(kStringPool))]; }

  MetadataValue StoredValue() {
    const int n = Below(4);  // list length when a list
    switch (Below(8)) {
      case 0:
        return Chance(0.5);
      case 1:
        return Int();
      case 2:
        return Double();
      case 3:
        return String();
      case 4: {
        std::vector<bool> v;
        for (int i = 0; i < n; ++i) v.push_back(Chance(0.5));
        return v;
      }
      case 5: {
        std::vector<int64_t> v;
        for (int i = 0; i < n; ++i) v.push_back(Int());
        return v;
      }
      case 6: {
        std::vector<double> v;
        for (int i = 0; i < n; ++i) v.push_back(Double());
        return v;
      }
      default: {
        std::vector<std::string> v;
        for (int i = 0; i < n; ++i) v.push_back(String());
        return v;
      }
    }
  }

  Metadata Document() {
    Metadata metadata;
    for (const char* field : kFields) {
      if (Chance(0.75)) metadata[field] = StoredValue();
    }
    return metadata;
  }

  Json Number() {
    if (Chance(0.1)) return Json(uint64_t{18446744073709551615u});
    return Chance(0.5) ? Json(Int()) : Json(Double());
  }
  Json Operand() {
    switch (Below(3)) {
      case 0:
        return Json(Chance(0.5));
      case 1:
        return Number();
      default:
        return Json(String());
    }
  }

  Json Condition() {
    static const char* const kOps[] = {"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"};
    const std::string op = kOps[Below(8)];
    if (op == "$in" || op == "$nin") {
      Json list = Json::array();
      for (int i = Below(3); i >= 0; --i) list.push_back(Operand());
      return list;
    }
    if (op == "$eq" || op == "$ne") return Json(Operand());
    return Number();
  }

  Json FieldFilter() {
    if (Chance(0.2)) return Json::object({{Field(), Operand()}});  // $eq shorthand
    static const char* const kOps[] = {"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"};
    Json ops = Json::object();
    for (int i = Chance(0.25) ? 1 : 0; i >= 0; --i) {
      const std::string op = kOps[Below(8)];
      if (op == "$in" || op == "$nin") {
        Json list = Json::array();
        for (int k = Below(3); k >= 0; --k) list.push_back(Operand());
        ops[op] = list;
      } else if (op == "$eq" || op == "$ne") {
        ops[op] = Operand();
      } else {
        ops[op] = Number();
      }
    }
    return Json::object({{Field(), ops}});
  }

  Json Where(int depth) {
    if (depth >= 3 || Chance(0.4)) {
      Json filter = FieldFilter();
      if (Chance(0.15)) filter.update(FieldFilter());  // implicit $and (or a replaced key)
      return filter;
    }
    Json children = Json::array();
    for (int i = Below(3); i >= 0; --i) children.push_back(Where(depth + 1));
    return Json::object({{Chance(0.5) ? "$and" : "$or", children}});
  }

 private:
  std::mt19937 rng_;
};

// A stored element or JSON operand in one comparable form.
struct RefScalar {
  enum Type { kBool, kNumber, kString } type;
  long double number = 0;
  bool boolean = false;
  std::string text;
};

RefScalar FromJson(const Json& j) {
  if (j.is_boolean()) return {RefScalar::kBool, 0, j.get<bool>(), ""};
  if (j.is_string()) return {RefScalar::kString, 0, false, j.get<std::string>()};
  if (j.is_number_unsigned())
    return {RefScalar::kNumber, (long double)j.get<uint64_t>(), false, ""};
  if (j.is_number_integer()) return {RefScalar::kNumber, (long double)j.get<int64_t>(), false, ""};
  return {RefScalar::kNumber, (long double)j.get<double>(), false, ""};
}

// The stored value's elements (one for a scalar).
std::vector<RefScalar> Elements(const MetadataValue& value) {
  std::vector<RefScalar> out;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        auto add = [&](const auto& e) {
          using E = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<E, bool>) {
            out.push_back({RefScalar::kBool, 0, e, ""});
          } else if constexpr (std::is_same_v<E, std::string>) {
            out.push_back({RefScalar::kString, 0, false, e});
          } else {
            out.push_back({RefScalar::kNumber, (long double)e, false, ""});
          }
        };
        if constexpr (std::is_same_v<T, std::monostate>) {
        } else if constexpr (std::is_same_v<T, std::vector<bool>>) {
          for (bool b : x) add(b);
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>> ||
                             std::is_same_v<T, std::vector<double>> ||
                             std::is_same_v<T, std::vector<std::string>>) {
          for (const auto& e : x) add(e);
        } else {
          add(x);
        }
      },
      value);
  return out;
}

bool RefEquals(const RefScalar& a, const RefScalar& b) {
  if (a.type != b.type) return false;
  if (a.type == RefScalar::kBool) return a.boolean == b.boolean;
  if (a.type == RefScalar::kString) return a.text == b.text;
  return a.number == b.number;
}

bool RefCondition(const Metadata& m, const std::string& field, const std::string& op,
                  const Json& operand) {
  const auto it = m.find(field);
  if (it == m.end()) return op == "$ne" || op == "$nin";
  const std::vector<RefScalar> elements = Elements(it->second);
  std::vector<RefScalar> operands;
  if (operand.is_array()) {
    for (const Json& o : operand) operands.push_back(FromJson(o));
  } else {
    operands.push_back(FromJson(operand));
  }
  bool any = false;
  for (const RefScalar& e : elements) {
    for (const RefScalar& o : operands) {
      if (op == "$eq" || op == "$ne" || op == "$in" || op == "$nin") {
        any = any || RefEquals(e, o);
      } else if (e.type == RefScalar::kNumber) {
        any = any || (op == "$gt"    ? e.number > o.number
                      : op == "$gte" ? e.number >= o.number
                      : op == "$lt"  ? e.number < o.number
                                     : e.number <= o.number);
      }
    }
  }
  return (op == "$ne" || op == "$nin") ? !any : any;
}

bool RefWhere(const Json& filter, const Metadata& m) {
  for (const auto& [key, value] : filter.items()) {
    bool ok;
    if (key == "$and" || key == "$or") {
      ok = key == "$and";
      for (const Json& child : value) {
        if (RefWhere(child, m) != ok) {
          ok = !ok;
          break;
        }
      }
    } else if (value.is_object()) {
      ok = true;
      for (const auto& [op, operand] : value.items()) ok = ok && RefCondition(m, key, op, operand);
    } else {
      ok = RefCondition(m, key, "$eq", value);
    }
    if (!ok) return false;
  }
  return true;
}

// The plan evaluated as an index would: a range holds the elements of the bound's type class
// between the bounds. `as_double` models an index that stores every number as a double.
int TypeClass(const MetadataValue& v) {
  if (std::holds_alternative<bool>(v)) return 0;
  if (std::holds_alternative<std::string>(v)) return 2;
  return 1;
}

long double IndexedNumber(long double exact, bool as_double) {
  return as_double ? static_cast<long double>(static_cast<double>(exact)) : exact;
}

// -1, 0, 1 comparing element e with bound b of the same type class.
int CompareToBound(const RefScalar& e, const MetadataValue& b, bool as_double) {
  RefScalar bound = Elements(b).front();
  if (e.type == RefScalar::kBool) return int(e.boolean) - int(bound.boolean);
  if (e.type == RefScalar::kString)
    return e.text.compare(bound.text) < 0 ? -1 : e.text > bound.text;
  const long double x = IndexedNumber(e.number, as_double);
  const long double y = IndexedNumber(bound.number, as_double);
  return x < y ? -1 : x > y ? 1 : 0;
}

bool InPlan(const IndexPlan& plan, const Metadata& m, bool as_double) {
  if (plan.kind != IndexPlan::Kind::kRange) {
    const bool is_and = plan.kind == IndexPlan::Kind::kAnd;
    for (const IndexPlan& child : plan.children) {
      if (InPlan(child, m, as_double) != is_and) return !is_and;
    }
    return is_and;
  }
  const IndexRange& r = plan.range;
  const bool has_lo = !std::holds_alternative<std::monostate>(r.lo);
  const bool has_hi = !std::holds_alternative<std::monostate>(r.hi);
  if (!has_lo && !has_hi) return true;  // unbounded: every document (never produced)
  const auto it = m.find(r.field);
  if (it == m.end()) return false;
  const int type_class = TypeClass(has_lo ? r.lo : r.hi);
  const RefScalar::Type wanted = type_class == 0   ? RefScalar::kBool
                                 : type_class == 1 ? RefScalar::kNumber
                                                   : RefScalar::kString;
  for (const RefScalar& e : Elements(it->second)) {
    if (e.type != wanted) continue;
    if (has_lo) {
      const int c = CompareToBound(e, r.lo, as_double);
      if (c < 0 || (c == 0 && !r.lo_inclusive)) continue;
    }
    if (has_hi) {
      const int c = CompareToBound(e, r.hi, as_double);
      if (c > 0 || (c == 0 && !r.hi_inclusive)) continue;
    }
    return true;
  }
  return false;
}

// Every range has a bound, both bounds of one type class, and kAnd/kOr have 2+ children.
bool WellFormed(const IndexPlan& plan) {
  if (plan.kind != IndexPlan::Kind::kRange) {
    if (plan.children.size() < 2) return false;
    for (const IndexPlan& child : plan.children) {
      if (!WellFormed(child) || child.kind == plan.kind) return false;
    }
    return true;
  }
  const bool has_lo = !std::holds_alternative<std::monostate>(plan.range.lo);
  const bool has_hi = !std::holds_alternative<std::monostate>(plan.range.hi);
  if (has_lo && has_hi) return TypeClass(plan.range.lo) == TypeClass(plan.range.hi);
  return has_lo || has_hi;
}

TEST_CASE("random filters: Matches agrees with a reference and the plan is a superset") {
  Generator gen(20261204);
  std::vector<Metadata> documents;
  for (int i = 0; i < 200; ++i) documents.push_back(gen.Document());

  // matched: documents that match a filter that has a plan.
  int matched = 0, evaluated = 0, planned = 0, pruned = 0;
  for (int round = 0; round < 2500; ++round) {
    const Json where = gen.Where(0);
    const std::string source = where.dump();
    INFO("where = " << source);
    std::unique_ptr<Filter> filter;
    Status s = Filter::Parse(source, "", &filter);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    const std::optional<IndexPlan> plan = filter->Plan();
    planned += plan.has_value();
    if (plan) CHECK(WellFormed(*plan));
    for (const Metadata& doc : documents) {
      ++evaluated;
      const bool matches = filter->Matches(doc, "");
      if (matches != RefWhere(where, doc)) {
        FAIL_CHECK("Matches disagrees with the reference on document #" << (&doc - &documents[0]));
      }
      if (!plan) continue;
      const bool in_exact = InPlan(*plan, doc, false);
      const bool in_double = InPlan(*plan, doc, true);
      pruned += !in_exact;
      matched += matches;
      if (matches && !(in_exact && in_double)) {
        FAIL_CHECK("plan misses matching document #" << (&doc - &documents[0]) << " exact="
                                                     << in_exact << " as_double=" << in_double);
      }
    }
  }
  // The generator must exercise all outcomes for the checks above to mean anything.
  MESSAGE("evaluated " << evaluated << ", planned filters " << planned << ", matched " << matched
                       << ", pruned by plan " << pruned);
  CHECK(planned > 500);
  CHECK(matched > 10000);
  CHECK(pruned > 10000);
}

}  // namespace
}  // namespace emberdb
