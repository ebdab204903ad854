// Matching semantics of `where` and `where_document` filters: every operator on every stored
// type, list fields, missing fields, exact int/double comparison, and/or nesting.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "db/filter.h"

namespace emberdb {
namespace {

std::unique_ptr<Filter> MustParse(std::string_view where, std::string_view where_document = "") {
  std::unique_ptr<Filter> filter;
  Status s = Filter::Parse(where, where_document, &filter);
  INFO("where=" << where << " where_document=" << where_document << " -> " << s.ToString());
  REQUIRE(s.ok());
  REQUIRE(filter != nullptr);
  return filter;
}

// Whether a document with metadata {field: value} matches `where`.
bool MatchesValue(std::string_view where, MetadataValue value) {
  Metadata metadata{{"f", std::move(value)}};
  return MustParse(where)->Matches(metadata, "");
}

const int64_t kTwo53 = int64_t{1} << 53;
const int64_t kInt64Max = std::numeric_limits<int64_t>::max();
const int64_t kInt64Min = std::numeric_limits<int64_t>::min();

TEST_CASE("$eq shorthand on strings is exact and case-sensitive") {
  CHECK(MatchesValue(R"({"f": "Paris"})", std::string("Paris")));
  CHECK_FALSE(MatchesValue(R"({"f": "Paris"})", std::string("paris")));
  CHECK_FALSE(MatchesValue(R"({"f": "Paris"})", std::string("Paris ")));
  CHECK_FALSE(MatchesValue(R"({"f": "Par"})", std::string("Paris")));
  CHECK(MatchesValue(R"({"f": ""})", std::string("")));
  CHECK(MatchesValue(R"({"f": {"$eq": "é"}})", std::string("\xc3\xa9")));
}

TEST_CASE("$eq compares numbers numerically across int and double") {
  CHECK(MatchesValue(R"({"f": 3})", int64_t{3}));
  CHECK(MatchesValue(R"({"f": 3})", 3.0));
  CHECK(MatchesValue(R"({"f": 3.0})", int64_t{3}));
  CHECK(MatchesValue(R"({"f": -0.0})", int64_t{0}));
  CHECK(MatchesValue(R"({"f": 0})", -0.0));
  CHECK_FALSE(MatchesValue(R"({"f": 3})", 3.5));
  CHECK_FALSE(MatchesValue(R"({"f": 3.5})", int64_t{3}));
  CHECK_FALSE(MatchesValue(R"({"f": -3})", int64_t{3}));
}

TEST_CASE("bool never equals a number or a string") {
  CHECK(MatchesValue(R"({"f": true})", true));
  CHECK(MatchesValue(R"({"f": false})", false));
  CHECK_FALSE(MatchesValue(R"({"f": true})", false));
  CHECK_FALSE(MatchesValue(R"({"f": true})", int64_t{1}));
  CHECK_FALSE(MatchesValue(R"({"f": true})", 1.0));
  CHECK_FALSE(MatchesValue(R"({"f": 1})", true));
  CHECK_FALSE(MatchesValue(R"({"f": 0})", false));
  CHECK_FALSE(MatchesValue(R"({"f": "true"})", true));
  CHECK_FALSE(MatchesValue(R"({"f": "3"})", int64_t{3}));
  CHECK_FALSE(MatchesValue(R"({"f": 3})", std::string("3")));
}

TEST_CASE("$ne on each type, including type mismatches") {
  CHECK(MatchesValue(R"({"f": {"$ne": "a"}})", std::string("b")));
  CHECK_FALSE(MatchesValue(R"({"f": {"$ne": "a"}})", std::string("a")));
  CHECK(MatchesValue(R"({"f": {"$ne": 3}})", 3.5));
  CHECK_FALSE(MatchesValue(R"({"f": {"$ne": 3}})", 3.0));
  CHECK_FALSE(MatchesValue(R"({"f": {"$ne": 3.0}})", int64_t{3}));
  CHECK(MatchesValue(R"({"f": {"$ne": true}})", false));
  CHECK_FALSE(MatchesValue(R"({"f": {"$ne": true}})", true));
  // A value of another type is never equal, so $ne holds.
  CHECK(MatchesValue(R"({"f": {"$ne": 1}})", true));
  CHECK(MatchesValue(R"({"f": {"$ne": "1"}})", int64_t{1}));
}

TEST_CASE("range operators on integers at their boundaries") {
  CHECK(MatchesValue(R"({"f": {"$gt": 5}})", int64_t{6}));
  CHECK_FALSE(MatchesValue(R"({"f": {"$gt": 5}})", int64_t{5}));
  CHECK(MatchesValue(R"({"f": {"$gte": 5}})", int64_t{5}));
  CHECK_FALSE(MatchesValue(R"({"f": {"$gte": 5}})", int64_t{4}));
  CHECK(MatchesValue(R"({"f": {"$lt": 5}})", int64_t{4}));
  CHECK_FALSE(MatchesValue(R"({"f": {"$lt": 5}})", int64_t{5}));
  CHECK(MatchesValue(R"({"f": {"$lte": 5}})", int64_t{5}));
  CHECK_FALSE(MatchesValue(R"({"f": {"$lte": 5}})", int64_t{6}));
  CHECK(MatchesValue(R"({"f": {"$lt": -5}})", int64_t{-6}));
  CHECK_FALSE(MatchesValue(R"({"f": {"$gt": -5}})", int64_t{-6}));
}

TEST_CASE("range operators on doubles and mixed int/double") {
  CHECK(MatchesValue(R"({"f": {"$gt": 2}})", 2.5));
  CHECK_FALSE(MatchesValue(R"({"f": {"$gt": 2}})", 2.0));
  CHECK(MatchesValue(R"({"f": {"$gte": 2}})", 2.0));
  CHECK(MatchesValue(R"({"f": {"$lt": 2.5}})", int64_t{2}));
  CHECK_FALSE(MatchesValue(R"({"f": {"$lt": 2.5}})", int64_t{3}));
  CHECK(MatchesValue(R"({"f": {"$lte": 2.0}})", int64_t{2}));
  CHECK_FALSE(MatchesValue(R"({"f": {"$lt": 2.0}})", int64_t{2}));
  CHECK(MatchesValue(R"({"f": {"$gt": -0.5}})", int64_t{0}));
  CHECK_FALSE(MatchesValue(R"({"f": {"$gt": -0.5}})", int64_t{-1}));
  CHECK(MatchesValue(R"({"f": {"$lt": 1e300}})", kInt64Max));
  CHECK(MatchesValue(R"({"f": {"$gt": -1e300}})", kInt64Min));
}

TEST_CASE("range operators never match strings or bools") {
  CHECK_FALSE(MatchesValue(R"({"f": {"$gt": 0}})", std::string("5")));
  CHECK_FALSE(MatchesValue(R"({"f": {"$lt": 10}})", std::string("")));
  CHECK_FALSE(MatchesValue(R"({"f": {"$gte": 0}})", true));
  CHECK_FALSE(MatchesValue(R"({"f": {"$lte": 1}})", false));
  CHECK_FALSE(MatchesValue(R"({"f": {"$gt": -1}})", std::vector<std::string>{"a", "b"}));
}

TEST_CASE("integers beyond 2^53 compare exactly against ints and doubles") {
  // 2^53 + 1 has no double; rounding it would make these equal.
  CHECK_FALSE(MatchesValue(R"({"f": 9007199254740993})", kTwo53));
  CHECK(MatchesValue(R"({"f": 9007199254740993})", kTwo53 + 1));
  CHECK_FALSE(MatchesValue(R"({"f": 9007199254740992.0})", kTwo53 + 1));
  CHECK(MatchesValue(R"({"f": 9007199254740992.0})", kTwo53));
  CHECK(MatchesValue(R"({"f": {"$gt": 9007199254740992.0}})", kTwo53 + 1));
  CHECK(MatchesValue(R"({"f": {"$lt": 9007199254740993}})", static_cast<double>(kTwo53)));
  CHECK(MatchesValue(R"({"f": {"$gt": 9007199254740992}})", kTwo53 + 1));
  CHECK_FALSE(MatchesValue(R"({"f": {"$gt": 9007199254740993}})", kTwo53 + 1));
  // INT64_MAX is below 2^63 (which is what the double 9.223372036854775807e18 is).
  CHECK(MatchesValue(R"({"f": {"$lt": 9223372036854775807.0}})", kInt64Max));
  CHECK_FALSE(MatchesValue(R"({"f": 9223372036854775807.0})", kInt64Max));
  CHECK(MatchesValue(R"({"f": 9223372036854775807})", kInt64Max));
  // -2^63 is exactly representable both ways.
  CHECK(MatchesValue(R"({"f": -9223372036854775808.0})", kInt64Min));
  CHECK(MatchesValue(R"({"f": -9223372036854775808})", kInt64Min));
  CHECK(MatchesValue(R"({"f": {"$gt": -9223372036854775809.0}})", kInt64Min + 1));
  // A JSON integer above INT64_MAX is above every stored int.
  CHECK(MatchesValue(R"({"f": {"$lt": 18446744073709551615}})", kInt64Max));
  CHECK_FALSE(MatchesValue(R"({"f": 18446744073709551615})", kInt64Max));
  CHECK(MatchesValue(R"({"f": {"$gte": 18446744073709551615}})", 1.8446744073709552e19));
  // Doubles with fractions between two large ints.
  CHECK(MatchesValue(R"({"f": {"$gt": -1.5}})", int64_t{-1}));
  CHECK_FALSE(MatchesValue(R"({"f": {"$gt": -1.5}})", int64_t{-2}));
}

TEST_CASE("$in and $nin on each type") {
  CHECK(MatchesValue(R"({"f": {"$in": ["a", "b"]}})", std::string("b")));
  CHECK_FALSE(MatchesValue(R"({"f": {"$in": ["a", "b"]}})", std::string("c")));
  CHECK(MatchesValue(R"({"f": {"$in": [1, 2.5]}})", 1.0));
  CHECK(MatchesValue(R"({"f": {"$in": [1, 2.5]}})", 2.5));
  CHECK_FALSE(MatchesValue(R"({"f": {"$in": [1, 2.5]}})", int64_t{2}));
  CHECK(MatchesValue(R"({"f": {"$in": [false]}})", false));
  CHECK_FALSE(MatchesValue(R"({"f": {"$in": [0, "false"]}})", false));
  CHECK(MatchesValue(R"({"f": {"$in": ["x", 7, true]}})", int64_t{7}));
  CHECK(MatchesValue(R"({"f": {"$nin": ["a", "b"]}})", std::string("c")));
  CHECK_FALSE(MatchesValue(R"({"f": {"$nin": ["a", "b"]}})", std::string("a")));
  CHECK_FALSE(MatchesValue(R"({"f": {"$nin": [3]}})", 3.0));
  CHECK(MatchesValue(R"({"f": {"$nin": [3]}})", std::string("3")));
  CHECK(MatchesValue(R"({"f": {"$nin": [true]}})", false));
}

TEST_CASE("a missing field matches only $ne and $nin") {
  const Metadata other{{"g", int64_t{1}}};
  const char* const kMatching[] = {R"({"f": {"$ne": 1}})", R"({"f": {"$nin": [1, "a"]}})",
                                   R"({"f": {"$ne": "x"}})", R"({"f": {"$ne": false}})"};
  for (const char* where : kMatching) {
    INFO(where);
    CHECK(MustParse(where)->Matches(other, ""));
    CHECK(MustParse(where)->Matches(Metadata{}, ""));
  }
  const char* const kNotMatching[] = {R"({"f": 1})",
                                      R"({"f": {"$eq": "a"}})",
                                      R"({"f": {"$gt": 0}})",
                                      R"({"f": {"$gte": 0}})",
                                      R"({"f": {"$lt": 0}})",
                                      R"({"f": {"$lte": 0}})",
                                      R"({"f": {"$in": [1]}})",
                                      R"({"f": false})"};
  for (const char* where : kNotMatching) {
    INFO(where);
    CHECK_FALSE(MustParse(where)->Matches(other, ""));
    CHECK_FALSE(MustParse(where)->Matches(Metadata{}, ""));
  }
  // A null value stored under the key counts as missing.
  CHECK(MatchesValue(R"({"f": {"$ne": 1}})", std::monostate{}));
  CHECK_FALSE(MatchesValue(R"({"f": {"$lte": 1}})", std::monostate{}));
}

TEST_CASE("list fields: $eq/$in match any element, $ne/$nin need no element") {
  const MetadataValue tags = std::vector<std::string>{"red", "green"};
  CHECK(MatchesValue(R"({"f": "green"})", tags));
  CHECK_FALSE(MatchesValue(R"({"f": "blue"})", tags));
  CHECK(MatchesValue(R"({"f": {"$in": ["blue", "red"]}})", tags));
  CHECK_FALSE(MatchesValue(R"({"f": {"$in": ["blue", "pink"]}})", tags));
  CHECK_FALSE(MatchesValue(R"({"f": {"$ne": "red"}})", tags));
  CHECK(MatchesValue(R"({"f": {"$ne": "blue"}})", tags));
  CHECK_FALSE(MatchesValue(R"({"f": {"$nin": ["blue", "green"]}})", tags));
  CHECK(MatchesValue(R"({"f": {"$nin": ["blue", "pink"]}})", tags));
}

TEST_CASE("list fields of numbers and bools, and empty lists") {
  const MetadataValue ints = std::vector<int64_t>{1, 5, 9};
  CHECK(MatchesValue(R"({"f": 5.0})", ints));
  CHECK(MatchesValue(R"({"f": {"$gt": 8}})", ints));
  CHECK_FALSE(MatchesValue(R"({"f": {"$gt": 9}})", ints));
  CHECK(MatchesValue(R"({"f": {"$lt": 1.5}})", ints));
  CHECK_FALSE(MatchesValue(R"({"f": {"$lt": 1}})", ints));
  const MetadataValue doubles = std::vector<double>{0.5, 2.0};
  CHECK(MatchesValue(R"({"f": 2})", doubles));
  CHECK(MatchesValue(R"({"f": {"$lte": 0.5}})", doubles));
  CHECK_FALSE(MatchesValue(R"({"f": {"$nin": [2]}})", doubles));
  const MetadataValue bools = std::vector<bool>{false, false};
  CHECK(MatchesValue(R"({"f": false})", bools));
  CHECK_FALSE(MatchesValue(R"({"f": true})", bools));
  CHECK(MatchesValue(R"({"f": {"$ne": true}})", bools));
  CHECK_FALSE(MatchesValue(R"({"f": 0})", bools));
  const MetadataValue empty = std::vector<int64_t>{};
  CHECK_FALSE(MatchesValue(R"({"f": 1})", empty));
  CHECK_FALSE(MatchesValue(R"({"f": {"$gte": -1e300}})", empty));
  CHECK(MatchesValue(R"({"f": {"$ne": 1}})", empty));
  CHECK(MatchesValue(R"({"f": {"$nin": [1]}})", empty));
}

TEST_CASE("several operators on one field all apply, element by element for lists") {
  CHECK(MatchesValue(R"({"f": {"$gt": 1, "$lt": 5}})", int64_t{3}));
  CHECK_FALSE(MatchesValue(R"({"f": {"$gt": 1, "$lt": 5}})", int64_t{5}));
  CHECK_FALSE(MatchesValue(R"({"f": {"$gt": 1, "$lt": 5}})", int64_t{1}));
  CHECK(MatchesValue(R"({"f": {"$gte": 1, "$ne": 2}})", 1.5));
  CHECK_FALSE(MatchesValue(R"({"f": {"$gte": 1, "$ne": 2}})", 2.0));
  // Each operator is an independent condition: 10 satisfies $gt, 0 satisfies $lt.
  CHECK(MatchesValue(R"({"f": {"$gt": 1, "$lt": 5}})", std::vector<int64_t>{0, 10}));
}

TEST_CASE("several fields in one object are an implicit $and") {
  auto filter = MustParse(R"({"city": "Paris", "year": {"$gte": 2020}})");
  CHECK(filter->Matches({{"city", std::string("Paris")}, {"year", int64_t{2021}}}, ""));
  CHECK_FALSE(filter->Matches({{"city", std::string("Paris")}, {"year", int64_t{2019}}}, ""));
  CHECK_FALSE(filter->Matches({{"city", std::string("Rome")}, {"year", int64_t{2021}}}, ""));
  CHECK_FALSE(filter->Matches({{"city", std::string("Paris")}}, ""));
}

TEST_CASE("$and and $or nest, and combine with field keys") {
  auto filter = MustParse(R"({"$or": [{"a": 1}, {"$and": [{"b": {"$gt": 2}}, {"c": "x"}]}]})");
  CHECK(filter->Matches({{"a", int64_t{1}}}, ""));
  CHECK(filter->Matches({{"b", 3.5}, {"c", std::string("x")}}, ""));
  CHECK_FALSE(filter->Matches({{"b", 3.5}, {"c", std::string("y")}}, ""));
  CHECK_FALSE(filter->Matches({{"b", int64_t{2}}, {"c", std::string("x")}}, ""));
  CHECK_FALSE(filter->Matches({}, ""));

  auto mixed = MustParse(R"({"$or": [{"a": 1}, {"a": 2}], "b": true})");
  CHECK(mixed->Matches({{"a", int64_t{2}}, {"b", true}}, ""));
  CHECK_FALSE(mixed->Matches({{"a", int64_t{2}}, {"b", false}}, ""));
  CHECK_FALSE(mixed->Matches({{"a", int64_t{3}}, {"b", true}}, ""));

  auto single = MustParse(R"({"$and": [{"a": 1}]})");
  CHECK(single->Matches({{"a", int64_t{1}}}, ""));
  CHECK_FALSE(single->Matches({{"a", int64_t{0}}}, ""));
}

TEST_CASE("deeply nested filters within the limit parse and evaluate") {
  std::string where = R"({"a": 1})";
  for (int i = 0; i < 60; ++i) where = (i % 2 ? R"({"$and": [)" : R"({"$or": [)") + where + "]}";
  auto filter = MustParse(where);
  CHECK(filter->Matches({{"a", int64_t{1}}}, ""));
  CHECK_FALSE(filter->Matches({{"a", int64_t{2}}}, ""));
}

TEST_CASE("where_document $contains and $not_contains are case-sensitive substrings") {
  auto contains = MustParse("", R"({"$contains": "quick brown"})");
  CHECK(contains->Matches({}, "the quick brown fox"));
  CHECK_FALSE(contains->Matches({}, "the Quick Brown fox"));
  CHECK_FALSE(contains->Matches({}, "quick  brown"));
  CHECK_FALSE(contains->Matches({}, ""));
  auto not_contains = MustParse("", R"({"$not_contains": "fox"})");
  CHECK(not_contains->Matches({}, "the dog"));
  CHECK(not_contains->Matches({}, "the Fox"));
  CHECK_FALSE(not_contains->Matches({}, "firefox"));
  auto utf8 = MustParse("", R"({"$contains": "caf\u00e9"})");
  CHECK(utf8->Matches({}, "un caf\xc3\xa9 noir"));
  CHECK_FALSE(utf8->Matches({}, "un cafe noir"));
}

TEST_CASE("where_document $and/$or and implicit and") {
  auto filter = MustParse("", R"({"$or": [{"$contains": "cat"}, {"$and": [{"$contains": "dog"},
                                                                 {"$not_contains": "bad"}]}]})");
  CHECK(filter->Matches({}, "a cat"));
  CHECK(filter->Matches({}, "good dog"));
  CHECK_FALSE(filter->Matches({}, "bad dog"));
  CHECK(filter->Matches({}, "bad dog and cat"));
  CHECK_FALSE(filter->Matches({}, "bird"));
  auto both = MustParse("", R"({"$contains": "a", "$not_contains": "b"})");
  CHECK(both->Matches({}, "a"));
  CHECK_FALSE(both->Matches({}, "ab"));
  CHECK_FALSE(both->Matches({}, "c"));
}

TEST_CASE("Matches needs both filters, needs_text and empty report what is set") {
  auto filter = MustParse(R"({"lang": "en"})", R"({"$contains": "hello"})");
  CHECK_FALSE(filter->empty());
  CHECK(filter->needs_text());
  CHECK(filter->Matches({{"lang", std::string("en")}}, "hello world"));
  CHECK_FALSE(filter->Matches({{"lang", std::string("fr")}}, "hello world"));
  CHECK_FALSE(filter->Matches({{"lang", std::string("en")}}, "bonjour"));

  auto where_only = MustParse(R"({"lang": "en"})");
  CHECK_FALSE(where_only->empty());
  CHECK_FALSE(where_only->needs_text());
  auto document_only = MustParse("", R"({"$contains": "x"})");
  CHECK_FALSE(document_only->empty());
  CHECK(document_only->needs_text());
}

TEST_CASE("empty, blank and {} filters are no condition") {
  const char* const kEmpty[] = {"", "   ", "\n\t", "{}", " { } "};
  for (const char* where : kEmpty) {
    for (const char* document : kEmpty) {
      INFO("where='" << where << "' where_document='" << document << "'");
      auto filter = MustParse(where, document);
      CHECK(filter->empty());
      CHECK_FALSE(filter->needs_text());
      CHECK(filter->Matches({}, ""));
      CHECK(filter->Matches({{"a", int64_t{1}}}, "text"));
      CHECK_FALSE(filter->Plan().has_value());
    }
  }
}

TEST_CASE("duplicate JSON keys: the last one wins") {
  auto filter = MustParse(R"({"f": 1, "f": 2})");
  CHECK(filter->Matches({{"f", int64_t{2}}}, ""));
  CHECK_FALSE(filter->Matches({{"f", int64_t{1}}}, ""));
}

}  // namespace
}  // namespace emberdb
