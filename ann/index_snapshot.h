// The framing around every serialized index ("EMBIDX" snapshots), little-endian:
//
//   offset size
//     0     6   magic "EMBIDX"
//     6     2   format version (1)
//     8     1   kind (IndexSpec::Kind)       9  1  metric (Metric)     10  2  zero
//    12     4   dimension
//    16     4   nlist (0 for Flat)          20  4  pq_m (0 unless PQ)
//    24     4   default nprobe (signed)     28  4  zero
//    32     8   payload length
//    40     8   checksum: XXH64(payload, seed = XXH64(bytes 0..39, seed 0))
//    48     …   payload: faiss::write_index bytes (IVF) or FlatIndex::WritePayload (Flat)
//
// The checksum covers the header too, so a flipped kind or dimension is caught before FAISS
// parses a single byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ann/vector_index.h"

namespace emberdb::ann {

inline constexpr char kSnapshotMagic[6] = {'E', 'M', 'B', 'I', 'D', 'X'};
inline constexpr uint16_t kSnapshotVersion = 1;
inline constexpr size_t kSnapshotHeaderBytes = 48;

struct SnapshotHeader {
  IndexSpec::Kind kind = IndexSpec::Kind::kFlat;
  Metric metric = Metric::kL2;
  uint32_t dim = 0;
  uint32_t nlist = 0;
  uint32_t pq_m = 0;
  int32_t default_nprobe = 0;
};

// Replaces *out with header + payload.
void WriteSnapshot(const SnapshotHeader& header, std::string_view payload, std::string* out);

// Checks magic, version, field ranges, length and checksum; on success fills *header and
// points *payload into `bytes`.
Status ParseSnapshot(std::string_view bytes, SnapshotHeader* header, std::string_view* payload);

}  // namespace emberdb::ann
