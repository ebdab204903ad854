#include "embedder/bert_kernels.h"

#include <bit>
#include <cmath>
#include <cstring>

// Clones for AVX-512 and AVX2+FMA machines plus the portable baseline; `#pragma omp simd`
// (OpenMP is already linked) asks for vectorisation whatever the -O level's cost model says.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define EMBERDB_VECTOR_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define EMBERDB_VECTOR_CLONES
#endif

namespace emberdb::embedder {
namespace {

inline __attribute__((always_inline)) float Erf(float x) {
  // Eigen's generic_fast_erf_float: odd rational approximation, exact to float precision
  // on [-4, 4]; |erf(x)| rounds to 1 beyond.
  x = x < -4.0f ? -4.0f : (x > 4.0f ? 4.0f : x);
  const float z = x * x;
  float p = -2.72614225801306e-10f;
  p = p * z + 2.77068142495902e-08f;
  p = p * z + -2.10102402082508e-06f;
  p = p * z + -5.69250639462346e-05f;
  p = p * z + -7.34990630326855e-04f;
  p = p * z + -2.95459980854025e-03f;
  p = p * z + -1.60960333262415e-02f;
  p = p * x;
  float q = -1.45660718464996e-05f;
  q = q * z + -2.13374055278905e-04f;
  q = q * z + -1.68282697438203e-03f;
  q = q * z + -7.37332916720468e-03f;
  q = q * z + -1.42647390514189e-02f;
  return p / q;
}

inline __attribute__((always_inline)) float Exp(float x) {
  // Cephes expf: x = n ln2 + r, |r| <= ln2/2, degree-6 polynomial, then scale by 2^n.
  x = x > -87.3f ? x : -87.3f;
  // Round x·log2(e) to the nearest integer n with the 1.5·2^23 trick (no floor/convert, which
  // keep GCC from vectorising); n sits in the low mantissa bits of t.
  const float t = x * 1.44269504088896341f + 12582912.0f;
  const int32_t ni = std::bit_cast<int32_t>(t) - 0x4B400000;
  const float n = t - 12582912.0f;
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * r * r + r + 1.0f;
  return y * std::bit_cast<float>((ni + 127) << 23);
}

// Reductions with 16 explicit lanes: GCC vectorises these reliably, where `omp simd reduction`
// around inlined code sometimes stays scalar.
inline __attribute__((always_inline)) float RowMax(const float* x, int n) {
  float lanes[16];
  for (float& l : lanes) l = -INFINITY;
  int j = 0;
  for (; j + 16 <= n; j += 16)
    for (int k = 0; k < 16; ++k) lanes[k] = x[j + k] > lanes[k] ? x[j + k] : lanes[k];
  float m = -INFINITY;
  for (; j < n; ++j) m = x[j] > m ? x[j] : m;
  for (float l : lanes) m = l > m ? l : m;
  return m;
}

inline __attribute__((always_inline)) float RowSum(const float* x, int n) {
  float lanes[16] = {};
  int j = 0;
  for (; j + 16 <= n; j += 16)
    for (int k = 0; k < 16; ++k) lanes[k] += x[j + k];
  float s = 0.f;
  for (; j < n; ++j) s += x[j];
  for (float l : lanes) s += l;
  return s;
}

// HF LayerNorm: biased variance, eps inside the square root.
inline __attribute__((always_inline)) void LayerNorm(float* x, const float* g, const float* b,
                                                     int n, float eps) {
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (int i = 0; i < n; ++i) sum += x[i];
  const float mean = sum / static_cast<float>(n);
  float var = 0.f;
#pragma omp simd reduction(+ : var)
  for (int i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  const float inv = 1.0f / std::sqrt(var / static_cast<float>(n) + eps);
#pragma omp simd
  for (int i = 0; i < n; ++i) x[i] = (x[i] - mean) * inv * g[i] + b[i];
}

}  // namespace

float ErfApprox(float x) { return Erf(x); }
float ExpNonPositive(float x) { return Exp(x); }

EMBERDB_VECTOR_CLONES
void AddBias(float* x, const float* bias, size_t rows, int cols) {
  for (size_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
#pragma omp simd
    for (int i = 0; i < cols; ++i) row[i] += bias[i];
  }
}

EMBERDB_VECTOR_CLONES
void AddBiasGelu(float* x, const float* bias, size_t rows, int cols) {
  for (size_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
#pragma omp simd
    for (int i = 0; i < cols; ++i) {
      const float u = row[i] + bias[i];
      row[i] = 0.5f * u * (1.0f + Erf(u * 0.70710678118654752f));
    }
  }
}

EMBERDB_VECTOR_CLONES
void FillRows(float* y, const float* bias, const float* residual, size_t rows, int cols) {
  for (size_t r = 0; r < rows; ++r) {
    float* yr = y + r * cols;
    if (residual == nullptr) {
      std::memcpy(yr, bias, sizeof(float) * cols);
      continue;
    }
    const float* xr = residual + r * cols;
#pragma omp simd
    for (int i = 0; i < cols; ++i) yr[i] = xr[i] + bias[i];
  }
}

EMBERDB_VECTOR_CLONES
void GeluRows(float* x, size_t rows, int cols) {
  const size_t n = rows * static_cast<size_t>(cols);
#pragma omp simd
  for (size_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + Erf(x[i] * 0.70710678118654752f));
}

EMBERDB_VECTOR_CLONES
void AddBiasResidualLayerNorm(float* x, const float* y, const float* bias, const float* g,
                              const float* b, size_t rows, int cols, float eps) {
  for (size_t r = 0; r < rows; ++r) {
    float* xr = x + r * cols;
    const float* yr = y + r * cols;
#pragma omp simd
    for (int i = 0; i < cols; ++i) xr[i] = yr[i] + bias[i] + xr[i];
    LayerNorm(xr, g, b, cols, eps);
  }
}

EMBERDB_VECTOR_CLONES
void LayerNormRows(float* x, const float* g, const float* b, size_t rows, int cols, float eps) {
  for (size_t r = 0; r < rows; ++r) LayerNorm(x + r * cols, g, b, cols, eps);
}

EMBERDB_VECTOR_CLONES
void SoftmaxRows(float* s, size_t rows, int n, const uint8_t* mask) {
  bool all_real = true;
  for (int j = 0; mask != nullptr && j < n; ++j) all_real &= mask[j] != 0;
  for (size_t r = 0; r < rows; ++r) {
    float* row = s + r * n;
    if (!all_real) {
      for (int j = 0; j < n; ++j) row[j] = mask[j] ? row[j] : -INFINITY;
    }
    const float max = RowMax(row, n);
#pragma omp simd
    for (int j = 0; j < n; ++j) row[j] = Exp(row[j] - max);
    float sum = RowSum(row, n);
    if (!all_real) {
      // exp(-inf) must be exactly 0, which the clamped polynomial does not give.
      sum = 0.f;
      for (int j = 0; j < n; ++j) {
        row[j] = mask[j] ? row[j] : 0.0f;
        sum += row[j];
      }
    }
    const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;  // a row with no real key: all 0
#pragma omp simd
    for (int j = 0; j < n; ++j) row[j] *= inv;
  }
}

}  // namespace emberdb::embedder
