// The framing around every serialized index ("EMBIDX" snapshots), little-endian:
//
//   offset size
//     0     6   magic "EMBIDX"
//     6     2   format version (2)
//     8     1   kind (IndexSpec::Kind)       9  1  metric (Metric)     10  2  zero
//    12     4   dimension
//    16     4   nlist (0 for Flat)          20  4  pq_m (0 unless PQ)
//    24     4   default nprobe (signed)     28  4  zero
//    32     8   payload length
//    40     8   payload checksum: XXH64(payload, seed 0)
//    48     8   header checksum: XXH64(bytes 0..47, seed 0)
//    56     …   payload: faiss::write_index bytes (IVF) or FlatIndex's payload (Flat)
//
// Why two checksums: the payload is hashed while it streams to disk, and the header (which
// needs the payload's length and hash) is written last at its offset, so a snapshot of any
// size is written in one pass with O(buffer) memory. The header checksum covers the payload
// hash, so together they protect every byte; a flipped kind or dimension is caught before
// FAISS parses a single byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ann/vector_index.h"

namespace emberdb::ann {

inline constexpr char kSnapshotMagic[6] = {'E', 'M', 'B', 'I', 'D', 'X'};
inline constexpr uint16_t kSnapshotVersion = 2;
inline constexpr size_t kSnapshotHeaderBytes = 56;

struct SnapshotHeader {
  IndexSpec::Kind kind = IndexSpec::Kind::kFlat;
  Metric metric = Metric::kL2;
  uint32_t dim = 0;
  uint32_t nlist = 0;
  uint32_t pq_m = 0;
  int32_t default_nprobe = 0;
};

// Replaces *out with header + payload (an in-memory frame; tests forge snapshots with it).
void WriteSnapshot(const SnapshotHeader& header, std::string_view payload, std::string* out);

// Checks magic, version, header checksum, field ranges, length and payload checksum; on
// success fills *header and points *payload into `bytes`.
Status ParseSnapshot(std::string_view bytes, SnapshotHeader* header, std::string_view* payload);

}  // namespace emberdb::ann
