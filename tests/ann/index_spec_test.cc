#include <doctest/doctest.h>

#include <string>

#include "ann/vector_index.h"
#include "ann/xxhash64.h"

using emberdb::ann::IndexSpec;

TEST_CASE("IndexSpec parses every supported kind and prints it back") {
  struct Case {
    const char* text;
    IndexSpec::Kind kind;
    uint32_t nlist;
    uint32_t pq_m;
  };
  const Case cases[] = {
      {"Flat", IndexSpec::Kind::kFlat, 0, 0},
      {"IVF,Flat", IndexSpec::Kind::kIvfFlat, 0, 0},
      {"IVF1024,Flat", IndexSpec::Kind::kIvfFlat, 1024, 0},
      {"IVF,SQ8", IndexSpec::Kind::kIvfSq8, 0, 0},
      {"IVF7,SQ8", IndexSpec::Kind::kIvfSq8, 7, 0},
      {"IVF,PQ32", IndexSpec::Kind::kIvfPq, 0, 32},
      {"IVF256,PQ8", IndexSpec::Kind::kIvfPq, 256, 8},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    IndexSpec spec;
    REQUIRE(IndexSpec::Parse(c.text, &spec).ok());
    CHECK(spec.kind == c.kind);
    CHECK(spec.nlist == c.nlist);
    CHECK(spec.pq_m == c.pq_m);
    CHECK(spec.ToString() == c.text);
    CHECK(spec.compressed() ==
          (c.kind == IndexSpec::Kind::kIvfSq8 || c.kind == IndexSpec::Kind::kIvfPq));
  }
}

TEST_CASE("IndexSpec rejects malformed strings with InvalidArgument naming the input") {
  const char* bad[] = {"",           "flat",        "FLAT",
                       "ivf,Flat",   "IVF",         "IVF,",
                       "IVF,flat",   "IVF0,Flat",   "IVF01,Flat",
                       "IVF-5,Flat", "IVF,PQ",      "IVF,PQ0",
                       "IVF,PQx",    "IVF,PQ8x",    "IVF,SQ4",
                       "IVF12Flat",  "IVF 12,Flat", "Flat ",
                       "IVF,Flat,",  "HNSW32",      "IVF99999999999,Flat",
                       "IVF,PQ99999"};
  for (const char* text : bad) {
    CAPTURE(text);
    IndexSpec spec;
    spec.kind = IndexSpec::Kind::kIvfSq8;
    spec.nlist = 5;
    auto s = IndexSpec::Parse(text, &spec);
    CHECK(s.IsInvalidArgument());
    CHECK(s.message().find(std::string("'") + text + "'") != std::string::npos);
    CHECK(spec.nlist == 5);  // output untouched on failure
  }
}

TEST_CASE("XxHash64 matches the reference implementation's known values") {
  using emberdb::ann::XxHash64;
  CHECK(XxHash64("", 0, 0) == 0xEF46DB3751D8E999ULL);
  CHECK(XxHash64("a", 1, 0) == 0xD24EC4F1A98C6E5BULL);
  CHECK(XxHash64("abc", 3, 0) == 0x44BC2CF5AD770999ULL);
  const std::string fox = "The quick brown fox jumps over the lazy dog";
  CHECK(XxHash64(fox.data(), fox.size(), 0) == 0x0B242D361FDA71BCULL);
}
