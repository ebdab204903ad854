// Shapes of the metadata-index plan: which conditions become ranges and how $and/$or combine.
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "db/filter.h"

namespace emberdb {
namespace {

using Kind = IndexPlan::Kind;

std::optional<IndexPlan> PlanOf(std::string_view where, std::string_view where_document = "") {
  std::unique_ptr<Filter> filter;
  Status s = Filter::Parse(where, where_document, &filter);
  INFO("where=" << where << " -> " << s.ToString());
  REQUIRE(s.ok());
  return filter->Plan();
}

IndexPlan MustPlan(std::string_view where, std::string_view where_document = "") {
  auto plan = PlanOf(where, where_document);
  REQUIRE(plan.has_value());
  return *plan;
}

void CheckRange(const IndexPlan& plan, const std::string& field, const MetadataValue& lo,
                bool lo_inclusive, const MetadataValue& hi, bool hi_inclusive) {
  REQUIRE(plan.kind == Kind::kRange);
  CHECK(plan.children.empty());
  CHECK(plan.range.field == field);
  CHECK(plan.range.lo == lo);
  CHECK(plan.range.hi == hi);
  if (!std::holds_alternative<std::monostate>(lo)) CHECK(plan.range.lo_inclusive == lo_inclusive);
  if (!std::holds_alternative<std::monostate>(hi)) CHECK(plan.range.hi_inclusive == hi_inclusive);
}

void CheckPoint(const IndexPlan& plan, const std::string& field, const MetadataValue& value) {
  CheckRange(plan, field, value, true, value, true);
}

const MetadataValue kOpen = std::monostate{};

TEST_CASE("no where condition means no plan") {
  CHECK_FALSE(PlanOf("").has_value());
  CHECK_FALSE(PlanOf("{}").has_value());
  CHECK_FALSE(PlanOf("", R"({"$contains": "x"})").has_value());
}

TEST_CASE("$eq becomes a point range keeping the operand's type") {
  CheckPoint(MustPlan(R"({"city": "Paris"})"), "city", std::string("Paris"));
  CheckPoint(MustPlan(R"({"n": {"$eq": 3}})"), "n", int64_t{3});
  CheckPoint(MustPlan(R"({"n": 3.0})"), "n", 3.0);
  CheckPoint(MustPlan(R"({"n": -2.5})"), "n", -2.5);
  CheckPoint(MustPlan(R"({"b": true})"), "b", true);
  CheckPoint(MustPlan(R"({"n": 18446744073709551615})"), "n", 18446744073709551615.0);
}

TEST_CASE("range operators become half-open ranges") {
  CheckRange(MustPlan(R"({"y": {"$gt": 2020}})"), "y", int64_t{2020}, false, kOpen, true);
  CheckRange(MustPlan(R"({"y": {"$gte": 2020}})"), "y", int64_t{2020}, true, kOpen, true);
  CheckRange(MustPlan(R"({"y": {"$lt": 1.5}})"), "y", kOpen, true, 1.5, false);
  CheckRange(MustPlan(R"({"y": {"$lte": 1.5}})"), "y", kOpen, true, 1.5, true);
}

TEST_CASE("exclusive bounds of magnitude >= 2^53 widen to inclusive") {
  // The index stores numbers as doubles, where 2^53 + 1 rounds onto 2^53.
  CheckRange(MustPlan(R"({"y": {"$gt": 9007199254740992}})"), "y", int64_t{9007199254740992}, true,
             kOpen, true);
  CheckRange(MustPlan(R"({"y": {"$lt": -9007199254740992.0}})"), "y", kOpen, true,
             -9007199254740992.0, true);
  CheckRange(MustPlan(R"({"y": {"$gt": 1e300}})"), "y", 1e300, true, kOpen, true);
  CheckRange(MustPlan(R"({"y": {"$gt": 9007199254740991}})"), "y", int64_t{9007199254740991}, false,
             kOpen, true);
  CheckRange(MustPlan(R"({"y": {"$lt": 9007199254740991.0}})"), "y", kOpen, true,
             9007199254740991.0, false);
}

TEST_CASE("$in becomes a union of points and one value collapses to a point") {
  IndexPlan plan = MustPlan(R"({"c": {"$in": ["a", 2, false]}})");
  REQUIRE(plan.kind == Kind::kOr);
  REQUIRE(plan.children.size() == 3);
  CheckPoint(plan.children[0], "c", std::string("a"));
  CheckPoint(plan.children[1], "c", int64_t{2});
  CheckPoint(plan.children[2], "c", false);
  CheckPoint(MustPlan(R"({"c": {"$in": [7.5]}})"), "c", 7.5);
}

TEST_CASE("$ne, $nin and where_document are not indexable") {
  CHECK_FALSE(PlanOf(R"({"c": {"$ne": "a"}})").has_value());
  CHECK_FALSE(PlanOf(R"({"c": {"$nin": ["a", "b"]}})").has_value());
  CHECK_FALSE(PlanOf(R"({"$and": [{"c": {"$ne": 1}}, {"d": {"$nin": [2]}}]})").has_value());
  CHECK_FALSE(PlanOf(R"({"$or": [{"c": {"$ne": 1}}]})").has_value());
}

TEST_CASE("$and keeps its indexable children and drops the others") {
  IndexPlan plan = MustPlan(R"({"$and": [{"a": 1}, {"b": {"$ne": 2}}, {"c": {"$lt": 3}}]})");
  REQUIRE(plan.kind == Kind::kAnd);
  REQUIRE(plan.children.size() == 2);
  CheckPoint(plan.children[0], "a", int64_t{1});
  CheckRange(plan.children[1], "c", kOpen, true, int64_t{3}, false);
  // A single remaining child collapses.
  CheckPoint(MustPlan(R"({"$and": [{"a": "x"}, {"b": {"$nin": [2]}}]})"), "a", std::string("x"));
}

TEST_CASE("implicit $and and multiple operators plan as kAnd, never merged") {
  IndexPlan plan = MustPlan(R"({"a": 1, "b": {"$ne": 0}, "c": true})");
  REQUIRE(plan.kind == Kind::kAnd);
  REQUIRE(plan.children.size() == 2);
  CheckPoint(plan.children[0], "a", int64_t{1});
  CheckPoint(plan.children[1], "c", true);
  // Separate ranges: a list [0, 10] satisfies each bound through a different element.
  IndexPlan between = MustPlan(R"({"y": {"$gte": 1, "$lt": 5}})");
  REQUIRE(between.kind == Kind::kAnd);
  REQUIRE(between.children.size() == 2);
  CheckRange(between.children[0], "y", int64_t{1}, true, kOpen, true);
  CheckRange(between.children[1], "y", kOpen, true, int64_t{5}, false);
}

TEST_CASE("$or is indexable only when every branch is") {
  IndexPlan plan = MustPlan(R"({"$or": [{"a": 1}, {"b": {"$gt": 2.5}}]})");
  REQUIRE(plan.kind == Kind::kOr);
  REQUIRE(plan.children.size() == 2);
  CheckPoint(plan.children[0], "a", int64_t{1});
  CheckRange(plan.children[1], "b", 2.5, false, kOpen, true);
  CHECK_FALSE(PlanOf(R"({"$or": [{"a": 1}, {"b": {"$ne": 2}}]})").has_value());
  CheckPoint(MustPlan(R"({"$or": [{"a": "z"}]})"), "a", std::string("z"));
  // An $or that cannot be planned is dropped from an enclosing $and.
  CheckPoint(MustPlan(R"({"k": 1, "$or": [{"a": 1}, {"b": {"$nin": [2]}}]})"), "k", int64_t{1});
}

TEST_CASE("nested $and/$or of the same kind flatten") {
  IndexPlan plan =
      MustPlan(R"({"$or": [{"a": {"$in": [1, 2]}}, {"$or": [{"b": 3}, {"c": 4}]}, {"d": 5}]})");
  REQUIRE(plan.kind == Kind::kOr);
  REQUIRE(plan.children.size() == 5);
  CheckPoint(plan.children[0], "a", int64_t{1});
  CheckPoint(plan.children[1], "a", int64_t{2});
  CheckPoint(plan.children[2], "b", int64_t{3});
  CheckPoint(plan.children[3], "c", int64_t{4});
  CheckPoint(plan.children[4], "d", int64_t{5});

  IndexPlan mixed = MustPlan(R"({"$and": [{"a": 1}, {"$and": [{"b": 2}]},
                                          {"$or": [{"c": 3}, {"d": 4}]}]})");
  REQUIRE(mixed.kind == Kind::kAnd);
  REQUIRE(mixed.children.size() == 3);
  CheckPoint(mixed.children[0], "a", int64_t{1});
  CheckPoint(mixed.children[1], "b", int64_t{2});
  REQUIRE(mixed.children[2].kind == Kind::kOr);
  CHECK(mixed.children[2].children.size() == 2);
}

TEST_CASE("where and where_document together plan as the where plan") {
  CheckPoint(MustPlan(R"({"a": "x"})", R"({"$contains": "hello"})"), "a", std::string("x"));
  CHECK_FALSE(PlanOf(R"({"a": {"$ne": "x"}})", R"({"$contains": "hello"})").has_value());
}

}  // namespace
}  // namespace emberdb
