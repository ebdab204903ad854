// The portable level: plain C++ for baseline x86-64 (or any CPU). Eight independent partial
// sums per row, combined in a fixed order, so the compiler may map them onto SSE lanes without
// changing a single rounding, and the result is the same on every machine.
#include <cstddef>
#include <cstdint>

#include "ann/kernel_dispatch.h"

namespace emberdb::ann {
namespace {

constexpr size_t kLanes = 8;

float Combine(const float* acc) {
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

void InnerProducts(const float* q, const float* base, size_t n, size_t dim, float* out) {
  for (size_t i = 0; i < n; ++i) {
    const float* v = base + i * dim;
    float acc[kLanes] = {};
    for (size_t j = 0; j < dim; j += kLanes) {
      const size_t m = dim - j < kLanes ? dim - j : kLanes;
      for (size_t l = 0; l < m; ++l) acc[l] += q[j + l] * v[j + l];
    }
    out[i] = Combine(acc);
  }
}

void SquaredL2(const float* q, const float* base, size_t n, size_t dim, float* out) {
  for (size_t i = 0; i < n; ++i) {
    const float* v = base + i * dim;
    float acc[kLanes] = {};
    for (size_t j = 0; j < dim; j += kLanes) {
      const size_t m = dim - j < kLanes ? dim - j : kLanes;
      for (size_t l = 0; l < m; ++l) {
        const float t = q[j + l] - v[j + l];
        acc[l] += t * t;
      }
    }
    out[i] = Combine(acc);
  }
}

void Sq8WeightedSums(const float* w, const uint8_t* codes, size_t n, size_t dim, float* out) {
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* c = codes + i * dim;
    float acc[kLanes] = {};
    for (size_t j = 0; j < dim; j += kLanes) {
      const size_t m = dim - j < kLanes ? dim - j : kLanes;
      for (size_t l = 0; l < m; ++l) acc[l] += w[j + l] * static_cast<float>(c[j + l]);
    }
    out[i] = Combine(acc);
  }
}

void Sq8SquaredL2(const float* a, const float* b, const uint8_t* codes, size_t n, size_t dim,
                  float* out) {
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* c = codes + i * dim;
    float acc[kLanes] = {};
    for (size_t j = 0; j < dim; j += kLanes) {
      const size_t m = dim - j < kLanes ? dim - j : kLanes;
      for (size_t l = 0; l < m; ++l) {
        const float t = a[j + l] - b[j + l] * static_cast<float>(c[j + l]);
        acc[l] += t * t;
      }
    }
    out[i] = Combine(acc);
  }
}

}  // namespace

const DistanceKernels& ScalarKernels() {
  static const DistanceKernels kernels{KernelLevel::kScalar, InnerProducts, SquaredL2,
                                       Sq8WeightedSums, Sq8SquaredL2};
  return kernels;
}

}  // namespace emberdb::ann
