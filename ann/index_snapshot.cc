#include "ann/index_snapshot.h"

#include <faiss/impl/io.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <vector>

#include "ann/flat_index.h"
#include "ann/ivf_index.h"
#include "ann/xxhash64.h"

namespace emberdb::ann {
namespace {

constexpr size_t kPayloadLengthOffset = 32;
constexpr size_t kPayloadChecksumOffset = 40;
constexpr size_t kHeaderChecksumOffset = 48;
constexpr uint32_t kMaxDimension = 1u << 16;
// Reads and writes go through buffers of this size: large enough that syscalls cost nothing
// next to the copy, small enough not to matter next to an index.
constexpr size_t kChunkBytes = size_t{1} << 20;

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

void EncodeHeader(const SnapshotHeader& header, uint64_t payload_length, uint64_t payload_hash,
                  char* h) {
  std::memset(h, 0, kSnapshotHeaderBytes);
  std::memcpy(h, kSnapshotMagic, sizeof(kSnapshotMagic));
  Put<uint16_t>(h, 6, kSnapshotVersion);
  Put<uint8_t>(h, 8, static_cast<uint8_t>(header.kind));
  Put<uint8_t>(h, 9, static_cast<uint8_t>(header.metric));
  Put<uint32_t>(h, 12, header.dim);
  Put<uint32_t>(h, 16, header.nlist);
  Put<uint32_t>(h, 20, header.pq_m);
  Put<int32_t>(h, 24, header.default_nprobe);
  Put<uint64_t>(h, kPayloadLengthOffset, payload_length);
  Put<uint64_t>(h, kPayloadChecksumOffset, payload_hash);
  Put<uint64_t>(h, kHeaderChecksumOffset, XxHash64(h, kHeaderChecksumOffset, 0));
}

// Checks everything the header alone can tell; the payload length is checked by the caller,
// which knows how many bytes are there.
Status DecodeHeader(const char* h, SnapshotHeader* header, uint64_t* payload_length,
                    uint64_t* payload_hash) {
  if (std::memcmp(h, kSnapshotMagic, sizeof(kSnapshotMagic)) != 0) {
    return Status::Corruption("index snapshot has bad magic (not an EMBIDX snapshot)");
  }
  const auto version = Get<uint16_t>(h, 6);
  if (version != kSnapshotVersion) {
    return Status::Corruption("index snapshot format version " + std::to_string(version) +
                              " is not supported (expected " + std::to_string(kSnapshotVersion) +
                              ")");
  }
  if (Get<uint64_t>(h, kHeaderChecksumOffset) != XxHash64(h, kHeaderChecksumOffset, 0)) {
    return Status::Corruption("index snapshot header checksum mismatch");
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
  *payload_length = Get<uint64_t>(h, kPayloadLengthOffset);
  *payload_hash = Get<uint64_t>(h, kPayloadChecksumOffset);
  return Status::OK();
}

Status CheckPayloadLength(uint64_t promised, uint64_t present) {
  if (promised == present) return Status::OK();
  return Status::Corruption("index snapshot payload length " + std::to_string(promised) + " but " +
                            std::to_string(present) +
                            " bytes present (truncated or trailing data)");
}

Status WriteAt(int fd, const char* p, size_t n, uint64_t offset) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(std::string("writing index snapshot: ") + std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
  return Status::OK();
}

// Exactly n bytes at offset; a file that ends first is Corruption (the caller promised them).
Status ReadAt(int fd, char* p, size_t n, uint64_t offset) {
  while (n > 0) {
    const ssize_t r = ::pread(fd, p, n, static_cast<off_t>(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(std::string("reading index snapshot: ") + std::strerror(errno));
    }
    if (r == 0) {
      return Status::Corruption("index snapshot truncated: file ends at byte " +
                                std::to_string(offset));
    }
    p += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return Status::OK();
}

// Receives the payload from WritePayload, hashing it on the way. A failed write is recorded
// and reported as 0 items, which makes FAISS throw; the recorded Status then says why.
class PayloadWriter : public faiss::IOWriter {
 public:
  size_t operator()(const void* ptr, size_t size, size_t nitems) override {
    if (!status_.ok()) return 0;
    if (size == 0 || nitems == 0) return nitems;
    if (nitems > std::numeric_limits<size_t>::max() / size) {
      status_ = Status::InvalidArgument("index snapshot write larger than memory");
      return 0;
    }
    const size_t n = size * nitems;
    hash_.Update(ptr, n);
    if (!Sink(static_cast<const char*>(ptr), n)) return 0;
    bytes_ += n;
    return nitems;
  }
  uint64_t bytes() const { return bytes_; }
  uint64_t hash() const { return hash_.Digest(); }
  const Status& status() const { return status_; }

 protected:
  // Stores n bytes; on failure sets status_ and returns false.
  virtual bool Sink(const char* p, size_t n) = 0;
  Status status_;

 private:
  XxHash64Stream hash_;
  uint64_t bytes_ = 0;
};

// Appends to a string after the header's room.
class StringPayloadWriter final : public PayloadWriter {
 public:
  explicit StringPayloadWriter(std::string* out) : out_(out) {
    out_->assign(kSnapshotHeaderBytes, '\0');
  }

 private:
  bool Sink(const char* p, size_t n) override {
    out_->append(p, n);
    return true;
  }
  std::string* out_;
};

// Writes to a file from `start` on through one buffer; larger writes bypass it.
class FdPayloadWriter final : public PayloadWriter {
 public:
  FdPayloadWriter(int fd, uint64_t start) : fd_(fd), next_(start) { buffer_.reserve(kChunkBytes); }

  Status Finish() {
    if (status_.ok()) Flush();
    return status_;
  }

 private:
  bool Sink(const char* p, size_t n) override {
    if (buffer_.size() + n > kChunkBytes && !Flush()) return false;
    if (n >= kChunkBytes) return Write(p, n);
    buffer_.insert(buffer_.end(), p, p + n);
    return true;
  }
  bool Flush() {
    const bool ok = Write(buffer_.data(), buffer_.size());
    buffer_.clear();
    return ok;
  }
  bool Write(const char* p, size_t n) {
    status_ = WriteAt(fd_, p, n, next_);
    next_ += n;
    return status_.ok();
  }

  int fd_;
  uint64_t next_;
  std::vector<char> buffer_;
};

// FAISS reads a payload through one of these; consumed() tells whether it read every byte.
class PayloadReader : public faiss::IOReader {
 public:
  uint64_t consumed() const { return consumed_; }
  const Status& status() const { return status_; }

 protected:
  uint64_t consumed_ = 0;
  Status status_;
};

class StringViewReader final : public PayloadReader {
 public:
  explicit StringViewReader(std::string_view bytes) : bytes_(bytes) {}
  size_t operator()(void* ptr, size_t size, size_t nitems) override {
    if (size == 0 || nitems == 0) return 0;
    const size_t items = std::min<uint64_t>(nitems, (bytes_.size() - consumed_) / size);
    std::memcpy(ptr, bytes_.data() + consumed_, items * size);
    consumed_ += items * size;
    return items;
  }

 private:
  std::string_view bytes_;
};

// Reads [start, start + length) of a file through one buffer; larger reads bypass it.
class FdPayloadReader final : public PayloadReader {
 public:
  FdPayloadReader(int fd, uint64_t start, uint64_t length)
      : fd_(fd), next_(start), unread_(length), buffer_(kChunkBytes) {}

  size_t operator()(void* ptr, size_t size, size_t nitems) override {
    if (size == 0 || nitems == 0 || !status_.ok()) return 0;
    const uint64_t available = (end_ - pos_) + unread_;
    const size_t items = std::min<uint64_t>(nitems, available / size);
    size_t want = items * size;
    char* dst = static_cast<char*>(ptr);
    const size_t from_buffer = std::min(want, end_ - pos_);
    std::memcpy(dst, buffer_.data() + pos_, from_buffer);
    pos_ += from_buffer;
    dst += from_buffer;
    want -= from_buffer;
    if (want >= kChunkBytes) {
      if (!Read(dst, want)) return 0;
    } else if (want > 0) {
      const size_t fill = std::min<uint64_t>(kChunkBytes, unread_);  // >= want
      if (!Read(buffer_.data(), fill)) return 0;
      pos_ = 0;
      end_ = fill;
      std::memcpy(dst, buffer_.data(), want);
      pos_ = want;
    }
    consumed_ += items * size;
    return items;
  }

 private:
  bool Read(char* p, size_t n) {
    status_ = ReadAt(fd_, p, n, next_);
    next_ += n;
    unread_ -= n;
    return status_.ok();
  }

  int fd_;
  uint64_t next_;    // file offset of the first byte not yet read into memory
  uint64_t unread_;  // payload bytes not yet read into memory
  std::vector<char> buffer_;
  size_t pos_ = 0;  // buffer_[pos_, end_) is read but not yet handed out
  size_t end_ = 0;
};

// FAISS parses the (already verified) payload; every byte must be used.
Status RestoreIvf(const SnapshotHeader& header, PayloadReader* reader, uint64_t payload_length,
                  std::unique_ptr<VectorIndex>* out) {
  std::unique_ptr<VectorIndex> index;
  Status s = IvfIndex::ReadPayload(header, reader, &index);
  if (!reader->status().ok()) return reader->status();  // the read failure FAISS tripped over
  EMBERDB_RETURN_IF_ERROR(s);
  if (reader->consumed() != payload_length) {
    return Status::Corruption("index snapshot has bytes after the FAISS index");
  }
  *out = std::move(index);
  return Status::OK();
}

}  // namespace

Status VectorIndex::Serialize(std::string* out) const {
  StringPayloadWriter writer(out);
  SnapshotHeader header;
  Status s = WritePayload(&writer, &header);
  if (!writer.status().ok()) s = writer.status();
  if (!s.ok()) {
    out->clear();
    return s;
  }
  EncodeHeader(header, writer.bytes(), writer.hash(), out->data());
  return Status::OK();
}

Status WriteIndexSnapshot(const VectorIndex& index, int fd, uint64_t offset,
                          uint64_t* bytes_written) {
  FdPayloadWriter writer(fd, offset + kSnapshotHeaderBytes);
  SnapshotHeader header;
  Status s = index.WritePayload(&writer, &header);
  if (!writer.status().ok()) return writer.status();  // the write failure FAISS tripped over
  EMBERDB_RETURN_IF_ERROR(s);
  EMBERDB_RETURN_IF_ERROR(writer.Finish());
  char h[kSnapshotHeaderBytes];
  EncodeHeader(header, writer.bytes(), writer.hash(), h);
  EMBERDB_RETURN_IF_ERROR(WriteAt(fd, h, sizeof h, offset));
  *bytes_written = kSnapshotHeaderBytes + writer.bytes();
  return Status::OK();
}

void WriteSnapshot(const SnapshotHeader& header, std::string_view payload, std::string* out) {
  out->assign(kSnapshotHeaderBytes, '\0');
  EncodeHeader(header, payload.size(), XxHash64(payload.data(), payload.size(), 0), out->data());
  out->append(payload);
}

Status ParseSnapshot(std::string_view bytes, SnapshotHeader* header, std::string_view* payload) {
  if (bytes.size() < kSnapshotHeaderBytes) {
    return Status::Corruption("index snapshot truncated: " + std::to_string(bytes.size()) +
                              " bytes, header needs " + std::to_string(kSnapshotHeaderBytes));
  }
  uint64_t length = 0, hash = 0;
  EMBERDB_RETURN_IF_ERROR(DecodeHeader(bytes.data(), header, &length, &hash));
  EMBERDB_RETURN_IF_ERROR(CheckPayloadLength(length, bytes.size() - kSnapshotHeaderBytes));
  *payload = bytes.substr(kSnapshotHeaderBytes);
  if (XxHash64(payload->data(), payload->size(), 0) != hash) {
    return Status::Corruption("index snapshot checksum mismatch");
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
  StringViewReader reader(payload);
  return RestoreIvf(header, &reader, payload.size(), out);
}

Status ReadIndexSnapshot(int fd, uint64_t offset, uint64_t length,
                         std::unique_ptr<VectorIndex>* out) {
  if (length < kSnapshotHeaderBytes) {
    return Status::Corruption("index snapshot truncated: " + std::to_string(length) +
                              " bytes, header needs " + std::to_string(kSnapshotHeaderBytes));
  }
  char h[kSnapshotHeaderBytes];
  EMBERDB_RETURN_IF_ERROR(ReadAt(fd, h, sizeof h, offset));
  SnapshotHeader header;
  uint64_t payload_length = 0, payload_hash = 0;
  EMBERDB_RETURN_IF_ERROR(DecodeHeader(h, &header, &payload_length, &payload_hash));
  EMBERDB_RETURN_IF_ERROR(CheckPayloadLength(payload_length, length - kSnapshotHeaderBytes));
  const uint64_t start = offset + kSnapshotHeaderBytes;
  // The kernel reads ahead for both passes.
  ::posix_fadvise(fd, static_cast<off_t>(start), static_cast<off_t>(payload_length),
                  POSIX_FADV_SEQUENTIAL);

  if (header.kind == IndexSpec::Kind::kFlat) {
    // Flat snapshots are small (db/ saves only IVF ones): verify and parse in memory.
    if (payload_length > std::numeric_limits<size_t>::max() / 2) {
      return Status::Corruption("index snapshot payload does not fit in memory");
    }
    std::string payload(payload_length, '\0');
    EMBERDB_RETURN_IF_ERROR(ReadAt(fd, payload.data(), payload.size(), start));
    if (XxHash64(payload.data(), payload.size(), 0) != payload_hash) {
      return Status::Corruption("index snapshot checksum mismatch");
    }
    return FlatIndex::ReadPayload(header.dim, header.metric, payload, out);
  }

  // First pass: verify the checksum before FAISS parses a byte.
  std::vector<char> chunk(kChunkBytes);
  XxHash64Stream hash;
  for (uint64_t done = 0; done < payload_length;) {
    const size_t n = std::min<uint64_t>(kChunkBytes, payload_length - done);
    EMBERDB_RETURN_IF_ERROR(ReadAt(fd, chunk.data(), n, start + done));
    hash.Update(chunk.data(), n);
    done += n;
  }
  if (hash.Digest() != payload_hash) {
    return Status::Corruption("index snapshot checksum mismatch");
  }
  chunk = std::vector<char>();
  // Second pass: FAISS reads straight into the index's own arrays.
  FdPayloadReader reader(fd, start, payload_length);
  return RestoreIvf(header, &reader, payload_length, out);
}

}  // namespace emberdb::ann
