#include "ann/index_snapshot.h"

#include <cstring>

#include "ann/flat_index.h"
#include "ann/ivf_index.h"
#include "ann/xxhash64.h"

namespace emberdb::ann {
namespace {

constexpr size_t kChecksumOffset = 40;
constexpr uint32_t kMaxDimension = 1u << 16;

template <typename T>
void Put(char* base, size_t offset, T value) {
  std::memcpy(base + offset, &value, sizeof(T));
}

template <typename T>
T Get(const char* base, size_t offset) {
  T value;
  std::memcpy(&value, base + offset, sizeof(T));
  return value;
}

uint64_t Checksum(const char* header, std::string_view payload) {
  const uint64_t header_hash = XxHash64(header, kChecksumOffset, 0);
  return XxHash64(payload.data(), payload.size(), header_hash);
}

}  // namespace

void WriteSnapshot(const SnapshotHeader& header, std::string_view payload, std::string* out) {
  out->assign(kSnapshotHeaderBytes, '\0');
  char* h = out->data();
  std::memcpy(h, kSnapshotMagic, sizeof(kSnapshotMagic));
  Put<uint16_t>(h, 6, kSnapshotVersion);
  Put<uint8_t>(h, 8, static_cast<uint8_t>(header.kind));
  Put<uint8_t>(h, 9, static_cast<uint8_t>(header.metric));
  Put<uint32_t>(h, 12, header.dim);
  Put<uint32_t>(h, 16, header.nlist);
  Put<uint32_t>(h, 20, header.pq_m);
  Put<int32_t>(h, 24, header.default_nprobe);
  Put<uint64_t>(h, 32, payload.size());
  Put<uint64_t>(h, kChecksumOffset, Checksum(h, payload));
  out->append(payload);
}

Status ParseSnapshot(std::string_view bytes, SnapshotHeader* header, std::string_view* payload) {
  if (bytes.size() < kSnapshotHeaderBytes) {
    return Status::Corruption("index snapshot truncated: " + std::to_string(bytes.size()) +
                              " bytes, header needs " + std::to_string(kSnapshotHeaderBytes));
  }
  const char* h = bytes.data();
  if (std::memcmp(h, kSnapshotMagic, sizeof(kSnapshotMagic)) != 0) {
    return Status::Corruption("index snapshot has bad magic (not an EMBIDX snapshot)");
  }
  const auto version = Get<uint16_t>(h, 6);
  if (version != kSnapshotVersion) {
    return Status::Corruption("index snapshot format version " + std::to_string(version) +
                              " is not supported (expected " + std::to_string(kSnapshotVersion) +
                              ")");
  }
  const uint64_t length = Get<uint64_t>(h, 32);
  if (length != bytes.size() - kSnapshotHeaderBytes) {
    return Status::Corruption("index snapshot payload length " + std::to_string(length) + " but " +
                              std::to_string(bytes.size() - kSnapshotHeaderBytes) +
                              " bytes present (truncated or trailing data)");
  }
  *payload = bytes.substr(kSnapshotHeaderBytes);
  if (Get<uint64_t>(h, kChecksumOffset) != Checksum(h, *payload)) {
    return Status::Corruption("index snapshot checksum mismatch");
  }
  const auto kind = Get<uint8_t>(h, 8);
  const auto metric = Get<uint8_t>(h, 9);
  header->dim = Get<uint32_t>(h, 12);
  header->nlist = Get<uint32_t>(h, 16);
  header->pq_m = Get<uint32_t>(h, 20);
  header->default_nprobe = Get<int32_t>(h, 24);
  if (kind > static_cast<uint8_t>(IndexSpec::Kind::kIvfPq) ||
      metric > static_cast<uint8_t>(Metric::kInnerProduct) || Get<uint16_t>(h, 10) != 0 ||
      Get<uint32_t>(h, 28) != 0 || header->dim == 0 || header->dim > kMaxDimension ||
      header->default_nprobe < 0) {
    return Status::Corruption("index snapshot header has out-of-range fields");
  }
  header->kind = static_cast<IndexSpec::Kind>(kind);
  header->metric = static_cast<Metric>(metric);
  const bool ivf = header->kind != IndexSpec::Kind::kFlat;
  if (ivf != (header->nlist > 0) ||
      (header->kind == IndexSpec::Kind::kIvfPq) != (header->pq_m > 0)) {
    return Status::Corruption("index snapshot header: nlist/pq_m do not fit the index kind");
  }
  return Status::OK();
}

Status LoadIndex(std::string_view bytes, std::unique_ptr<VectorIndex>* out) {
  SnapshotHeader header;
  std::string_view payload;
  EMBERDB_RETURN_IF_ERROR(ParseSnapshot(bytes, &header, &payload));
  if (header.kind == IndexSpec::Kind::kFlat) {
    return FlatIndex::ReadPayload(header.dim, header.metric, payload, out);
  }
  return IvfIndex::ReadPayload(header, payload, out);
}

}  // namespace emberdb::ann
