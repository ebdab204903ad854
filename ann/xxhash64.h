// XXH64 (Yann Collet's xxHash, 64-bit variant), written out so that ann/ needs no extra
// library: it checksums index snapshots at memory speed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace emberdb::ann {

uint64_t XxHash64(const void* data, size_t len, uint64_t seed);

}  // namespace emberdb::ann
