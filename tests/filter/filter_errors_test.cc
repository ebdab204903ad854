// Malformed filters: each is an InvalidArgument whose message says what is wrong and where.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "db/filter.h"

namespace emberdb {
namespace {

// Parses a filter that must fail and returns the error message.
std::string ParseError(std::string_view where, std::string_view where_document = "") {
  std::unique_ptr<Filter> filter;
  Status s = Filter::Parse(where, where_document, &filter);
  INFO("where=" << where << " where_document=" << where_document);
  CHECK(s.IsInvalidArgument());
  CHECK(filter == nullptr);  // nothing is handed out on failure
  return s.message();
}

std::string WhereError(std::string_view where) { return ParseError(where, ""); }
std::string DocumentError(std::string_view where_document) {
  return ParseError("", where_document);
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE("invalid JSON names the filter and keeps the parser's message") {
  std::string m = WhereError(R"({"a": 1)");
  CHECK(m.rfind("where: not valid JSON: ", 0) == 0);
  CHECK(Contains(m, "parse error"));
  m = DocumentError(R"({"$contains": })");
  CHECK(m.rfind("where_document: not valid JSON: ", 0) == 0);
  CHECK(Contains(WhereError("{'a': 1}"), "not valid JSON"));
  CHECK(Contains(WhereError(R"({"a": 1e400})"), "not valid JSON"));    // overflow
  CHECK(Contains(WhereError("{\"a\": \"\xff\"}"), "not valid JSON"));  // bad UTF-8
  CHECK(Contains(WhereError(R"({"a": 1} trailing)"), "not valid JSON"));
  CHECK(Contains(WhereError(R"({"a": NaN})"), "not valid JSON"));
}

TEST_CASE("the top level must be an object") {
  CHECK(WhereError("[1, 2]") == "where: must be a JSON object, got [1,2]");
  CHECK(WhereError("\"a\"") == "where: must be a JSON object, got \"a\"");
  CHECK(WhereError("3") == "where: must be a JSON object, got 3");
  CHECK(WhereError("null") == "where: must be a JSON object, got null");
  CHECK(DocumentError("\"text\"") == "where_document: must be a JSON object, got \"text\"");
  CHECK(DocumentError("[]") == "where_document: must be a JSON object, got []");
}

TEST_CASE("range operators need a number") {
  CHECK(WhereError(R"({"year": {"$gt": "2020"}})") ==
        "where: operator $gt on field 'year' needs a number, got \"2020\"");
  CHECK(WhereError(R"({"year": {"$gte": true}})") ==
        "where: operator $gte on field 'year' needs a number, got true");
  CHECK(WhereError(R"({"year": {"$lt": null}})") ==
        "where: operator $lt on field 'year' needs a number, got null");
  CHECK(WhereError(R"({"year": {"$lte": [1, 2]}})") ==
        "where: operator $lte on field 'year' needs a number, got [1,2]");
  CHECK(WhereError(R"({"year": {"$gt": {"$lt": 1}}})") ==
        "where: operator $gt on field 'year' needs a number, got {\"$lt\":1}");
}

TEST_CASE("$eq and $ne need a string, number or bool") {
  CHECK(WhereError(R"({"x": null})") ==
        "where: operator $eq on field 'x' needs a string, number or bool, got null");
  CHECK(WhereError(R"({"x": {"$eq": null}})") ==
        "where: operator $eq on field 'x' needs a string, number or bool, got null");
  CHECK(WhereError(R"({"x": {"$ne": {"a": 1}}})") ==
        "where: operator $ne on field 'x' needs a string, number or bool, got {\"a\":1}");
  CHECK(WhereError(R"({"x": ["a", "b"]})") ==
        "where: operator $eq on field 'x' needs a string, number or bool, got [\"a\",\"b\"] "
        "(use $in/$nin for a list)");
  CHECK(Contains(WhereError(R"({"x": {"$ne": []}})"), "(use $in/$nin for a list)"));
}

TEST_CASE("a nested object is not a value") {
  CHECK(WhereError(R"({"x": {"a": 1}})") ==
        "where: field 'x' needs an operator such as $eq, got key 'a' (objects are not values)");
  CHECK(WhereError(R"({"x": {"$eq": 1, "b": 2}})") ==
        "where: field 'x' needs an operator such as $eq, got key 'b' (objects are not values)");
  CHECK(WhereError(R"({"x": {}})") == "where: field 'x' has an empty operator object {}");
}

TEST_CASE("unknown operators are named with their field") {
  CHECK(WhereError(R"({"x": {"$regex": "a.*"}})") == "where: unknown operator $regex on field 'x'");
  CHECK(WhereError(R"({"x": {"$EQ": 1}})") == "where: unknown operator $EQ on field 'x'");
  CHECK(WhereError(R"({"x": {"$contains": "a"}})") ==
        "where: unknown operator $contains on field 'x'");
  CHECK(WhereError(R"({"$not": {"x": 1}})") ==
        "where: unknown operator $not (field names cannot start with '$')");
  CHECK(WhereError(R"({"$x": 1})") ==
        "where: unknown operator $x (field names cannot start with '$')");
  CHECK(WhereError(R"({"": 1})") == "where: empty field name");
}

TEST_CASE("$in and $nin need a non-empty array of scalars") {
  CHECK(WhereError(R"({"x": {"$in": "a"}})") ==
        "where: operator $in on field 'x' needs a non-empty array, got \"a\"");
  CHECK(WhereError(R"({"x": {"$in": []}})") ==
        "where: operator $in on field 'x' needs a non-empty array, got []");
  CHECK(WhereError(R"({"x": {"$nin": {}}})") ==
        "where: operator $nin on field 'x' needs a non-empty array, got {}");
  CHECK(WhereError(R"({"x": {"$in": [1, null]}})") ==
        "where: operator $in on field 'x': element 1 must be a string, number or bool, got null");
  CHECK(WhereError(R"({"x": {"$nin": [[1]]}})") ==
        "where: operator $nin on field 'x': element 0 must be a string, number or bool, got [1]");
  CHECK(WhereError(R"({"x": {"$in": [{"a": 1}]}})") ==
        "where: operator $in on field 'x': element 0 must be a string, number or bool, got "
        "{\"a\":1}");
}

TEST_CASE("$and and $or need a non-empty array of non-empty objects") {
  CHECK(WhereError(R"({"$and": []})") == "where: $and needs a non-empty array, got []");
  CHECK(WhereError(R"({"$or": {"a": 1}})") == "where: $or needs a non-empty array, got {\"a\":1}");
  CHECK(WhereError(R"({"$and": null})") == "where: $and needs a non-empty array, got null");
  CHECK(WhereError(R"({"$and": [{"a": 1}, 3]})") == "where: $and[1] must be an object, got 3");
  CHECK(WhereError(R"({"$or": [{}]})") == "where: $or[0] is an empty object {}");
  CHECK(DocumentError(R"({"$and": []})") == "where_document: $and needs a non-empty array, got []");
  CHECK(DocumentError(R"({"$or": ["x"]})") ==
        "where_document: $or[0] must be an object, got \"x\"");
  CHECK(DocumentError(R"({"$or": [{}]})") == "where_document: $or[0] is an empty object {}");
}

TEST_CASE("errors deep inside $and/$or still name the field") {
  CHECK(WhereError(R"({"$and": [{"a": 1}, {"$or": [{"b": 2}, {"year": {"$gt": "x"}}]}]})") ==
        "where: operator $gt on field 'year' needs a number, got \"x\"");
  CHECK(WhereError(R"({"a": 1, "b": {"$bad": 1}})") == "where: unknown operator $bad on field 'b'");
  CHECK(DocumentError(R"({"$and": [{"$contains": "a"}, {"$contains": ""}]})") ==
        "where_document: $contains needs a non-empty string, got \"\"");
}

TEST_CASE("where_document operators and operands are checked") {
  CHECK(DocumentError(R"({"$eq": "a"})") == "where_document: unknown operator $eq");
  CHECK(DocumentError(R"({"text": "a"})") == "where_document: unknown operator text");
  CHECK(DocumentError(R"({"$contains": ""})") ==
        "where_document: $contains needs a non-empty string, got \"\"");
  CHECK(DocumentError(R"({"$contains": 3})") ==
        "where_document: $contains needs a non-empty string, got 3");
  CHECK(DocumentError(R"({"$not_contains": ""})") ==
        "where_document: $not_contains needs a non-empty string, got \"\"");
  CHECK(DocumentError(R"({"$not_contains": ["a"]})") ==
        "where_document: $not_contains needs a non-empty string, got [\"a\"]");
}

TEST_CASE("nesting beyond the depth limit is an error, not a crash") {
  std::string where = R"({"a": 1})";
  for (int i = 0; i < 100; ++i) where = R"({"$and": [)" + where + "]}";
  CHECK(WhereError(where) == "where: nested deeper than 64 levels");
  std::string document = R"({"$contains": "a"})";
  for (int i = 0; i < 100; ++i) document = R"({"$or": [)" + document + "]}";
  CHECK(DocumentError(document) == "where_document: nested deeper than 64 levels");
  // Far deeper input than any real filter: bounded by the parser, not the stack.
  std::string huge(100000, '[');
  CHECK(Contains(WhereError(R"({"a": )" + huge), "not valid JSON"));
  // Valid JSON nested a million deep: rejected before anything recurses over it.
  const std::string deep =
      R"({"a": )" + std::string(1000000, '[') + std::string(1000000, ']') + "}";
  CHECK(WhereError(deep) == "where: JSON nested deeper than 256 levels");
  CHECK(DocumentError(R"({"$contains": )" + std::string(300, '[') + std::string(300, ']') + "}") ==
        "where_document: JSON nested deeper than 256 levels");
}

TEST_CASE("long values are shortened in messages") {
  const std::string value(500, 'v');
  const std::string m = WhereError(R"({"x": {"$gt": ")" + value + "\"}}");
  CHECK(m.size() < 200);
  CHECK(Contains(m, "..."));
  CHECK(Contains(m, "operator $gt on field 'x' needs a number"));
  // Shortening never splits a multi-byte character: every lead byte keeps its continuations.
  for (int offset = 0; offset < 3; ++offset) {
    std::string accents(offset, 'a');
    for (int i = 0; i < 60; ++i) accents += "\xe2\x82\xac";  // U+20AC, three bytes
    const std::string euro = WhereError(R"({"x": {"$lt": ")" + accents + "\"}}");
    CHECK(Contains(euro, "..."));
    size_t i = 0;
    while (i < euro.size()) {
      const auto lead = static_cast<unsigned char>(euro[i]);
      const size_t length = lead < 0x80 ? 1 : lead >= 0xE0 ? 3 : 2;
      REQUIRE(i + length <= euro.size());
      for (size_t k = 1; k < length; ++k) {
        CHECK((static_cast<unsigned char>(euro[i + k]) & 0xC0) == 0x80);
      }
      i += length;
    }
  }
}

TEST_CASE("a bad where_document fails the whole parse even with a good where") {
  std::unique_ptr<Filter> filter;
  Status s = Filter::Parse(R"({"a": 1})", R"({"$contains": ""})", &filter);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().rfind("where_document: ", 0) == 0);
  CHECK(filter == nullptr);
  s = Filter::Parse(R"({"a": {"$gt": "1"}})", R"({"$contains": "ok"})", &filter);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().rfind("where: ", 0) == 0);
  CHECK(filter == nullptr);
}

}  // namespace
}  // namespace emberdb
