// The vectorised element-wise kernels against straightforward double-precision versions.
#include "embedder/bert_kernels.h"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

namespace emberdb::embedder {
namespace {

TEST_CASE("bert kernels: erf and exp approximations are float-exact in practice") {
  double erf_err = 0, exp_rel = 0;
  for (double x = -10; x <= 10; x += 1e-4) {
    erf_err =
        std::max(erf_err, std::abs(ErfApprox(static_cast<float>(x)) - std::erf(double(float(x)))));
  }
  for (double x = -87; x <= 0; x += 1e-4) {
    const double want = std::exp(double(float(x)));
    exp_rel = std::max(exp_rel, std::abs(ExpNonPositive(static_cast<float>(x)) - want) / want);
  }
  MESSAGE("erf max abs error " << erf_err << ", exp max rel error " << exp_rel);
  CHECK(erf_err < 5e-7);
  CHECK(exp_rel < 3e-7);
  CHECK(ExpNonPositive(-1000.0f) < 1e-37f);
}

TEST_CASE("bert kernels: GELU, LayerNorm and masked softmax match double references") {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  const int rows = 3, cols = 77;  // odd width: exercises the vector loops' remainders
  std::vector<float> x(rows * cols), bias(cols), g(cols), b(cols);
  for (auto* v : {&x, &bias, &g, &b})
    for (float& f : *v) f = normal(rng);
  std::vector<float> gelu = x;
  AddBiasGelu(gelu.data(), bias.data(), rows, cols);
  for (int i = 0; i < rows * cols; ++i) {
    const double u = double(x[i]) + bias[i % cols];
    CHECK(gelu[i] == doctest::Approx(0.5 * u * (1 + std::erf(u / std::sqrt(2.0)))).epsilon(1e-5));
  }
  std::vector<float> ln = x, y(rows * cols, 0.5f);
  AddBiasResidualLayerNorm(ln.data(), y.data(), bias.data(), g.data(), b.data(), rows, cols,
                           1e-12f);
  for (int r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int i = 0; i < cols; ++i) mean += x[r * cols + i] + 0.5 + bias[i];
    mean /= cols;
    for (int i = 0; i < cols; ++i) var += std::pow(x[r * cols + i] + 0.5 + bias[i] - mean, 2);
    var /= cols;
    for (int i = 0; i < cols; ++i) {
      const double want =
          (x[r * cols + i] + 0.5 + bias[i] - mean) / std::sqrt(var + 1e-12) * g[i] + b[i];
      CHECK(ln[r * cols + i] == doctest::Approx(want).epsilon(1e-4));
    }
  }
  std::vector<uint8_t> mask(cols, 1);
  mask[3] = mask[40] = 0;
  std::vector<float> soft = x;
  SoftmaxRows(soft.data(), rows, cols, mask.data());
  for (int r = 0; r < rows; ++r) {
    double max = -1e300, sum = 0;
    for (int j = 0; j < cols; ++j)
      if (mask[j]) max = std::max(max, double(x[r * cols + j]));
    for (int j = 0; j < cols; ++j)
      if (mask[j]) sum += std::exp(x[r * cols + j] - max);
    for (int j = 0; j < cols; ++j) {
      const double want = mask[j] ? std::exp(x[r * cols + j] - max) / sum : 0.0;
      CHECK(soft[r * cols + j] == doctest::Approx(want).epsilon(1e-5));
      if (!mask[j]) CHECK(soft[r * cols + j] == 0.0f);
    }
  }
}

}  // namespace
}  // namespace emberdb::embedder
