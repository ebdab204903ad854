// The AVX-512 level (AVX512F only): the AVX2 level's structure with 16-lane registers and
// mask-register tails. Four rows per block, two accumulators per row (even and odd 16-element
// chunks; the masked tail goes to the odd one), reduced in a fixed order.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ann/kernel_dispatch.h"

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*() (a self-initialised variable),
// which -Wmaybe-uninitialized reports at every inlined use (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define EMBERDB_AVX512 __attribute__((target("avx512f,avx2,fma")))
#define EMBERDB_AVX512_INLINE __attribute__((target("avx512f,avx2,fma"), always_inline)) inline

namespace emberdb::ann {
#if defined(__x86_64__) || defined(__i386__)
namespace {

constexpr int kRowsPerBlock = 4;

EMBERDB_AVX512_INLINE __mmask16 TailMask(size_t rem) {
  return static_cast<__mmask16>((1u << rem) - 1u);
}

// A fixed reduction tree (256-bit halves, then the AVX2 one) rather than _mm512_reduce_add_ps,
// whose expansion is up to the compiler.
EMBERDB_AVX512_INLINE float HorizontalSum(__m512 v) {
  const __m256 lo = _mm512_castps512_ps256(v);
  const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
  const __m256 a = _mm256_add_ps(lo, hi);
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  const __m128 h = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)));
}

EMBERDB_AVX512_INLINE __m512 LoadCodes(const uint8_t* c) {
  return _mm512_cvtepi32_ps(
      _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c))));
}

struct InnerProductOp {
  EMBERDB_AVX512_INLINE static __m512 Step(__m512 acc, __m512 x, __m512, __m512 y) {
    return _mm512_fmadd_ps(x, y, acc);
  }
};
struct SquaredL2Op {
  EMBERDB_AVX512_INLINE static __m512 Step(__m512 acc, __m512 x, __m512, __m512 y) {
    const __m512 t = _mm512_sub_ps(x, y);
    return _mm512_fmadd_ps(t, t, acc);
  }
};
struct Sq8SquaredL2Op {
  EMBERDB_AVX512_INLINE static __m512 Step(__m512 acc, __m512 x, __m512 z, __m512 y) {
    const __m512 t = _mm512_fnmadd_ps(z, y, x);  // a - b * c
    return _mm512_fmadd_ps(t, t, acc);
  }
};

template <class Op, int R>
EMBERDB_AVX512_INLINE void FloatRows(const float* q, const float* rows, size_t dim, float* out) {
  __m512 acc0[R], acc1[R];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) acc0[r] = acc1[r] = _mm512_setzero_ps();
  const __m512 none = _mm512_setzero_ps();
  size_t j = 0;
  for (; j + 32 <= dim; j += 32) {
    const __m512 x0 = _mm512_loadu_ps(q + j), x1 = _mm512_loadu_ps(q + j + 16);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      acc0[r] = Op::Step(acc0[r], x0, none, _mm512_loadu_ps(rows + r * dim + j));
      acc1[r] = Op::Step(acc1[r], x1, none, _mm512_loadu_ps(rows + r * dim + j + 16));
    }
  }
  if (j + 16 <= dim) {
    const __m512 x0 = _mm512_loadu_ps(q + j);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      acc0[r] = Op::Step(acc0[r], x0, none, _mm512_loadu_ps(rows + r * dim + j));
    }
    j += 16;
  }
  if (j < dim) {
    const __mmask16 mask = TailMask(dim - j);
    const __m512 x1 = _mm512_maskz_loadu_ps(mask, q + j);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      acc1[r] = Op::Step(acc1[r], x1, none, _mm512_maskz_loadu_ps(mask, rows + r * dim + j));
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) out[r] = HorizontalSum(_mm512_add_ps(acc0[r], acc1[r]));
}

template <class Op, int R>
EMBERDB_AVX512_INLINE void Sq8Rows(const float* x, const float* z, const uint8_t* rows, size_t dim,
                                   float* out) {
  __m512 acc0[R], acc1[R];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) acc0[r] = acc1[r] = _mm512_setzero_ps();
  size_t j = 0;
  for (; j + 32 <= dim; j += 32) {
    const __m512 x0 = _mm512_loadu_ps(x + j), x1 = _mm512_loadu_ps(x + j + 16);
    const __m512 z0 = _mm512_loadu_ps(z + j), z1 = _mm512_loadu_ps(z + j + 16);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      acc0[r] = Op::Step(acc0[r], x0, z0, LoadCodes(rows + r * dim + j));
      acc1[r] = Op::Step(acc1[r], x1, z1, LoadCodes(rows + r * dim + j + 16));
    }
  }
  if (j + 16 <= dim) {
    const __m512 x0 = _mm512_loadu_ps(x + j), z0 = _mm512_loadu_ps(z + j);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      acc0[r] = Op::Step(acc0[r], x0, z0, LoadCodes(rows + r * dim + j));
    }
    j += 16;
  }
  if (j < dim) {
    // Copy the code tail (a 16-byte load could run past the list's end); x and z are zero
    // beyond it, so the padding adds exactly zero.
    const __mmask16 mask = TailMask(dim - j);
    const __m512 x1 = _mm512_maskz_loadu_ps(mask, x + j);
    const __m512 z1 = _mm512_maskz_loadu_ps(mask, z + j);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      uint8_t tail[16] = {};
      std::memcpy(tail, rows + r * dim + j, dim - j);
      acc1[r] = Op::Step(acc1[r], x1, z1, LoadCodes(tail));
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) out[r] = HorizontalSum(_mm512_add_ps(acc0[r], acc1[r]));
}

template <class Op>
EMBERDB_AVX512 void FloatKernel(const float* q, const float* base, size_t n, size_t dim,
                                float* out) {
  size_t i = 0;
  for (; i + kRowsPerBlock <= n; i += kRowsPerBlock) {
    FloatRows<Op, kRowsPerBlock>(q, base + i * dim, dim, out + i);
  }
  for (; i < n; ++i) FloatRows<Op, 1>(q, base + i * dim, dim, out + i);
}

template <class Op>
EMBERDB_AVX512 void Sq8Kernel(const float* x, const float* z, const uint8_t* codes, size_t n,
                              size_t dim, float* out) {
  size_t i = 0;
  for (; i + kRowsPerBlock <= n; i += kRowsPerBlock) {
    Sq8Rows<Op, kRowsPerBlock>(x, z, codes + i * dim, dim, out + i);
  }
  for (; i < n; ++i) Sq8Rows<Op, 1>(x, z, codes + i * dim, dim, out + i);
}

EMBERDB_AVX512 void InnerProducts(const float* q, const float* base, size_t n, size_t dim,
                                  float* out) {
  FloatKernel<InnerProductOp>(q, base, n, dim, out);
}
EMBERDB_AVX512 void SquaredL2(const float* q, const float* base, size_t n, size_t dim, float* out) {
  FloatKernel<SquaredL2Op>(q, base, n, dim, out);
}
EMBERDB_AVX512 void Sq8WeightedSums(const float* w, const uint8_t* codes, size_t n, size_t dim,
                                    float* out) {
  Sq8Kernel<InnerProductOp>(w, w, codes, n, dim, out);
}
EMBERDB_AVX512 void Sq8SquaredL2(const float* a, const float* b, const uint8_t* codes, size_t n,
                                 size_t dim, float* out) {
  Sq8Kernel<Sq8SquaredL2Op>(a, b, codes, n, dim, out);
}

}  // namespace

const DistanceKernels* Avx512Kernels() {
  static const DistanceKernels kernels{KernelLevel::kAvx512, InnerProducts, SquaredL2,
                                       Sq8WeightedSums, Sq8SquaredL2};
  return &kernels;
}

#else  // no x86: dispatch never selects this level

const DistanceKernels* Avx512Kernels() { return nullptr; }

#endif
}  // namespace emberdb::ann
