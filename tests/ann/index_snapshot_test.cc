// Serialize / LoadIndex: round trips give identical results; damaged bytes give Corruption.
#include "ann/index_snapshot.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "ann/vector_index.h"
#include "synthetic_data.h"

using namespace emberdb::ann;
using namespace emberdb::ann::testing;

namespace {

constexpr uint32_t kDim = 32;

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
  // Some removals so the lists are not in insertion order.
  std::vector<int64_t> gone = {data.labels[3], data.labels[100], data.labels[2000]};
  index->Remove(gone.size(), gone.data());
  return index;
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

TEST_CASE("Serialize then LoadIndex gives the same index for every kind") {
  const Dataset data = GaussianMixture(5000, kDim, 20, 0.8f, true, 21);
  const Dataset queries = GaussianMixture(50, kDim, 20, 0.8f, true, 22);
  for (const char* factory : {"Flat", "IVF,Flat", "IVF32,SQ8", "IVF,PQ8"}) {
    for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
      CAPTURE(std::string(factory));
      auto index = BuildIndex(factory, metric, data);
      index->set_default_nprobe(3);
      std::string bytes;
      REQUIRE(index->Serialize(&bytes).ok());
      CHECK(bytes.compare(0, 6, "EMBIDX") == 0);
      std::unique_ptr<VectorIndex> loaded;
      auto s = LoadIndex(bytes, &loaded);
      REQUIRE_MESSAGE(s.ok(), s.ToString());
      CHECK(loaded->dimension() == kDim);
      CHECK(loaded->metric() == metric);
      CHECK(loaded->size() == index->size());
      CHECK(loaded->default_nprobe() == index->default_nprobe());
      CHECK(loaded->Stats().kind == index->Stats().kind);
      CHECK(loaded->Stats().nlist == index->Stats().nlist);
      CHECK_FALSE(loaded->Contains(data.labels[100]));
      CHECK(loaded->Contains(data.labels[101]));
      std::vector<float> d1, d2;
      std::vector<int64_t> l1, l2;
      Results(*index, queries, &d1, &l1);
      Results(*loaded, queries, &d2, &l2);
      CHECK(l1 == l2);
      CHECK(d1 == d2);
      // The restored index stays mutable: removal and replacement work on it.
      const int64_t label = data.labels[7];
      loaded->Remove(1, &label);
      CHECK_FALSE(loaded->Contains(label));
      loaded->Add(1, &label, &data.vectors[7 * kDim]);
      CHECK(loaded->size() == index->size());
      // A second serialization of an unchanged index is byte-identical.
      std::string again;
      REQUIRE(index->Serialize(&again).ok());
      CHECK(again == bytes);
    }
  }
}

TEST_CASE("LoadIndex reports Corruption for damaged snapshots and never crashes") {
  const Dataset data = GaussianMixture(3000, kDim, 20, 0.8f, true, 23);
  for (const char* factory : {"Flat", "IVF,Flat", "IVF,SQ8", "IVF,PQ4"}) {
    CAPTURE(std::string(factory));
    auto index = BuildIndex(factory, Metric::kInnerProduct, data);
    std::string good;
    REQUIRE(index->Serialize(&good).ok());
    std::unique_ptr<VectorIndex> out;

    // Every header byte, then bytes spread over the payload.
    std::vector<size_t> positions;
    for (size_t i = 0; i < kSnapshotHeaderBytes; ++i) positions.push_back(i);
    for (size_t i = kSnapshotHeaderBytes; i < good.size(); i += good.size() / 97 + 1) {
      positions.push_back(i);
    }
    positions.push_back(good.size() - 1);
    for (size_t pos : positions) {
      std::string bad = good;
      bad[pos] = static_cast<char>(bad[pos] ^ 0x10);
      CAPTURE(pos);
      CHECK(LoadIndex(bad, &out).IsCorruption());
    }
    for (size_t len :
         {size_t{0}, size_t{5}, size_t{47}, size_t{48}, good.size() / 2, good.size() - 1}) {
      CAPTURE(len);
      CHECK(LoadIndex(std::string_view(good).substr(0, len), &out).IsCorruption());
    }
    CHECK(LoadIndex(good + "x", &out).IsCorruption());
    std::string magic = good;
    magic.replace(0, 6, "FAISSX");
    auto s = LoadIndex(magic, &out);
    CHECK(s.IsCorruption());
    CHECK(s.message().find("magic") != std::string::npos);
    CHECK(out == nullptr);
    CHECK(LoadIndex(good, &out).ok());
  }
}

TEST_CASE("LoadIndex rejects snapshots whose checksum is right but contents disagree") {
  const Dataset data = GaussianMixture(3000, kDim, 20, 0.8f, true, 24);
  auto ivf = BuildIndex("IVF16,Flat", Metric::kL2, data);
  std::string good;
  REQUIRE(ivf->Serialize(&good).ok());
  const std::string_view payload = std::string_view(good).substr(kSnapshotHeaderBytes);
  std::unique_ptr<VectorIndex> out;

  SnapshotHeader h;
  h.kind = IndexSpec::Kind::kIvfFlat;
  h.metric = Metric::kL2;
  h.dim = kDim;
  h.nlist = 16;
  h.default_nprobe = 4;
  std::string forged;
  {
    SnapshotHeader wrong = h;  // header claims SQ8 over an IVF-Flat payload
    wrong.kind = IndexSpec::Kind::kIvfSq8;
    WriteSnapshot(wrong, payload, &forged);
    CHECK(LoadIndex(forged, &out).IsCorruption());
  }
  {
    SnapshotHeader wrong = h;
    wrong.dim = kDim * 2;
    WriteSnapshot(wrong, payload, &forged);
    CHECK(LoadIndex(forged, &out).IsCorruption());
  }
  {
    SnapshotHeader wrong = h;
    wrong.metric = Metric::kInnerProduct;
    WriteSnapshot(wrong, payload, &forged);
    CHECK(LoadIndex(forged, &out).IsCorruption());
  }
  {
    SnapshotHeader wrong = h;
    wrong.nlist = 17;
    WriteSnapshot(wrong, payload, &forged);
    CHECK(LoadIndex(forged, &out).IsCorruption());
  }
  // FAISS bytes cut short or garbled, with a valid frame: FAISS throws, we report Corruption.
  WriteSnapshot(h, payload.substr(0, payload.size() / 3), &forged);
  CHECK(LoadIndex(forged, &out).IsCorruption());
  std::string garbled(payload);
  for (size_t i = 0; i < 64 && i < garbled.size(); ++i) garbled[i] = static_cast<char>(0xff);
  WriteSnapshot(h, garbled, &forged);
  CHECK(LoadIndex(forged, &out).IsCorruption());
  // A flat payload whose count disagrees with its length, or with a repeated label.
  SnapshotHeader flat;
  flat.kind = IndexSpec::Kind::kFlat;
  flat.dim = 2;
  std::string fp(8 + 2 * (8 + 8), '\0');
  uint64_t n = 3;
  std::memcpy(fp.data(), &n, 8);
  WriteSnapshot(flat, fp, &forged);
  CHECK(LoadIndex(forged, &out).IsCorruption());
  n = 2;
  std::memcpy(fp.data(), &n, 8);  // labels 0 and 0
  WriteSnapshot(flat, fp, &forged);
  CHECK(LoadIndex(forged, &out).IsCorruption());
  int64_t one = 1;
  std::memcpy(fp.data() + 16, &one, 8);
  WriteSnapshot(flat, fp, &forged);
  REQUIRE(LoadIndex(forged, &out).ok());
  CHECK(out->size() == 2);
}
