#include "bench_data.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

namespace emberdb::bench {

void NormaliseRows(Matrix* m) {
  for (size_t i = 0; i < m->rows; ++i) {
    float* v = m->data.data() + i * m->dim;
    double norm = 0;
    for (uint32_t j = 0; j < m->dim; ++j) norm += double{v[j]} * v[j];
    if (norm <= 0) continue;
    const float inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (uint32_t j = 0; j < m->dim; ++j) v[j] *= inv;
  }
}

Matrix GenerateClustered(const SyntheticSpec& spec) {
  const uint32_t d = spec.dim, r = spec.intrinsic_dim;
  std::mt19937_64 crng(spec.centre_seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  // Centres ~ N(0, 1) per coordinate; bases scaled so the in-cluster offset has the same
  // expected norm as a centre, times `spread`.
  std::vector<float> centres(spec.clusters * d), bases(spec.clusters * d * r);
  for (float& c : centres) c = gauss(crng);
  const float basis_scale = spec.spread / std::sqrt(static_cast<float>(r));
  for (float& b : bases) b = gauss(crng) * basis_scale;
  Matrix m;
  m.rows = spec.rows;
  m.dim = d;
  m.data.resize(spec.rows * d);
  std::mt19937_64 rng(spec.seed);
  std::uniform_int_distribution<size_t> pick(0, spec.clusters - 1);
  std::vector<float> z(r);
  for (size_t i = 0; i < spec.rows; ++i) {
    const size_t c = pick(rng);
    for (float& x : z) x = gauss(rng);
    float* v = m.data.data() + i * d;
    const float* basis = bases.data() + c * d * r;
    for (uint32_t j = 0; j < d; ++j) {
      float acc = centres[c * d + j];
      for (uint32_t t = 0; t < r; ++t) acc += basis[j * r + t] * z[t];
      v[j] = acc;
    }
  }
  NormaliseRows(&m);
  return m;
}

Matrix GenerateQueries(const SyntheticSpec& base, size_t n) {
  SyntheticSpec spec = base;
  spec.rows = n;
  spec.seed = base.seed + 1000003;
  return GenerateClustered(spec);
}

namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Status ReadFvecs(const std::string& path, size_t limit, Matrix* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open " + path);
  Matrix m;
  for (;;) {
    if (limit != 0 && m.rows == limit) break;
    int32_t d = 0;
    if (!in.read(reinterpret_cast<char*>(&d), sizeof(d))) break;
    if (d <= 0 || d > 65536 || (m.rows > 0 && static_cast<uint32_t>(d) != m.dim)) {
      return Status::Corruption(path + ": bad or inconsistent dimension " + std::to_string(d) +
                                " at vector " + std::to_string(m.rows));
    }
    m.dim = static_cast<uint32_t>(d);
    m.data.resize((m.rows + 1) * m.dim);
    if (!in.read(reinterpret_cast<char*>(m.data.data() + m.rows * m.dim), d * sizeof(float))) {
      return Status::Corruption(path + ": truncated vector " + std::to_string(m.rows));
    }
    ++m.rows;
  }
  if (m.rows == 0) return Status::Corruption(path + ": no vectors");
  *out = std::move(m);
  return Status::OK();
}

// NumPy format 1.0/2.0/3.0: magic, version, header length, a Python dict literal header.
Status ReadNpy(const std::string& path, size_t limit, Matrix* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open " + path);
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    return Status::Corruption(path + ": not a .npy file");
  }
  uint32_t header_len = 0;
  if (magic[6] == 1) {
    uint16_t h16;
    if (!in.read(reinterpret_cast<char*>(&h16), 2)) return Status::Corruption(path + ": short");
    header_len = h16;
  } else {
    if (!in.read(reinterpret_cast<char*>(&header_len), 4)) {
      return Status::Corruption(path + ": short");
    }
  }
  if (header_len > (1u << 20)) return Status::Corruption(path + ": header too long");
  std::string header(header_len, '\0');
  if (!in.read(header.data(), header_len)) return Status::Corruption(path + ": short header");
  if (header.find("'descr': '<f4'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos) {
    return Status::NotSupported(path + ": only little-endian float32 C-order arrays (<f4)");
  }
  const size_t shape_at = header.find("'shape': (");
  if (shape_at == std::string::npos) return Status::Corruption(path + ": no shape");
  size_t rows = 0, dim = 0;
  if (std::sscanf(header.c_str() + shape_at, "'shape': (%zu, %zu)", &rows, &dim) != 2 || dim == 0 ||
      dim > 65536) {
    return Status::NotSupported(path + ": expected a 2-D array");
  }
  if (limit != 0 && rows > limit) rows = limit;
  Matrix m;
  m.rows = rows;
  m.dim = static_cast<uint32_t>(dim);
  m.data.resize(rows * dim);
  if (!in.read(reinterpret_cast<char*>(m.data.data()), rows * dim * sizeof(float))) {
    return Status::Corruption(path + ": truncated data");
  }
  *out = std::move(m);
  return Status::OK();
}

}  // namespace

Status ReadVectors(const std::string& path, size_t limit, Matrix* out) {
  if (EndsWith(path, ".fvecs")) return ReadFvecs(path, limit, out);
  if (EndsWith(path, ".npy")) return ReadNpy(path, limit, out);
  return Status::InvalidArgument(path + ": expected a .fvecs or .npy file");
}

}  // namespace emberdb::bench
