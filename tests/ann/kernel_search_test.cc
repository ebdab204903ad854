// Index searches at every kernel level: our SQ8 decoding against FAISS's sa_decode, the IVF-SQ8
// scan against FAISS's own IVF-SQ8 search of the very same index, and Flat / IVF-Flat against a
// double-precision brute force.
#include <doctest/doctest.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include <memory>
#include <string>
#include <vector>

#include "ann/index_snapshot.h"
#include "ann/kernel_dispatch.h"
#include "ann/sq8_scan.h"
#include "ann/vector_index.h"
#include "neighbour_compare.h"
#include "synthetic_data.h"

namespace emberdb::ann {
namespace {

using testing::Dataset;
using testing::ExpectSameNeighbours;
using testing::GaussianMixture;
using testing::ScopedLevel;

constexpr uint32_t kDim = 37;  // odd: every kernel runs its tail
constexpr size_t kBase = 6000;
constexpr size_t kQueries = 60;  // >= 20: FAISS and ann/ both assign lists with BLAS
constexpr size_t kK = 10;
constexpr int kNprobe = 6;

std::unique_ptr<VectorIndex> TrainSq8(const Dataset& base, Metric metric) {
  IndexSpec spec;
  REQUIRE(IndexSpec::Parse("IVF48,SQ8", &spec).ok());
  std::unique_ptr<VectorIndex> index;
  const Status s = TrainIvfIndex(spec, kDim, metric, base.n, base.n, base.vectors.data(), &index);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  index->Add(base.n, base.labels.data(), base.vectors.data());
  return index;
}

// FAISS's own copy of `index`, read back from its snapshot payload.
std::unique_ptr<faiss::IndexIVF> FaissCopy(const VectorIndex& index) {
  std::string bytes;
  REQUIRE(index.Serialize(&bytes).ok());
  REQUIRE(bytes.size() > kSnapshotHeaderBytes);
  faiss::VectorIOReader reader;
  reader.data.assign(bytes.begin() + kSnapshotHeaderBytes, bytes.end());
  std::unique_ptr<faiss::Index> raw(faiss::read_index(&reader));
  auto* ivf = dynamic_cast<faiss::IndexIVF*>(raw.get());
  REQUIRE(ivf != nullptr);
  raw.release();
  return std::unique_ptr<faiss::IndexIVF>(ivf);
}

TEST_CASE("SQ8 decoding equals FAISS's sa_decode (centroid + residual)") {
  for (faiss::MetricType metric : {faiss::METRIC_L2, faiss::METRIC_INNER_PRODUCT}) {
    const Dataset data = GaussianMixture(3000, kDim, 20, 0.5f, false, 3);
    faiss::IndexFlat quantizer(kDim, metric);
    faiss::IndexIVFScalarQuantizer ivf(&quantizer, kDim, 16, faiss::ScalarQuantizer::QT_8bit,
                                       metric, true);
    ivf.train(static_cast<faiss::Index::idx_t>(data.n), data.vectors.data());
    Sq8Codec codec;
    REQUIRE(Sq8Codec::FromFaiss(ivf.sq, &codec));
    REQUIRE(codec.dim() == kDim);
    const size_t n = 200;
    const size_t code_size = ivf.sa_code_size();
    std::vector<uint8_t> codes(n * code_size);
    ivf.sa_encode(n, data.vectors.data(), codes.data());
    std::vector<float> faiss_decoded(n * kDim);
    ivf.sa_decode(n, codes.data(), faiss_decoded.data());
    const size_t coarse = ivf.coarse_code_size();
    std::vector<float> residual(kDim);
    for (size_t i = 0; i < n; ++i) {
      const uint8_t* code = codes.data() + i * code_size;
      const auto list = ivf.decode_listno(code);
      REQUIRE(list >= 0);
      REQUIRE(list < 16);
      const float* centroid = quantizer.get_xb() + list * kDim;
      codec.Decode(code + coarse, residual.data());
      for (size_t j = 0; j < kDim; ++j) {
        const float ours = centroid[j] + residual[j];
        CHECK(std::abs(ours - faiss_decoded[i * kDim + j]) <=
              1e-6f * (1 + std::abs(faiss_decoded[i * kDim + j])));
      }
    }
  }
}

TEST_CASE("IVF-SQ8 search through our kernels equals FAISS's own SQ8 search at every level") {
  const Dataset queries = GaussianMixture(kQueries, kDim, 40, 0.6f, false, 8);
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
    CAPTURE(static_cast<int>(metric));
    const Dataset base = GaussianMixture(kBase, kDim, 40, 0.6f, false, 7);
    std::unique_ptr<VectorIndex> index = TrainSq8(base, metric);
    std::unique_ptr<faiss::IndexIVF> faiss_index = FaissCopy(*index);
    faiss_index->nprobe = kNprobe;
    std::vector<float> fd(kQueries * kK);
    std::vector<faiss::Index::idx_t> fl(kQueries * kK);
    faiss_index->search(kQueries, queries.vectors.data(), kK, fd.data(), fl.data());
    std::vector<int64_t> faiss_labels(fl.begin(), fl.end());
    if (metric == Metric::kInnerProduct) {
      for (float& d : fd) d = -d;  // the VectorIndex::Search convention
    }
    SearchParams params;
    params.nprobe = kNprobe;
    for (KernelLevel level : SupportedKernelLevels()) {
      CAPTURE(KernelLevelName(level));
      ScopedLevel scoped(level);
      std::vector<float> d(kQueries * kK), d2(kQueries * kK);
      std::vector<int64_t> l(kQueries * kK), l2(kQueries * kK);
      index->Search(kQueries, queries.vectors.data(), kK, params, d.data(), l.data());
      CHECK(ExpectSameNeighbours(kQueries, kK, d, l, fd, faiss_labels, 1e-5) >= 0.99);
      // Deterministic at a fixed level, and the filtered scan (row by row) computes the very
      // same distances as the block scan: a filter that keeps everything changes nothing.
      index->Search(kQueries, queries.vectors.data(), kK, params, d2.data(), l2.data());
      CHECK(d2 == d);
      CHECK(l2 == l);
      testing::SetFilter all(base.labels.begin(), base.labels.end());
      SearchParams filtered = params;
      filtered.filter = &all;
      index->Search(kQueries, queries.vectors.data(), kK, filtered, d2.data(), l2.data());
      CHECK(d2 == d);
      CHECK(l2 == l);
    }
  }
}

TEST_CASE("Flat and IVF-Flat search at every level equal a double-precision brute force") {
  const Dataset base = GaussianMixture(kBase, kDim, 40, 0.6f, false, 21);
  const Dataset queries = GaussianMixture(kQueries, kDim, 40, 0.6f, false, 22);
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
    CAPTURE(static_cast<int>(metric));
    std::vector<float> td(kQueries * kK);
    std::vector<int64_t> tl(kQueries * kK);
    for (size_t q = 0; q < kQueries; ++q) {
      std::vector<float> d;
      std::vector<int64_t> l;
      testing::BruteForce(base, metric, queries.vectors.data() + q * kDim, kK, nullptr, &d, &l);
      std::copy(d.begin(), d.end(), td.begin() + q * kK);
      std::copy(l.begin(), l.end(), tl.begin() + q * kK);
    }
    std::unique_ptr<VectorIndex> flat = NewFlatIndex(kDim, metric);
    flat->Add(base.n, base.labels.data(), base.vectors.data());
    IndexSpec spec;
    REQUIRE(IndexSpec::Parse("IVF48,Flat", &spec).ok());
    std::unique_ptr<VectorIndex> ivf;
    REQUIRE(TrainIvfIndex(spec, kDim, metric, base.n, base.n, base.vectors.data(), &ivf).ok());
    ivf->Add(base.n, base.labels.data(), base.vectors.data());
    SearchParams exhaustive;
    exhaustive.nprobe = 48;  // every list: IVF-Flat is then exact
    for (KernelLevel level : SupportedKernelLevels()) {
      CAPTURE(KernelLevelName(level));
      ScopedLevel scoped(level);
      for (size_t batch : {size_t{1}, size_t{3}, kQueries}) {  // kernels, then sgemm
        CAPTURE(batch);
        std::vector<float> d(kQueries * kK), di(kQueries * kK);
        std::vector<int64_t> l(kQueries * kK), li(kQueries * kK);
        for (size_t q0 = 0; q0 < kQueries; q0 += batch) {
          const size_t nb = std::min(batch, kQueries - q0);
          flat->Search(nb, queries.vectors.data() + q0 * kDim, kK, SearchParams{},
                       d.data() + q0 * kK, l.data() + q0 * kK);
          ivf->Search(nb, queries.vectors.data() + q0 * kDim, kK, exhaustive, di.data() + q0 * kK,
                      li.data() + q0 * kK);
        }
        CHECK(ExpectSameNeighbours(kQueries, kK, d, l, td, tl, 1e-5) >= 0.99);
        CHECK(ExpectSameNeighbours(kQueries, kK, di, li, td, tl, 1e-5) >= 0.99);
      }
    }
  }
}

TEST_CASE("IVF batches scanned list by list give the very bits of one-by-one searches") {
  const Dataset base = GaussianMixture(kBase, kDim, 40, 0.6f, false, 31);
  const Dataset queries = GaussianMixture(kQueries, kDim, 40, 0.6f, false, 32);
  for (const char* factory : {"IVF48,Flat", "IVF48,SQ8"}) {
    for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
      CAPTURE(factory);
      CAPTURE(static_cast<int>(metric));
      IndexSpec spec;
      REQUIRE(IndexSpec::Parse(factory, &spec).ok());
      std::unique_ptr<VectorIndex> index;
      REQUIRE(TrainIvfIndex(spec, kDim, metric, base.n, base.n, base.vectors.data(), &index).ok());
      index->Add(base.n, base.labels.data(), base.vectors.data());
      SearchParams params;
      params.nprobe = kNprobe;
      for (KernelLevel level : SupportedKernelLevels()) {
        CAPTURE(KernelLevelName(level));
        ScopedLevel scoped(level);
        std::vector<float> batch_d(kQueries * kK), one_d(kQueries * kK);
        std::vector<int64_t> batch_l(kQueries * kK), one_l(kQueries * kK);
        // Batches of >= 20 also take FAISS's BLAS coarse assignment; 10 and 1 take ours, so
        // compare 10-query batches (list by list) with single queries (query by query).
        for (size_t q0 = 0; q0 < kQueries; q0 += 10) {
          index->Search(10, queries.vectors.data() + q0 * kDim, kK, params,
                        batch_d.data() + q0 * kK, batch_l.data() + q0 * kK);
        }
        for (size_t q = 0; q < kQueries; ++q) {
          index->Search(1, queries.vectors.data() + q * kDim, kK, params, one_d.data() + q * kK,
                        one_l.data() + q * kK);
        }
        CHECK(batch_d == one_d);
        CHECK(batch_l == one_l);
      }
    }
  }
}

}  // namespace
}  // namespace emberdb::ann
