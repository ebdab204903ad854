// Explicit CPU dispatch of ann/'s distance kernels. Every kernel exists at three levels: a
// portable scalar fallback, AVX2+FMA and AVX-512 (where the compiler can emit it). The best
// level the CPU (and OS) supports is chosen once, at first use; EMBERDB_SIMD=scalar|avx2|avx512
// in the environment caps it (for benchmarking), and tests force each level in turn.
//
// Determinism: at a fixed level every kernel computes row i with the same instructions in the
// same order whatever n, the row's position or the batch it belongs to, so a vector's distance
// never depends on where it sits in a list. Different levels round differently (lane order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace emberdb::ann {

enum class KernelLevel { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

const char* KernelLevelName(KernelLevel level);  // "scalar", "avx2", "avx512"
bool ParseKernelLevel(std::string_view name, KernelLevel* out);

// One level's kernels. Each writes n results, one per row of `dim` elements; rows are
// contiguous (float rows for the float kernels, byte rows for SQ8). No alignment required.
struct DistanceKernels {
  KernelLevel level;
  // out[i] = <q, base_i>
  void (*inner_products)(const float* q, const float* base, size_t n, size_t dim, float* out);
  // out[i] = |q - base_i|^2
  void (*squared_l2)(const float* q, const float* base, size_t n, size_t dim, float* out);
  // out[i] = sum_j w[j] * codes_i[j]  (SQ8 inner product once the query is folded into w)
  void (*sq8_weighted_sums)(const float* w, const uint8_t* codes, size_t n, size_t dim, float* out);
  // out[i] = sum_j (a[j] - b[j] * codes_i[j])^2  (SQ8 squared L2, query folded into a and b)
  void (*sq8_squared_l2)(const float* a, const float* b, const uint8_t* codes, size_t n, size_t dim,
                         float* out);
};

// The levels this machine can run, ascending; always starts with kScalar.
std::vector<KernelLevel> SupportedKernelLevels();

// The level to start with: `best`, capped by `env_value` (EMBERDB_SIMD's value; null or empty:
// no cap). An unknown name or a level above `best` keeps `best` and says why in `*warning`.
KernelLevel ChooseInitialLevel(const char* env_value, KernelLevel best, std::string* warning);

// The kernels of `level`, or nullptr when it is not compiled in or the CPU lacks it.
const DistanceKernels* KernelsAt(KernelLevel level);

// The kernels ann/ uses now (atomically swappable; cheap to call per scan).
const DistanceKernels& ActiveKernels();
inline KernelLevel ActiveKernelLevel() { return ActiveKernels().level; }

// Makes `level` the active one; false (and no change) when the machine cannot run it. For tests
// and benchmarks: searches running concurrently may use either level for a while.
bool ForceKernelLevel(KernelLevel level);

// The per-level tables (kernel_scalar.cc, kernel_avx2.cc, kernel_avx512.cc). The AVX tables
// exist whatever the CPU; call them only when SupportedKernelLevels lists the level.
const DistanceKernels& ScalarKernels();
const DistanceKernels& Avx2Kernels();
const DistanceKernels* Avx512Kernels();  // nullptr when the compiler cannot target AVX-512

}  // namespace emberdb::ann
