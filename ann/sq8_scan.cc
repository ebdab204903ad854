#include "ann/sq8_scan.h"

#include <faiss/impl/ScalarQuantizer.h>

#include <algorithm>

#include "ann/kernel_dispatch.h"

namespace emberdb::ann {

Sq8Codec::Sq8Codec(size_t dim, const float* vmin, const float* vdiff)
    : vmin_(vmin, vmin + dim), vdiff_(vdiff, vdiff + dim), offset_(dim), step_(dim) {
  for (size_t i = 0; i < dim; ++i) {
    step_[i] = vdiff_[i] / 255.0f;
    offset_[i] = vmin_[i] + 0.5f * step_[i];
  }
}

bool Sq8Codec::FromFaiss(const faiss::ScalarQuantizer& sq, Sq8Codec* out) {
  const size_t dim = sq.d;
  if (sq.qtype != faiss::ScalarQuantizer::QT_8bit || sq.code_size != dim ||
      sq.trained.size() != 2 * dim) {
    return false;
  }
  *out = Sq8Codec(dim, sq.trained.data(), sq.trained.data() + dim);
  return true;
}

void Sq8Codec::Decode(const uint8_t* code, float* out) const {
  for (size_t i = 0; i < dim(); ++i) {
    out[i] = vmin_[i] + (code[i] + 0.5f) / 255.0f * vdiff_[i];
  }
}

Sq8ListScanner::Sq8ListScanner(const Sq8Codec& codec, Metric metric, bool by_residual,
                               const float* query)
    : codec_(codec), metric_(metric), by_residual_(by_residual), query_(query), a_(codec.dim()) {
  const size_t dim = codec.dim();
  if (metric_ == Metric::kInnerProduct) {
    double constant = 0;
    for (size_t i = 0; i < dim; ++i) {
      a_[i] = query[i] * codec.step_[i];
      constant += static_cast<double>(query[i]) * codec.offset_[i];
    }
    ip_constant_ = constant;
    list_constant_ = static_cast<float>(constant);
  } else if (!by_residual_) {
    for (size_t i = 0; i < dim; ++i) a_[i] = query[i] - codec.offset_[i];
  }
}

float Sq8ListScanner::ListConstants(const float* centroid, float coarse_ip, float* a) const {
  if (metric_ == Metric::kInnerProduct) {
    return by_residual_ ? static_cast<float>(ip_constant_ + coarse_ip) : list_constant_;
  }
  if (by_residual_) {
    for (size_t i = 0; i < codec_.dim(); ++i) a[i] = (query_[i] - centroid[i]) - codec_.offset_[i];
  }
  return 0.0f;
}

void Sq8ListScanner::SetList(const float* centroid, float coarse_ip) {
  list_constant_ = ListConstants(centroid, coarse_ip, a_.data());
}

void Sq8ListScanner::Kernel(const float* a, float constant, const uint8_t* codes, size_t n,
                            float* out) const {
  const DistanceKernels& kernels = ActiveKernels();
  if (metric_ == Metric::kL2) {
    kernels.sq8_squared_l2(a, codec_.step_.data(), codes, n, codec_.dim(), out);
  } else {
    kernels.sq8_weighted_sums(a, codes, n, codec_.dim(), out);
    for (size_t i = 0; i < n; ++i) out[i] = -(constant + out[i]);
  }
}

void Sq8ListScanner::Distances(const uint8_t* codes, size_t n, float* out) const {
  Kernel(a_.data(), list_constant_, codes, n, out);
}

void Sq8ListScanner::ListDistances(const float* centroid, float coarse_ip, const uint8_t* codes,
                                   size_t n, float* out, float* scratch) const {
  // L2 by residual needs this list's a; otherwise a (L2: q - offset; IP: w) is the query's.
  const bool per_list_a = metric_ == Metric::kL2 && by_residual_;
  const float constant = ListConstants(centroid, coarse_ip, scratch);
  Kernel(per_list_a ? scratch : a_.data(), constant, codes, n, out);
}

void Sq8ListScanner::ScanInto(const uint8_t* codes, const int64_t* ids, size_t n,
                              const LabelFilter* filter, TopK* top) const {
  constexpr size_t kBlock = 256;  // distances computed per block, then offered to the heap
  float block[kBlock];
  const size_t dim = codec_.dim();
  for (size_t start = 0; start < n; start += kBlock) {
    const size_t m = std::min(kBlock, n - start);
    if (filter == nullptr) {
      Distances(codes + start * dim, m, block);
      for (size_t i = 0; i < m; ++i) {
        if (top->Admits(block[i], ids[start + i])) top->Push(block[i], ids[start + i]);
      }
    } else {
      for (size_t i = start; i < start + m; ++i) {
        if (!filter->Contains(ids[i])) continue;
        float dist;
        Distances(codes + i * dim, 1, &dist);
        if (top->Admits(dist, ids[i])) top->Push(dist, ids[i]);
      }
    }
  }
}

}  // namespace emberdb::ann
