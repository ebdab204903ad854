// The safetensors parser: round trips, dtype conversion, every malformed-header class, and a
// randomized mutation run (~2 s) that must never crash or hand out an out-of-range tensor.
#include "embedder/safetensors.h"

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <random>

namespace emberdb::embedder {
namespace {

std::string F32Bytes(std::initializer_list<float> values) {
  std::string s;
  for (float v : values) s.append(reinterpret_cast<const char*>(&v), 4);
  return s;
}

std::vector<SafetensorToWrite> SmallModel() {
  return {{"a.weight", "F32", {2, 2}, F32Bytes({1, 2, 3, 4})},
          {"b.bias", "F16", {3}, std::string("\x00\x3c\x00\xc0\x01\x00", 6)},
          {"position_ids", "I64", {1, 2}, std::string(16, '\0')},
          {"empty", "F32", {0, 5}, ""}};
}

Status ParseString(const std::string& bytes, std::unique_ptr<SafetensorsFile>* out) {
  return SafetensorsFile::Parse(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                                "test.safetensors", out);
}

// A file with a hand-written header (padded to 8) and `data_size` zero bytes of data.
std::string WithHeader(const std::string& header, size_t data_size) {
  std::string h = header;
  h.append((8 - h.size() % 8) % 8, ' ');
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) file[i] = static_cast<char>((h.size() >> (8 * i)) & 0xff);
  return file + h + std::string(data_size, '\0');
}

TEST_CASE("safetensors: round trip, lookup and upcasting") {
  const std::string bytes = SerializeSafetensors(SmallModel());
  CHECK((bytes[0] & 7) == 0);  // header padded to a multiple of 8
  std::unique_ptr<SafetensorsFile> file;
  REQUIRE(ParseString(bytes, &file).ok());
  REQUIRE(file->tensors().size() == 4);
  const SafetensorInfo* a = file->Find("a.weight");
  REQUIRE(a != nullptr);
  CHECK(a->shape == std::vector<uint64_t>{2, 2});
  CHECK(file->Find("missing") == nullptr);
  std::vector<float> v;
  REQUIRE(file->ReadAsFloat(*a, &v).ok());
  CHECK(v == std::vector<float>{1, 2, 3, 4});
  REQUIRE(file->ReadAsFloat(*file->Find("b.bias"), &v).ok());
  CHECK(v == std::vector<float>{1.0f, -2.0f, std::ldexp(1.0f, -24)});
  Status s = file->ReadAsFloat(*file->Find("position_ids"), &v);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("position_ids") != std::string::npos);
  CHECK(file->Find("empty")->num_bytes == 0);
}

TEST_CASE("safetensors: F16 and BF16 conversions are exact") {
  for (uint32_t h = 0; h < 65536; ++h) {
    const int sign = (h >> 15) ? -1 : 1, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    const float got = HalfToFloat(static_cast<uint16_t>(h));
    if (exponent == 31) {
      CHECK((mantissa == 0 ? std::isinf(got) : std::isnan(got)));
      continue;
    }
    const double want = exponent == 0 ? sign * std::ldexp(mantissa, -24)
                                      : sign * std::ldexp(1024 + mantissa, exponent - 25);
    if (static_cast<double>(got) != want) FAIL("half " << h << " -> " << got << " want " << want);
    CHECK(std::signbit(got) == (sign < 0));
  }
  CHECK(FloatToBFloat16(1.0f) == 0x3f80);
  CHECK(BFloat16ToFloat(0x3f80) == 1.0f);
  // 1 + 2^-8 is halfway between two bfloat16 values: ties go to even (1.0).
  CHECK(FloatToBFloat16(1.0f + std::ldexp(1.0f, -8)) == 0x3f80);
  CHECK(FloatToBFloat16(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3f82);
  CHECK(std::isnan(BFloat16ToFloat(FloatToBFloat16(NAN))));
}

TEST_CASE("safetensors: malformed files are Corruption naming the file, never a crash") {
  struct Case {
    const char* what;
    std::string bytes;
    const char* expect;
  } cases[] = {
      {"empty", "", "shorter"},
      {"short", std::string(7, '\0'), "shorter"},
      {"length past the end", std::string("\xff\x00\x00\x00\x00\x00\x00\x00{}", 10), "exceeds"},
      {"huge length", std::string(8, '\xff') + "{}", "exceeds"},
      {"not json", WithHeader("{not json", 0), "JSON"},
      {"not an object", WithHeader("[1,2]", 0), "JSON object"},
      {"entry not object", WithHeader(R"({"a": 3})", 0), "not an object"},
      {"no dtype", WithHeader(R"({"a": {"shape": [1], "data_offsets": [0, 4]}})", 4), "lacks"},
      {"unknown dtype",
       WithHeader(R"({"a": {"dtype": "F17", "shape": [1], "data_offsets": [0, 4]}})", 4),
       "unknown dtype"},
      {"negative dim",
       WithHeader(R"({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4),
       "non-integer"},
      {"float dim",
       WithHeader(R"({"a": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})", 4),
       "non-integer"},
      {"shape overflow",
       WithHeader(
           R"({"a": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 4]}})",
           4),
       "overflows"},
      {"end past data",
       WithHeader(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", 4),
       "out of range"},
      {"begin after end",
       WithHeader(R"({"a": {"dtype": "F32", "shape": [0], "data_offsets": [4, 0]}})", 4),
       "out of range"},
      {"size mismatch",
       WithHeader(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})", 8), "need 8"},
      {"offsets not a pair",
       WithHeader(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})", 4),
       "data_offsets"},
      {"overlap",
       WithHeader(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                      "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                  12),
       "overlap"},
      {"overlap hidden behind an empty tensor",
       WithHeader(R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                      "e": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]},
                      "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})",
                  16),
       "overlap"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    std::unique_ptr<SafetensorsFile> file;
    Status s = ParseString(c.bytes, &file);
    CHECK(s.IsCorruption());
    CHECK(s.message().find("test.safetensors") != std::string::npos);
    CHECK_MESSAGE(s.message().find(c.expect) != std::string::npos, s.message());
  }
  // A truncated real file: its tensors now point past the end.
  const std::string full = SerializeSafetensors(SmallModel());
  for (size_t cut = 0; cut < full.size(); ++cut) {
    std::unique_ptr<SafetensorsFile> file;
    const std::string part = full.substr(0, cut);
    CHECK_FALSE(ParseString(part, &file).ok());
  }
  std::unique_ptr<SafetensorsFile> file;
  Status s = SafetensorsFile::Open("/nonexistent/model.safetensors", &file);
  CHECK(s.IsIOError());
  CHECK(s.message().find("/nonexistent/model.safetensors") != std::string::npos);
}

// Mutates a valid file at random (bytes of the header, its length field, its digits, cuts)
// for about two seconds. Any accepted file must only describe bytes inside the buffer.
TEST_CASE("safetensors: randomized header mutations (about 2 s)") {
  std::vector<SafetensorToWrite> model = SmallModel();
  model.push_back({"c", "BF16", {3, 1}, std::string(6, '\x11')});
  const std::string seed = SerializeSafetensors(model);
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<uint8_t>(seed[i]);
  const size_t header_end = 8 + header_len;
  std::mt19937_64 rng(12345);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(2000);
  const char kAlphabet[] = "0123456789[]{}\",:-.eE FIBU\\\x00\xff";
  size_t runs = 0, accepted = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    for (int batch = 0; batch < 64; ++batch, ++runs) {
      std::string bytes = seed;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) {
        switch (rng() % 6) {
          case 0:  // overwrite one header byte with a JSON-ish character
            if (bytes.size() > 8) {
              bytes[8 + rng() % (std::min(bytes.size(), header_end) - 8)] =
                  kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
            }
            break;
          case 1:  // random byte anywhere
            if (!bytes.empty()) bytes[rng() % bytes.size()] = static_cast<char>(rng());
            break;
          case 2:  // the header length field
            if (bytes.size() >= 8) bytes[rng() % 8] = static_cast<char>(rng());
            break;
          case 3:  // cut the file
            bytes.resize(rng() % (bytes.size() + 1));
            break;
          case 4: {  // change a digit inside the header (shapes, offsets)
            for (int tries = 0; tries < 20 && bytes.size() > 8; ++tries) {
              const size_t i = 8 + rng() % std::min(bytes.size() - 8, header_end - 8);
              if (bytes[i] >= '0' && bytes[i] <= '9') {
                bytes[i] = static_cast<char>('0' + rng() % 10);
                break;
              }
            }
            break;
          }
          default:  // insert a character into the header
            if (bytes.size() > 8) {
              bytes.insert(bytes.begin() + 8 + rng() % (bytes.size() - 8),
                           kAlphabet[rng() % (sizeof(kAlphabet) - 1)]);
            }
        }
      }
      std::unique_ptr<SafetensorsFile> file;
      const auto* base = reinterpret_cast<const uint8_t*>(bytes.data());
      if (!SafetensorsFile::Parse(base, bytes.size(), "fuzz", &file).ok()) continue;
      ++accepted;
      for (const auto& t : file->tensors()) {
        REQUIRE(t.data >= base);
        REQUIRE(t.data + t.num_bytes <= base + bytes.size());
        REQUIRE(t.num_bytes == t.num_elements * SafetensorsDtypeSize(t.dtype));
        std::vector<float> v;
        (void)file->ReadAsFloat(t, &v);
      }
    }
  }
  MESSAGE("mutated inputs: " << runs << ", accepted: " << accepted);
  CHECK(runs > 1000);
}

}  // namespace
}  // namespace emberdb::embedder
