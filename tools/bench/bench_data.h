// emberdb-bench data: synthetic clustered vectors or vectors read from .fvecs / .npy files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "emberdb/status.h"

namespace emberdb::bench {

struct Matrix {
  size_t rows = 0;
  uint32_t dim = 0;
  std::vector<float> data;  // rows * dim, row-major
  const float* row(size_t i) const { return data.data() + i * dim; }
};

// A Gaussian mixture with low intrinsic dimension, L2-normalised: point = centre_c + B_c z,
// where z ~ N(0, I_r) and B_c is a random dim x r basis per cluster. Real embeddings lie near
// low-dimensional manifolds; isotropic noise in 768-d would make every neighbour equidistant
// and IVF trivially easy. Deterministic for a given seed; queries use the same centres and a
// different seed.
struct SyntheticSpec {
  size_t rows = 0;
  uint32_t dim = 768;
  size_t clusters = 100;
  uint32_t intrinsic_dim = 16;
  float spread = 1.0f;  // within-cluster scale relative to the centres' scale
  uint64_t seed = 1;
  uint64_t centre_seed = 2026;
};
Matrix GenerateClustered(const SyntheticSpec& spec);
// `n` query vectors for base data generated from `base`: the same centres, another seed.
Matrix GenerateQueries(const SyntheticSpec& base, size_t n);

// Reads a .fvecs file (per vector: int32 dim, then dim float32) or a .npy file (float32,
// C order, 2-D). At most `limit` rows (0: all).
Status ReadVectors(const std::string& path, size_t limit, Matrix* out);

void NormaliseRows(Matrix* m);

}  // namespace emberdb::bench
