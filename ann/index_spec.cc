// IndexSpec: parsing and printing the FAISS factory-style strings that name an index kind.
#include <charconv>
#include <string>

#include "ann/vector_index.h"

namespace emberdb::ann {
namespace {

constexpr uint32_t kMaxNlist = 1u << 20;
constexpr uint32_t kMaxPqM = 1024;

// Parses a run of decimal digits at the start of `s` into `value`; consumes them. Returns false
// when there are none, when there is a leading zero, or on overflow past `max`.
bool ConsumeNumber(std::string_view* s, uint32_t max, uint32_t* value, bool* present) {
  size_t digits = 0;
  while (digits < s->size() && (*s)[digits] >= '0' && (*s)[digits] <= '9') ++digits;
  *present = digits > 0;
  if (digits == 0) return true;
  if ((*s)[0] == '0') return false;  // "IVF0", "IVF012": no canonical meaning
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s->data(), s->data() + digits, v);
  if (ec != std::errc() || ptr != s->data() + digits || v > max) return false;
  *value = static_cast<uint32_t>(v);
  s->remove_prefix(digits);
  return true;
}

Status Invalid(std::string_view factory, std::string_view why) {
  return Status::InvalidArgument("index spec '" + std::string(factory) + "': " + std::string(why) +
                                 " (expected Flat, IVF[n],Flat, IVF[n],SQ8 or IVF[n],PQ<m>)");
}

}  // namespace

Status IndexSpec::Parse(std::string_view factory, IndexSpec* out) {
  IndexSpec spec;
  if (factory == "Flat") {
    spec.kind = Kind::kFlat;
    *out = spec;
    return Status::OK();
  }
  std::string_view rest = factory;
  if (rest.substr(0, 3) != "IVF") return Invalid(factory, "unknown index kind");
  rest.remove_prefix(3);
  bool present = false;
  if (!ConsumeNumber(&rest, kMaxNlist, &spec.nlist, &present)) {
    return Invalid(factory, "nlist must be an integer in 1.." + std::to_string(kMaxNlist));
  }
  if (rest.empty() || rest[0] != ',') return Invalid(factory, "missing ',' after IVF<nlist>");
  rest.remove_prefix(1);
  if (rest == "Flat") {
    spec.kind = Kind::kIvfFlat;
  } else if (rest == "SQ8") {
    spec.kind = Kind::kIvfSq8;
  } else if (rest.substr(0, 2) == "PQ") {
    rest.remove_prefix(2);
    if (!ConsumeNumber(&rest, kMaxPqM, &spec.pq_m, &present) || !present || !rest.empty()) {
      return Invalid(factory, "PQ needs a sub-quantizer count in 1.." + std::to_string(kMaxPqM));
    }
    spec.kind = Kind::kIvfPq;
  } else {
    return Invalid(factory, "unknown encoding after 'IVF,'");
  }
  *out = spec;
  return Status::OK();
}

std::string IndexSpec::ToString() const {
  if (kind == Kind::kFlat) return "Flat";
  std::string s = "IVF";
  if (nlist != 0) s += std::to_string(nlist);
  switch (kind) {
    case Kind::kIvfFlat:
      return s + ",Flat";
    case Kind::kIvfSq8:
      return s + ",SQ8";
    case Kind::kIvfPq:
      return s + ",PQ" + std::to_string(pq_m);
    case Kind::kFlat:
      break;
  }
  return s;
}

}  // namespace emberdb::ann
