// Streaming snapshots: XxHash64Stream agrees with the one-shot hash however the input is cut;
// WriteIndexSnapshot / ReadIndexSnapshot round-trip every index kind through a file at an
// offset, produce the same bytes as Serialize, and turn damage or I/O failure into a Status.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "ann/index_snapshot.h"
#include "ann/vector_index.h"
#include "ann/xxhash64.h"
#include "synthetic_data.h"

using namespace emberdb::ann;
using namespace emberdb::ann::testing;

namespace {

constexpr uint32_t kDim = 32;
// Bytes the tests put before the snapshot, as db/ puts its own header there.
constexpr uint64_t kPrefix = 32;

std::unique_ptr<VectorIndex> BuildIndex(const char* factory, Metric metric, const Dataset& data) {
  IndexSpec spec;
  REQUIRE(IndexSpec::Parse(factory, &spec).ok());
  std::unique_ptr<VectorIndex> index;
  if (spec.kind == IndexSpec::Kind::kFlat) {
    index = NewFlatIndex(kDim, metric);
  } else {
    auto s = TrainIvfIndex(spec, kDim, metric, data.n, data.n, data.vectors.data(), &index);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  index->Add(data.n, data.labels.data(), data.vectors.data());
  std::vector<int64_t> gone = {data.labels[3], data.labels[100]};
  index->Remove(gone.size(), gone.data());
  index->set_default_nprobe(3);
  return index;
}

// A file in the system temp directory, removed at scope exit.
class TempFile {
 public:
  explicit TempFile(const std::string& tag)
      : path_((std::filesystem::temp_directory_path() /
               ("emberdb-snapstream-" + std::to_string(::getpid()) + "-" + tag))
                  .string()) {}
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

  std::string Contents() const {
    std::ifstream in(path_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void Replace(const std::string& bytes) const {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << bytes;
  }

 private:
  std::string path_;
};

// Writes `prefix` filler bytes then the snapshot; returns the snapshot's size.
uint64_t WriteToFile(const VectorIndex& index, const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  const std::string filler(kPrefix, 'p');
  REQUIRE(::pwrite(fd, filler.data(), filler.size(), 0) == static_cast<ssize_t>(kPrefix));
  uint64_t written = 0;
  auto s = WriteIndexSnapshot(index, fd, kPrefix, &written);
  ::close(fd);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return written;
}

emberdb::Status ReadFromFile(const std::string& path, uint64_t offset, uint64_t length,
                             std::unique_ptr<VectorIndex>* out) {
  int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  auto s = ReadIndexSnapshot(fd, offset, length, out);
  ::close(fd);
  return s;
}

void Results(const VectorIndex& index, const Dataset& q, std::vector<float>* d,
             std::vector<int64_t>* l) {
  d->resize(q.n * 10);
  l->resize(q.n * 10);
  SearchParams params;
  params.nprobe = 4;
  index.Search(q.n, q.vectors.data(), 10, params, d->data(), l->data());
}

}  // namespace

TEST_CASE("XxHash64Stream equals the one-shot XxHash64 for any chunking") {
  std::mt19937_64 rng(7);
  std::vector<unsigned char> data(5000);
  for (auto& b : data) b = static_cast<unsigned char>(rng());
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 100; ++n) lengths.push_back(n);
  for (size_t n : {127, 128, 129, 1000, 4096, 4999, 5000}) lengths.push_back(n);
  for (uint64_t seed : {uint64_t{0}, uint64_t{1}, ~uint64_t{0}, uint64_t{0x9e3779b97f4a7c15}}) {
    for (size_t len : lengths) {
      CAPTURE(seed);
      CAPTURE(len);
      const uint64_t expected = XxHash64(data.data(), len, seed);
      XxHash64Stream whole(seed);
      whole.Update(data.data(), len);
      CHECK(whole.Digest() == expected);
      // Random cuts, including empty pieces and pieces that straddle 32-byte stripes.
      for (int trial = 0; trial < 4; ++trial) {
        XxHash64Stream pieces(seed);
        size_t pos = 0;
        while (pos < len) {
          const size_t piece = std::min<size_t>(len - pos, rng() % (trial == 0 ? 3 : 70));
          pieces.Update(data.data() + pos, piece);
          pos += piece;
        }
        CHECK(pieces.Digest() == expected);
      }
      XxHash64Stream bytewise(seed);
      for (size_t i = 0; i < len; ++i) bytewise.Update(&data[i], 1);
      CHECK(bytewise.Digest() == expected);
    }
  }
  // Digest does not end the stream.
  XxHash64Stream s(0);
  s.Update(data.data(), 40);
  CHECK(s.Digest() == XxHash64(data.data(), 40, 0));
  s.Update(data.data() + 40, 60);
  CHECK(s.Digest() == XxHash64(data.data(), 100, 0));
}

TEST_CASE("WriteIndexSnapshot then ReadIndexSnapshot round-trips every kind through a file") {
  const Dataset data = GaussianMixture(5000, kDim, 20, 0.8f, true, 31);
  const Dataset queries = GaussianMixture(40, kDim, 20, 0.8f, true, 32);
  for (const char* factory : {"Flat", "IVF,Flat", "IVF32,SQ8", "IVF,PQ8"}) {
    for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
      CAPTURE(std::string(factory));
      auto index = BuildIndex(factory, metric, data);
      TempFile file("roundtrip");
      const uint64_t written = WriteToFile(*index, file.path());
      const std::string contents = file.Contents();
      REQUIRE(contents.size() == kPrefix + written);
      CHECK(contents.compare(0, kPrefix, std::string(kPrefix, 'p')) == 0);  // left alone
      // The streamed frame is byte-identical to the in-memory one.
      std::string serialized;
      REQUIRE(index->Serialize(&serialized).ok());
      CHECK(contents.substr(kPrefix) == serialized);

      std::unique_ptr<VectorIndex> loaded;
      auto s = ReadFromFile(file.path(), kPrefix, written, &loaded);
      REQUIRE_MESSAGE(s.ok(), s.ToString());
      CHECK(loaded->dimension() == kDim);
      CHECK(loaded->metric() == metric);
      CHECK(loaded->size() == index->size());
      CHECK(loaded->default_nprobe() == index->default_nprobe());
      CHECK(loaded->Stats().kind == index->Stats().kind);
      CHECK_FALSE(loaded->Contains(data.labels[100]));
      CHECK(loaded->Contains(data.labels[101]));
      std::vector<float> d1, d2;
      std::vector<int64_t> l1, l2;
      Results(*index, queries, &d1, &l1);
      Results(*loaded, queries, &d2, &l2);
      CHECK(l1 == l2);
      CHECK(d1 == d2);
    }
  }
}

TEST_CASE("streamed snapshots larger than the I/O buffer round-trip") {
  // Flat: one 2.5 MiB vector write bypasses the writer's buffer. IVF2: lists of ~1.3 MiB are
  // read straight into FAISS's arrays, past the reader's buffer.
  const Dataset data = GaussianMixture(20000, kDim, 2, 0.8f, false, 33);
  const Dataset queries = GaussianMixture(20, kDim, 2, 0.8f, false, 34);
  for (const char* factory : {"Flat", "IVF2,Flat"}) {
    CAPTURE(std::string(factory));
    auto index = BuildIndex(factory, Metric::kL2, data);
    TempFile file("large");
    const uint64_t written = WriteToFile(*index, file.path());
    CHECK(written > (uint64_t{5} << 19));
    std::string serialized;
    REQUIRE(index->Serialize(&serialized).ok());
    CHECK(file.Contents().substr(kPrefix) == serialized);
    std::unique_ptr<VectorIndex> loaded;
    auto s = ReadFromFile(file.path(), kPrefix, written, &loaded);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    std::vector<float> d1, d2;
    std::vector<int64_t> l1, l2;
    Results(*index, queries, &d1, &l1);
    Results(*loaded, queries, &d2, &l2);
    CHECK(l1 == l2);
    CHECK(d1 == d2);
  }
}

TEST_CASE("ReadIndexSnapshot reports Corruption for damaged files and wrong lengths") {
  const Dataset data = GaussianMixture(3000, kDim, 20, 0.8f, true, 35);
  for (const char* factory : {"Flat", "IVF,Flat", "IVF,SQ8", "IVF,PQ4"}) {
    CAPTURE(std::string(factory));
    auto index = BuildIndex(factory, Metric::kL2, data);
    TempFile file("damage");
    const uint64_t written = WriteToFile(*index, file.path());
    const std::string good = file.Contents();
    std::unique_ptr<VectorIndex> out;

    auto check_corrupt = [&](const std::string& bytes, uint64_t length) {
      file.Replace(bytes);
      auto s = ReadFromFile(file.path(), kPrefix, length, &out);
      CHECK_MESSAGE(s.IsCorruption(), s.ToString());
      CHECK(out == nullptr);
      return s;
    };
    // A flipped byte in each header field and spread over the payload.
    for (size_t pos :
         {size_t{0}, size_t{6}, size_t{8}, size_t{12}, size_t{24}, size_t{33}, size_t{41},
          size_t{50}, kSnapshotHeaderBytes, kSnapshotHeaderBytes + 9, written / 2, written - 1}) {
      CAPTURE(pos);
      std::string bad = good;
      bad[kPrefix + pos] = static_cast<char>(bad[kPrefix + pos] ^ 0x01);
      check_corrupt(bad, written);
    }
    {
      std::string bad = good;
      bad[kPrefix + written / 2] = static_cast<char>(bad[kPrefix + written / 2] ^ 0x40);
      auto s = check_corrupt(bad, written);
      CHECK(s.message().find("checksum") != std::string::npos);
    }
    // The file is cut short, while the caller still expects every byte...
    check_corrupt(good.substr(0, good.size() - 1), written);
    check_corrupt(good.substr(0, kPrefix + 20), written);
    // ...or is told the true, shorter length.
    check_corrupt(good.substr(0, good.size() - 1), written - 1);
    check_corrupt(good.substr(0, kPrefix + 20), 20);
    check_corrupt(good.substr(0, kPrefix), 0);
    // Lengths that disagree with the header, whatever the file holds.
    check_corrupt(good, written - 1);
    check_corrupt(good, written + 1);
    check_corrupt(good + "trailing", written + 8);
    auto s = check_corrupt(good, written + 1);
    CHECK(s.message().find("length") != std::string::npos);
    // The wrong offset: no snapshot starts there.
    file.Replace(good);
    CHECK(ReadFromFile(file.path(), 0, written, &out).IsCorruption());
    CHECK(ReadFromFile(file.path(), kPrefix + 1, written - 1, &out).IsCorruption());
    CHECK(out == nullptr);
    // The intact file still loads.
    REQUIRE(ReadFromFile(file.path(), kPrefix, written, &out).ok());
    CHECK(out->size() == index->size());
  }
}

TEST_CASE("snapshot I/O failures are IOError, not crashes") {
  const Dataset data = GaussianMixture(3000, kDim, 20, 0.8f, true, 36);
  for (const char* factory : {"Flat", "IVF,Flat"}) {
    CAPTURE(std::string(factory));
    auto index = BuildIndex(factory, Metric::kL2, data);
    TempFile file("ioerror");
    file.Replace("");
    int read_only = ::open(file.path().c_str(), O_RDONLY);
    REQUIRE(read_only >= 0);
    uint64_t written = 0;
    auto s = WriteIndexSnapshot(*index, read_only, 0, &written);
    ::close(read_only);
    CHECK_MESSAGE(s.IsIOError(), s.ToString());

    written = WriteToFile(*index, file.path());
    int write_only = ::open(file.path().c_str(), O_WRONLY);
    REQUIRE(write_only >= 0);
    std::unique_ptr<VectorIndex> out;
    s = ReadIndexSnapshot(write_only, kPrefix, written, &out);
    ::close(write_only);
    CHECK_MESSAGE(s.IsIOError(), s.ToString());
    CHECK(out == nullptr);
  }
}
