#include "ann/xxhash64.h"

#include <cstring>

namespace emberdb::ann {
namespace {

constexpr uint64_t kPrime1 = 11400714785074694791ULL;
constexpr uint64_t kPrime2 = 14029467366897019727ULL;
constexpr uint64_t kPrime3 = 1609587929392839161ULL;
constexpr uint64_t kPrime4 = 9650029242287828579ULL;
constexpr uint64_t kPrime5 = 2870177450012600261ULL;

uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t Read64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));  // little-endian hosts only, like the snapshot format
  return v;
}

uint32_t Read32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

uint64_t Round(uint64_t acc, uint64_t input) {
  acc += input * kPrime2;
  acc = Rotl(acc, 31);
  return acc * kPrime1;
}

uint64_t MergeRound(uint64_t acc, uint64_t val) {
  acc ^= Round(0, val);
  return acc * kPrime1 + kPrime4;
}

// The tail (< 32 bytes) and final avalanche shared by the one-shot and streaming forms.
uint64_t Finish(uint64_t h, const unsigned char* p, const unsigned char* end) {
  while (p + 8 <= end) {
    h ^= Round(0, Read64(p));
    h = Rotl(h, 27) * kPrime1 + kPrime4;
    p += 8;
  }
  if (p + 4 <= end) {
    h ^= static_cast<uint64_t>(Read32(p)) * kPrime1;
    h = Rotl(h, 23) * kPrime2 + kPrime3;
    p += 4;
  }
  while (p < end) {
    h ^= static_cast<uint64_t>(*p) * kPrime5;
    h = Rotl(h, 11) * kPrime1;
    ++p;
  }
  h ^= h >> 33;
  h *= kPrime2;
  h ^= h >> 29;
  h *= kPrime3;
  h ^= h >> 32;
  return h;
}

uint64_t MergeAccumulators(const uint64_t acc[4]) {
  uint64_t h = Rotl(acc[0], 1) + Rotl(acc[1], 7) + Rotl(acc[2], 12) + Rotl(acc[3], 18);
  for (int i = 0; i < 4; ++i) h = MergeRound(h, acc[i]);
  return h;
}

// Consumes whole 32-byte stripes from p; returns where it stopped.
const unsigned char* ConsumeStripes(uint64_t acc[4], const unsigned char* p, size_t stripes) {
  for (size_t s = 0; s < stripes; ++s, p += 32) {
    acc[0] = Round(acc[0], Read64(p));
    acc[1] = Round(acc[1], Read64(p + 8));
    acc[2] = Round(acc[2], Read64(p + 16));
    acc[3] = Round(acc[3], Read64(p + 24));
  }
  return p;
}

}  // namespace

XxHash64Stream::XxHash64Stream(uint64_t seed)
    : seed_(seed), acc_{seed + kPrime1 + kPrime2, seed + kPrime2, seed, seed - kPrime1} {}

void XxHash64Stream::Update(const void* data, size_t len) {
  const auto* p = static_cast<const unsigned char*>(data);
  total_len_ += len;
  if (pending_len_ + len < 32) {
    if (len > 0) std::memcpy(pending_ + pending_len_, p, len);
    pending_len_ += len;
    return;
  }
  if (pending_len_ > 0) {
    const size_t fill = 32 - pending_len_;
    std::memcpy(pending_ + pending_len_, p, fill);
    ConsumeStripes(acc_, pending_, 1);
    p += fill;
    len -= fill;
    pending_len_ = 0;
  }
  p = ConsumeStripes(acc_, p, len / 32);
  pending_len_ = len % 32;
  if (pending_len_ > 0) std::memcpy(pending_, p, pending_len_);
}

uint64_t XxHash64Stream::Digest() const {
  uint64_t h = total_len_ >= 32 ? MergeAccumulators(acc_) : seed_ + kPrime5;
  h += total_len_;
  return Finish(h, pending_, pending_ + pending_len_);
}

uint64_t XxHash64(const void* data, size_t len, uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h;
  if (len >= 32) {
    uint64_t acc[4] = {seed + kPrime1 + kPrime2, seed + kPrime2, seed, seed - kPrime1};
    p = ConsumeStripes(acc, p, len / 32);
    h = MergeAccumulators(acc);
  } else {
    h = seed + kPrime5;
  }
  h += static_cast<uint64_t>(len);
  return Finish(h, p, static_cast<const unsigned char*>(data) + len);
}

}  // namespace emberdb::ann
