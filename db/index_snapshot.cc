// Index snapshots on disk and the change log that brings them up to date.
//
// File <db>/index/<cid>.idx:  "EMBSNAP1" | u64 change seq | u64 trained-at size |
//                              u64 payload bytes | payload (ann/'s self-checking serialization)
// written to <cid>.idx.tmp, fsynced, renamed over the old file, and the directory fsynced.
// The payload streams from the index to the file (and back) through ann/'s small buffers, so
// saving or loading an index costs O(buffer) memory beyond the index itself; the outer header,
// which needs the payload's length, is written last.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <mutex>

#include "db/catalog.h"
#include "db/index_manager.h"
#include "storage/keys.h"

namespace emberdb {
namespace {

using storage::Cf;

constexpr char kMagic[8] = {'E', 'M', 'B', 'S', 'N', 'A', 'P', '1'};
constexpr size_t kHeaderBytes = 32;

Status WriteAllAt(int fd, const char* p, size_t n, uint64_t offset, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::IOError("writing " + path + ": " + std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
  return Status::OK();
}

Status ReadAllAt(int fd, char* p, size_t n, uint64_t offset, const std::string& path) {
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, static_cast<off_t>(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::IOError("reading " + path + ": " + std::strerror(errno));
    }
    if (r == 0) return Status::Corruption("index snapshot " + path + " has no valid header");
    p += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return Status::OK();
}

// Closes the descriptor on every return path.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::string IndexManager::SnapshotPath() const {
  return env_.snapshot_dir + "/" + std::to_string(cid_) + ".idx";
}

void IndexManager::RemoveSnapshot() {
  std::error_code ec;
  std::filesystem::remove(SnapshotPath(), ec);
}

Status IndexManager::Save(const ann::VectorIndex& index, uint64_t seq, uint64_t trained_at,
                          std::shared_lock<std::shared_mutex>* lock) {
  std::error_code ec;
  std::filesystem::create_directories(env_.snapshot_dir, ec);
  const std::string path = SnapshotPath();
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("creating " + tmp + ": " + std::strerror(errno));
  uint64_t payload_bytes = 0;
  Status s = ann::WriteIndexSnapshot(index, fd, kHeaderBytes, &payload_bytes);
  if (!s.ok()) {
    s = s.WithContext(tmp);
  } else {
    std::string header(kMagic, sizeof kMagic);
    storage::AppendU64BE(&header, seq);
    storage::AppendU64BE(&header, trained_at);
    storage::AppendU64BE(&header, payload_bytes);
    s = WriteAllAt(fd, header.data(), header.size(), 0, tmp);
  }
  if (lock != nullptr) lock->unlock();  // the bytes are in the file; the index may change now
  if (s.ok() && ::fsync(fd) != 0) s = Status::IOError("fsync " + tmp + ": " + std::strerror(errno));
  ::close(fd);
  if (s.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    s = Status::IOError("renaming " + tmp + ": " + std::strerror(errno));
  }
  if (!s.ok()) {
    std::filesystem::remove(tmp, ec);
    return s;
  }
  int dir = ::open(env_.snapshot_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return Status::OK();
}

Status IndexManager::SaveIfChanged() { return SaveServing(/*only_if_changed=*/true); }

Status IndexManager::SaveServing(bool only_if_changed) {
  if (env_.store->read_only()) return Status::OK();
  std::lock_guard save_lock(save_mu_);  // one writer of the snapshot file at a time
  uint64_t seq;
  {
    std::shared_lock lock(mu_);
    if (trained_at_ == 0 || migrating_ != nullptr) return Status::OK();
    if (only_if_changed && applied_seq_ == saved_seq_) return Status::OK();
    seq = applied_seq_;
    EMBERDB_RETURN_IF_ERROR(Save(*index_, seq, trained_at_, &lock));
  }
  {
    std::unique_lock lock(mu_);
    saved_seq_ = std::max(saved_seq_, seq);
  }
  TrimChangeLog(seq);
  return Status::OK();
}

Status IndexManager::LoadSnapshot(uint64_t current_seq, std::unique_ptr<ann::VectorIndex>* out,
                                  uint64_t* trained_at, uint64_t* snapshot_seq) {
  const std::string path = SnapshotPath();
  FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) {
    if (errno == ENOENT) return Status::NotFound("no index snapshot at " + path);
    return Status::IOError("opening " + path + ": " + std::strerror(errno));
  }
  struct stat st;
  if (fstat(file.get(), &st) != 0) {
    return Status::IOError("stat " + path + ": " + std::strerror(errno));
  }
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  char header[kHeaderBytes];
  if (file_size < kHeaderBytes) {
    return Status::Corruption("index snapshot " + path + " has no valid header");
  }
  EMBERDB_RETURN_IF_ERROR(ReadAllAt(file.get(), header, kHeaderBytes, 0, path));
  if (std::memcmp(header, kMagic, sizeof kMagic) != 0) {
    return Status::Corruption("index snapshot " + path + " has no valid header");
  }
  const uint64_t seq = storage::ReadU64BE(header + 8);
  *snapshot_seq = seq;
  *trained_at = storage::ReadU64BE(header + 16);
  const uint64_t length = storage::ReadU64BE(header + 24);
  if (length != file_size - kHeaderBytes) {
    return Status::Corruption("index snapshot " + path + " is " + std::to_string(file_size) +
                              " bytes, its header promises " +
                              std::to_string(length + kHeaderBytes));
  }
  if (seq > current_seq) {
    return Status::Corruption("index snapshot " + path + " is newer than the data (sequence " +
                              std::to_string(seq) + " > " + std::to_string(current_seq) + ")");
  }
  if (seq < current_seq) {
    // The change log must still hold every change after the snapshot.
    std::string v;
    bool found = false;
    EMBERDB_RETURN_IF_ERROR(
        env_.store->Get(Cf::kChanges, storage::ChangeKey(cid_, seq + 1), &v, nullptr, &found));
    if (!found) {
      return Status::Corruption("index snapshot " + path + " is stale beyond the change log");
    }
  }
  std::unique_ptr<ann::VectorIndex> index;
  Status s = ann::ReadIndexSnapshot(file.get(), kHeaderBytes, length, &index);
  if (!s.ok()) return s.WithContext("index snapshot " + path);
  if (index->dimension() != options_.dimension || index->metric() != ann_metric_) {
    return Status::Corruption("index snapshot " + path + " belongs to another configuration");
  }
  uint64_t last = seq;
  EMBERDB_RETURN_IF_ERROR(CatchUp(index.get(), seq, &last));
  // The index must agree with storage exactly.
  Counters counters;
  EMBERDB_RETURN_IF_ERROR(ReadCounters(nullptr, &counters));
  const uint64_t count = counters.count;
  if (index->size() != count) {
    return Status::Corruption("index snapshot " + path + " holds " + std::to_string(index->size()) +
                              " vectors after replay, storage " + std::to_string(count));
  }
  *out = std::move(index);
  return Status::OK();
}

Status IndexManager::CatchUp(ann::VectorIndex* index, uint64_t from_seq, uint64_t* last_seq) {
  const uint32_t dim = options_.dimension;
  *last_seq = from_seq;
  auto it = env_.store->NewIterator(Cf::kChanges, storage::CollectionPrefix(cid_));
  it->Seek(storage::ChangeKey(cid_, from_seq + 1));
  // Adds are applied in chunks: a bulk load replayed after a long training can hold millions
  // of them, and their vectors must not all be in memory at once.
  constexpr size_t kChunk = 4096;
  std::vector<int64_t> adds;
  std::vector<int64_t> present;
  std::vector<float> vectors;
  auto flush_adds = [&]() -> Status {
    if (adds.empty()) return Status::OK();
    present.clear();
    vectors.resize(adds.size() * dim);
    // Fetch one by one so that a vector deleted later (its removal is replayed next) is skipped.
    for (int64_t label : adds) {
      bool found = false;
      EMBERDB_RETURN_IF_ERROR(
          FetchVectors(1, &label, vectors.data() + present.size() * dim, &found));
      if (found) present.push_back(label);
    }
    if (!present.empty()) index->Add(present.size(), present.data(), vectors.data());
    adds.clear();
    return Status::OK();
  };
  for (; it->Valid(); it->Next()) {
    std::string_view k = it->key(), v = it->value();
    if (k.size() != 12 || v.size() != 9) return Status::Corruption("malformed change log entry");
    const uint64_t seq = storage::ReadU64BE(k.data() + 4);
    const int64_t label = static_cast<int64_t>(storage::ReadU64BE(v.data() + 1));
    if (v[0] == kChangeAdd) {
      adds.push_back(label);
      if (adds.size() == kChunk) EMBERDB_RETURN_IF_ERROR(flush_adds());
    } else if (v[0] == kChangeRemove) {
      EMBERDB_RETURN_IF_ERROR(flush_adds());
      index->Remove(1, &label);
    } else {
      return Status::Corruption("unknown change log operation");
    }
    *last_seq = seq;
  }
  EMBERDB_RETURN_IF_ERROR(it->status());
  return flush_adds();
}

void IndexManager::TrimChangeLog(uint64_t up_to_seq) {
  if (env_.store->read_only() || up_to_seq == 0) return;
  storage::Batch batch = env_.store->NewBatch();
  batch.DeleteRange(Cf::kChanges, storage::ChangeKey(cid_, 0),
                    storage::ChangeKey(cid_, up_to_seq + 1));
  Status s = env_.store->Write(&batch, false);
  if (!s.ok())
    env_.log->Log("collection '" + name_ + "': trimming the change log: " + s.ToString());
}

}  // namespace emberdb
