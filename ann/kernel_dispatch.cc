#include "ann/kernel_dispatch.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace emberdb::ann {
namespace {

bool CpuHas(KernelLevel level) {
#if defined(__x86_64__) || defined(__i386__)
  // Needed when this runs from a static initialiser, possibly before libgcc's own (idempotent).
  __builtin_cpu_init();
#else
  if (level != KernelLevel::kScalar) return false;
#endif
  switch (level) {
    case KernelLevel::kScalar:
      return true;
#if defined(__x86_64__) || defined(__i386__)
    case KernelLevel::kAvx2:
      // libgcc checks the OS saves the YMM/ZMM state (XCR0) as well as CPUID.
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case KernelLevel::kAvx512:
      return Avx512Kernels() != nullptr && __builtin_cpu_supports("avx512f") &&
             CpuHas(KernelLevel::kAvx2);
#else
    default:
      return false;
#endif
  }
  return false;
}

const DistanceKernels* InitialKernels() {
  std::string warning;
  const KernelLevel level =
      ChooseInitialLevel(std::getenv("EMBERDB_SIMD"), SupportedKernelLevels().back(), &warning);
  if (!warning.empty()) std::fprintf(stderr, "emberdb: %s\n", warning.c_str());
  return KernelsAt(level);
}

std::atomic<const DistanceKernels*>& ActiveSlot() {
  static std::atomic<const DistanceKernels*> slot{InitialKernels()};
  return slot;
}

// Read EMBERDB_SIMD when the program starts (a bad value is reported then, not at the first
// search); the function-local static above keeps any earlier static initialiser safe.
[[maybe_unused]] const bool kChosenAtStartup = ActiveSlot().load() != nullptr;

}  // namespace

const char* KernelLevelName(KernelLevel level) {
  switch (level) {
    case KernelLevel::kScalar:
      return "scalar";
    case KernelLevel::kAvx2:
      return "avx2";
    case KernelLevel::kAvx512:
      return "avx512";
  }
  return "unknown";
}

bool ParseKernelLevel(std::string_view name, KernelLevel* out) {
  for (KernelLevel level : {KernelLevel::kScalar, KernelLevel::kAvx2, KernelLevel::kAvx512}) {
    if (name == KernelLevelName(level)) {
      *out = level;
      return true;
    }
  }
  return false;
}

KernelLevel ChooseInitialLevel(const char* env_value, KernelLevel best, std::string* warning) {
  warning->clear();
  if (env_value == nullptr || *env_value == '\0') return best;
  KernelLevel wanted;
  if (!ParseKernelLevel(env_value, &wanted)) {
    *warning = std::string("EMBERDB_SIMD=") + env_value + " is not scalar, avx2 or avx512; using " +
               KernelLevelName(best);
    return best;
  }
  if (wanted > best) {
    *warning = std::string("EMBERDB_SIMD=") + env_value + " is not supported here; using " +
               KernelLevelName(best);
    return best;
  }
  return wanted;
}

std::vector<KernelLevel> SupportedKernelLevels() {
  std::vector<KernelLevel> levels;
  for (KernelLevel level : {KernelLevel::kScalar, KernelLevel::kAvx2, KernelLevel::kAvx512}) {
    if (CpuHas(level)) levels.push_back(level);
  }
  return levels;
}

const DistanceKernels* KernelsAt(KernelLevel level) {
  if (!CpuHas(level)) return nullptr;
  switch (level) {
    case KernelLevel::kScalar:
      return &ScalarKernels();
    case KernelLevel::kAvx2:
      return &Avx2Kernels();
    case KernelLevel::kAvx512:
      return Avx512Kernels();
  }
  return nullptr;
}

const DistanceKernels& ActiveKernels() { return *ActiveSlot().load(std::memory_order_acquire); }

bool ForceKernelLevel(KernelLevel level) {
  const DistanceKernels* kernels = KernelsAt(level);
  if (kernels == nullptr) return false;
  ActiveSlot().store(kernels, std::memory_order_release);
  return true;
}

}  // namespace emberdb::ann
