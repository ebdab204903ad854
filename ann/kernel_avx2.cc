// The AVX2+FMA level. Rows are processed four at a time so that each query load feeds four
// FMAs (one load per FMA would cap the scan at half the FMA throughput when the data is in
// cache). Each row keeps two 8-lane accumulators (even and odd 8-element chunks; a masked tail
// goes to the odd one), summed in a fixed order: the arithmetic of a row never depends on how
// many rows are processed with it. Functions carry target attributes rather than the file a
// compiler flag, so nothing here runs unless dispatch has checked the CPU.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ann/kernel_dispatch.h"

#define EMBERDB_AVX2 __attribute__((target("avx2,fma")))
#define EMBERDB_AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) inline

namespace emberdb::ann {
#if defined(__x86_64__) || defined(__i386__)
namespace {

constexpr int kRowsPerBlock = 4;

EMBERDB_AVX2_INLINE __m256i TailMask(size_t rem) {
  alignas(32) static const int32_t kBits[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                0,  0,  0,  0,  0,  0,  0,  0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kBits + 8 - rem));
}

EMBERDB_AVX2_INLINE float HorizontalSum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 h = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)));
}

EMBERDB_AVX2_INLINE __m256 LoadCodes(const uint8_t* c) {
  return _mm256_cvtepi32_ps(
      _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(c))));
}

struct InnerProductOp {
  EMBERDB_AVX2_INLINE static __m256 Step(__m256 acc, __m256 x, __m256, __m256 y) {
    return _mm256_fmadd_ps(x, y, acc);
  }
};
struct SquaredL2Op {
  EMBERDB_AVX2_INLINE static __m256 Step(__m256 acc, __m256 x, __m256, __m256 y) {
    const __m256 t = _mm256_sub_ps(x, y);
    return _mm256_fmadd_ps(t, t, acc);
  }
};
// SQ8 steps: x = w (or a), z = b, y = the converted codes. The weighted sum is
// InnerProductOp's step.
struct Sq8SquaredL2Op {
  EMBERDB_AVX2_INLINE static __m256 Step(__m256 acc, __m256 x, __m256 z, __m256 y) {
    const __m256 t = _mm256_fnmadd_ps(z, y, x);  // a - b * c
    return _mm256_fmadd_ps(t, t, acc);
  }
};

// R float rows against one query.
template <class Op, int R>
EMBERDB_AVX2_INLINE void FloatRows(const float* q, const float* rows, size_t dim, float* out) {
  __m256 acc0[R], acc1[R];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
  size_t j = 0;
  const __m256 none = _mm256_setzero_ps();
  for (; j + 16 <= dim; j += 16) {
    const __m256 x0 = _mm256_loadu_ps(q + j), x1 = _mm256_loadu_ps(q + j + 8);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      acc0[r] = Op::Step(acc0[r], x0, none, _mm256_loadu_ps(rows + r * dim + j));
      acc1[r] = Op::Step(acc1[r], x1, none, _mm256_loadu_ps(rows + r * dim + j + 8));
    }
  }
  if (j + 8 <= dim) {
    const __m256 x0 = _mm256_loadu_ps(q + j);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      acc0[r] = Op::Step(acc0[r], x0, none, _mm256_loadu_ps(rows + r * dim + j));
    }
    j += 8;
  }
  if (j < dim) {
    const __m256i mask = TailMask(dim - j);
    const __m256 x1 = _mm256_maskload_ps(q + j, mask);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      acc1[r] = Op::Step(acc1[r], x1, none, _mm256_maskload_ps(rows + r * dim + j, mask));
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) out[r] = HorizontalSum(_mm256_add_ps(acc0[r], acc1[r]));
}

// R SQ8 code rows against the folded query (x, z).
template <class Op, int R>
EMBERDB_AVX2_INLINE void Sq8Rows(const float* x, const float* z, const uint8_t* rows, size_t dim,
                                 float* out) {
  __m256 acc0[R], acc1[R];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
  size_t j = 0;
  for (; j + 16 <= dim; j += 16) {
    const __m256 x0 = _mm256_loadu_ps(x + j), x1 = _mm256_loadu_ps(x + j + 8);
    const __m256 z0 = _mm256_loadu_ps(z + j), z1 = _mm256_loadu_ps(z + j + 8);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      acc0[r] = Op::Step(acc0[r], x0, z0, LoadCodes(rows + r * dim + j));
      acc1[r] = Op::Step(acc1[r], x1, z1, LoadCodes(rows + r * dim + j + 8));
    }
  }
  if (j + 8 <= dim) {
    const __m256 x0 = _mm256_loadu_ps(x + j), z0 = _mm256_loadu_ps(z + j);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      acc0[r] = Op::Step(acc0[r], x0, z0, LoadCodes(rows + r * dim + j));
    }
    j += 8;
  }
  if (j < dim) {
    // Reading 8 code bytes could run past the list's end: copy the tail, zero-padded. The
    // masked x and z are zero there, so padding adds exactly zero.
    const __m256i mask = TailMask(dim - j);
    const __m256 x1 = _mm256_maskload_ps(x + j, mask), z1 = _mm256_maskload_ps(z + j, mask);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      uint8_t tail[8] = {};
      std::memcpy(tail, rows + r * dim + j, dim - j);
      acc1[r] = Op::Step(acc1[r], x1, z1, LoadCodes(tail));
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) out[r] = HorizontalSum(_mm256_add_ps(acc0[r], acc1[r]));
}

template <class Op>
EMBERDB_AVX2 void FloatKernel(const float* q, const float* base, size_t n, size_t dim, float* out) {
  size_t i = 0;
  for (; i + kRowsPerBlock <= n; i += kRowsPerBlock) {
    FloatRows<Op, kRowsPerBlock>(q, base + i * dim, dim, out + i);
  }
  for (; i < n; ++i) FloatRows<Op, 1>(q, base + i * dim, dim, out + i);
}

template <class Op>
EMBERDB_AVX2 void Sq8Kernel(const float* x, const float* z, const uint8_t* codes, size_t n,
                            size_t dim, float* out) {
  size_t i = 0;
  for (; i + kRowsPerBlock <= n; i += kRowsPerBlock) {
    Sq8Rows<Op, kRowsPerBlock>(x, z, codes + i * dim, dim, out + i);
  }
  for (; i < n; ++i) Sq8Rows<Op, 1>(x, z, codes + i * dim, dim, out + i);
}

EMBERDB_AVX2 void InnerProducts(const float* q, const float* base, size_t n, size_t dim,
                                float* out) {
  FloatKernel<InnerProductOp>(q, base, n, dim, out);
}
EMBERDB_AVX2 void SquaredL2(const float* q, const float* base, size_t n, size_t dim, float* out) {
  FloatKernel<SquaredL2Op>(q, base, n, dim, out);
}
EMBERDB_AVX2 void Sq8WeightedSums(const float* w, const uint8_t* codes, size_t n, size_t dim,
                                  float* out) {
  Sq8Kernel<InnerProductOp>(w, w, codes, n, dim, out);
}
EMBERDB_AVX2 void Sq8SquaredL2(const float* a, const float* b, const uint8_t* codes, size_t n,
                               size_t dim, float* out) {
  Sq8Kernel<Sq8SquaredL2Op>(a, b, codes, n, dim, out);
}

}  // namespace

const DistanceKernels& Avx2Kernels() {
  static const DistanceKernels kernels{KernelLevel::kAvx2, InnerProducts, SquaredL2,
                                       Sq8WeightedSums, Sq8SquaredL2};
  return kernels;
}

#else  // no x86: dispatch never selects this level

const DistanceKernels& Avx2Kernels() { return ScalarKernels(); }

#endif
}  // namespace emberdb::ann
