// The distance kernels at every dispatch level this machine supports (scalar always, AVX2 and
// AVX-512 where present) against a double-precision reference: float and SQ8, inner product
// and squared L2, odd dimensions and unaligned pointers. Plus the sgemm batch path against the
// per-query kernels.
#include "ann/scan_kernels.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ann/kernel_dispatch.h"
#include "ann/kernel_gemm.h"
#include "neighbour_compare.h"

namespace emberdb::ann {
namespace {

using testing::ExpectSameNeighbours;
using testing::ScopedLevel;

constexpr size_t kDims[] = {1, 3, 7, 15, 16, 17, 31, 100, 384, 768, 1023};
constexpr size_t kRows = 7;  // one block of four plus three single rows

// Float rounding of a dim-term sum: each step may lose half an ulp of the running magnitude,
// which is at most the sum of the absolute terms.
double Tolerance(size_t dim, double abs_sum) { return 1.2e-7 * (dim + 4) * abs_sum + 1e-30; }

std::vector<float> RandomFloats(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = gauss(rng);
  return v;
}

std::vector<uint8_t> RandomCodes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<uint8_t> v(n);
  for (uint8_t& x : v) x = static_cast<uint8_t>(byte(rng));
  return v;
}

TEST_CASE("kernel levels: scalar always supported, names round-trip, forcing switches") {
  const std::vector<KernelLevel> levels = SupportedKernelLevels();
  REQUIRE(!levels.empty());
  CHECK(levels.front() == KernelLevel::kScalar);
  for (size_t i = 1; i < levels.size(); ++i) CHECK(levels[i - 1] < levels[i]);
  for (KernelLevel level : {KernelLevel::kScalar, KernelLevel::kAvx2, KernelLevel::kAvx512}) {
    KernelLevel parsed;
    REQUIRE(ParseKernelLevel(KernelLevelName(level), &parsed));
    CHECK(parsed == level);
    const bool supported = std::find(levels.begin(), levels.end(), level) != levels.end();
    CHECK((KernelsAt(level) != nullptr) == supported);
    if (supported) {
      ScopedLevel scoped(level);
      CHECK(ActiveKernelLevel() == level);
      CHECK(KernelsAt(level)->level == level);
    } else {
      const KernelLevel before = ActiveKernelLevel();
      CHECK_FALSE(ForceKernelLevel(level));
      CHECK(ActiveKernelLevel() == before);
    }
  }
  KernelLevel parsed;
  CHECK_FALSE(ParseKernelLevel("AVX2", &parsed));
  CHECK_FALSE(ParseKernelLevel("", &parsed));
}

TEST_CASE("kernel levels: EMBERDB_SIMD caps the starting level, bad values are reported") {
  std::string warning;
  CHECK(ChooseInitialLevel(nullptr, KernelLevel::kAvx2, &warning) == KernelLevel::kAvx2);
  CHECK(warning.empty());
  CHECK(ChooseInitialLevel("", KernelLevel::kAvx512, &warning) == KernelLevel::kAvx512);
  CHECK(ChooseInitialLevel("scalar", KernelLevel::kAvx512, &warning) == KernelLevel::kScalar);
  CHECK(warning.empty());
  CHECK(ChooseInitialLevel("avx2", KernelLevel::kAvx512, &warning) == KernelLevel::kAvx2);
  CHECK(ChooseInitialLevel("avx512", KernelLevel::kAvx2, &warning) == KernelLevel::kAvx2);
  CHECK(warning.find("not supported") != std::string::npos);
  CHECK(ChooseInitialLevel("sse9", KernelLevel::kAvx2, &warning) == KernelLevel::kAvx2);
  CHECK(warning.find("sse9") != std::string::npos);
}

TEST_CASE("float kernels match a double reference at every level, any dim and alignment") {
  for (KernelLevel level : SupportedKernelLevels()) {
    const DistanceKernels& kernels = *KernelsAt(level);
    CAPTURE(KernelLevelName(level));
    for (size_t dim : kDims) {
      CAPTURE(dim);
      // One extra float in front makes both pointers 4 bytes off any vector alignment.
      std::vector<float> qbuf = RandomFloats(dim + 1, 11 + dim);
      std::vector<float> bbuf = RandomFloats(kRows * dim + 1, 97 + dim);
      const float* q = qbuf.data() + 1;
      const float* base = bbuf.data() + 1;
      std::vector<float> ip(kRows), l2(kRows);
      kernels.inner_products(q, base, kRows, dim, ip.data());
      kernels.squared_l2(q, base, kRows, dim, l2.data());
      for (size_t i = 0; i < kRows; ++i) {
        double ref_ip = 0, ref_l2 = 0, abs_ip = 0;
        for (size_t j = 0; j < dim; ++j) {
          const double a = q[j], b = base[i * dim + j];
          ref_ip += a * b;
          abs_ip += std::abs(a * b);
          ref_l2 += (a - b) * (a - b);
        }
        CHECK(std::abs(ip[i] - ref_ip) <= Tolerance(dim, abs_ip));
        CHECK(std::abs(l2[i] - ref_l2) <= Tolerance(dim, ref_l2));
        // A row's result does not depend on the rows computed with it.
        float alone_ip, alone_l2;
        kernels.inner_products(q, base + i * dim, 1, dim, &alone_ip);
        kernels.squared_l2(q, base + i * dim, 1, dim, &alone_l2);
        CHECK(alone_ip == ip[i]);
        CHECK(alone_l2 == l2[i]);
      }
    }
  }
}

TEST_CASE("SQ8 kernels match a double reference at every level, any dim and alignment") {
  for (KernelLevel level : SupportedKernelLevels()) {
    const DistanceKernels& kernels = *KernelsAt(level);
    CAPTURE(KernelLevelName(level));
    for (size_t dim : kDims) {
      CAPTURE(dim);
      std::vector<float> wbuf = RandomFloats(dim + 1, 5 + dim);
      std::vector<float> bbuf = RandomFloats(dim + 1, 6 + dim);
      for (float& b : bbuf) b /= 255.0f;  // the per-dimension step vdiff / 255
      // Codes one byte off alignment, and the last row ends exactly at the buffer's end so a
      // kernel reading past it would be caught by ASan.
      std::vector<uint8_t> cbuf = RandomCodes(kRows * dim + 1, 7 + dim);
      const float* w = wbuf.data() + 1;
      const float* b = bbuf.data() + 1;
      const uint8_t* codes = cbuf.data() + 1;
      std::vector<float> ip(kRows), l2(kRows);
      kernels.sq8_weighted_sums(w, codes, kRows, dim, ip.data());
      kernels.sq8_squared_l2(w, b, codes, kRows, dim, l2.data());
      for (size_t i = 0; i < kRows; ++i) {
        double ref_ip = 0, ref_l2 = 0, abs_ip = 0;
        for (size_t j = 0; j < dim; ++j) {
          const double c = codes[i * dim + j];
          ref_ip += w[j] * c;
          abs_ip += std::abs(w[j] * c);
          const double t = w[j] - double{b[j]} * c;
          ref_l2 += t * t;
        }
        CHECK(std::abs(ip[i] - ref_ip) <= Tolerance(dim, abs_ip));
        CHECK(std::abs(l2[i] - ref_l2) <= 2 * Tolerance(dim, ref_l2));
        float alone_ip, alone_l2;
        kernels.sq8_weighted_sums(w, codes + i * dim, 1, dim, &alone_ip);
        kernels.sq8_squared_l2(w, b, codes + i * dim, 1, dim, &alone_l2);
        CHECK(alone_ip == ip[i]);
        CHECK(alone_l2 == l2[i]);
      }
    }
  }
}

TEST_CASE("sgemm batch search equals the per-query kernels within rounding") {
  // Spans several query blocks (256) and base blocks (8,192) with ragged ends.
  const size_t dim = 33, n = 17000, nq = 300, k = 10;
  const std::vector<float> base = RandomFloats(n * dim, 1);
  const std::vector<float> queries = RandomFloats(nq * dim, 2);
  std::vector<int64_t> labels(n);
  for (size_t i = 0; i < n; ++i) labels[i] = static_cast<int64_t>(5 * i + 3);
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
    CAPTURE(static_cast<int>(metric));
    std::vector<float> dg(nq * k), ds(nq * k);
    std::vector<int64_t> lg(nq * k), ls(nq * k);
    GemmTopK(metric, nq, queries.data(), base.data(), labels.data(), n, dim, k, dg.data(),
             lg.data());
    ScanTopK(metric, nq, queries.data(), base.data(), labels.data(), n, dim, nullptr, k, ds.data(),
             ls.data());
    CHECK(ExpectSameNeighbours(nq, k, dg, lg, ds, ls, 1e-4) >= 0.99);
    // Deterministic: a second run is bit-for-bit identical.
    std::vector<float> dg2(nq * k);
    std::vector<int64_t> lg2(nq * k);
    GemmTopK(metric, nq, queries.data(), base.data(), labels.data(), n, dim, k, dg2.data(),
             lg2.data());
    CHECK(dg2 == dg);
    CHECK(lg2 == lg);
  }
  // Fewer rows than k: padding, like ScanTopK.
  std::vector<float> d(2 * 4);
  std::vector<int64_t> l(2 * 4);
  GemmTopK(Metric::kL2, 2, queries.data(), base.data(), labels.data(), 3, dim, 4, d.data(),
           l.data());
  for (size_t q = 0; q < 2; ++q) {
    CHECK(l[q * 4 + 3] == -1);
    CHECK(std::isinf(d[q * 4 + 3]));
    for (size_t j = 0; j < 3; ++j) CHECK(l[q * 4 + j] >= 0);
  }
}

}  // namespace
}  // namespace emberdb::ann
