// Scanning FAISS's IndexIVFScalarQuantizer (QT_8bit) inverted lists with ann/'s own kernels.
// FAISS keeps the index, its training, direct map and serialization; only the list scan is
// ours, because Debian's FAISS decodes and compares one component at a time in scalar code.
//
// QT_8bit stores, per dimension i, vmin_i and vdiff_i (sq.trained = [vmin..., vdiff...]) and
// decodes code c_i as x_i = vmin_i + (c_i + 0.5) / 255 * vdiff_i; an IVF index encodes the
// residual to its list's centroid when by_residual (emberdb trains it so). The query is folded
// into per-dimension constants once, so the inner loop is a u8 -> f32 conversion and FMAs:
//   inner product: <q, centroid + x> = coarse_ip + sum_i q_i offset_i + sum_i w_i c_i,
//                  w_i = q_i vdiff_i / 255,  offset_i = vmin_i + 0.5 vdiff_i / 255
//   squared L2:    |r - x|^2 = sum_i (a_i - b_i c_i)^2,  r = q - centroid,
//                  a_i = r_i - offset_i,  b_i = vdiff_i / 255
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ann/scan_kernels.h"
#include "ann/vector_index.h"

namespace faiss {
struct ScalarQuantizer;
}

namespace emberdb::ann {

// The per-dimension decoding parameters of a QT_8bit quantizer.
class Sq8Codec {
 public:
  Sq8Codec(size_t dim, const float* vmin, const float* vdiff);
  // Reads a trained non-uniform QT_8bit quantizer; false for any other kind or shape.
  static bool FromFaiss(const faiss::ScalarQuantizer& sq, Sq8Codec* out);
  Sq8Codec() = default;

  size_t dim() const { return vmin_.size(); }
  // FAISS's decoding of one code (the residual when the index encodes by residual).
  void Decode(const uint8_t* code, float* out) const;

 private:
  friend class Sq8ListScanner;
  std::vector<float> vmin_, vdiff_;
  std::vector<float> offset_;  // vmin_i + 0.5 vdiff_i / 255
  std::vector<float> step_;    // vdiff_i / 255
};

// One query's scan of SQ8 lists. Distances are in the VectorIndex::Search convention.
class Sq8ListScanner {
 public:
  Sq8ListScanner(const Sq8Codec& codec, Metric metric, bool by_residual, const float* query);

  // Before scanning a list: its centroid (L2 residual) and <query, centroid> (inner product).
  void SetList(const float* centroid, float coarse_ip);
  // out[i] = distance of the query to code row i (rows of dim bytes).
  void Distances(const uint8_t* codes, size_t n, float* out) const;
  // Offers n codes labelled ids[i] to `top`, skipping those the filter rejects.
  void ScanInto(const uint8_t* codes, const int64_t* ids, size_t n, const LabelFilter* filter,
                TopK* top) const;
  // SetList + Distances without changing the scanner (so several threads may share it), with
  // the same bits; `scratch` holds dim floats.
  void ListDistances(const float* centroid, float coarse_ip, const uint8_t* codes, size_t n,
                     float* out, float* scratch) const;

 private:
  // The per-list constants: L2 writes a into `a` (dim floats); IP returns the constant.
  float ListConstants(const float* centroid, float coarse_ip, float* a) const;
  void Kernel(const float* a, float constant, const uint8_t* codes, size_t n, float* out) const;

  const Sq8Codec& codec_;
  Metric metric_;
  bool by_residual_;
  const float* query_;
  std::vector<float> a_;     // L2: r - offset; IP: w
  double ip_constant_ = 0;   // IP: sum_i q_i offset_i
  float list_constant_ = 0;  // IP: coarse_ip + ip_constant_
};

}  // namespace emberdb::ann
