// XXH64 (Yann Collet's xxHash, 64-bit variant), written out so that ann/ needs no extra
// library: it checksums index snapshots at memory speed. XxHash64 hashes one buffer;
// XxHash64Stream gives the same value for the same bytes fed in any number of pieces, so a
// snapshot can be checksummed while it is written or read in chunks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace emberdb::ann {

uint64_t XxHash64(const void* data, size_t len, uint64_t seed);

class XxHash64Stream {
 public:
  explicit XxHash64Stream(uint64_t seed = 0);

  void Update(const void* data, size_t len);
  // The hash of everything fed so far; does not end the stream.
  uint64_t Digest() const;

 private:
  uint64_t seed_;
  uint64_t total_len_ = 0;
  uint64_t acc_[4];
  unsigned char pending_[32];  // bytes not yet consumed by a full 32-byte stripe
  size_t pending_len_ = 0;
};

}  // namespace emberdb::ann
