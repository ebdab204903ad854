#include "ann/kernel_gemm.h"

#include <cblas.h>

#include <algorithm>
#include <vector>

#include "ann/kernel_dispatch.h"
#include "ann/scan_kernels.h"

namespace emberdb::ann {
namespace {

// Blocks bound the product buffer (kQueryBlock x kBaseBlock floats = 8 MiB) whatever nq and
// n; a base block of 8,192 x 768 floats is large enough for OpenBLAS to run at full speed.
constexpr size_t kQueryBlock = 256;
constexpr size_t kBaseBlock = 8192;

void SquaredNorms(const float* rows, size_t n, size_t dim, float* out) {
  const DistanceKernels& kernels = ActiveKernels();
  for (size_t i = 0; i < n; ++i) {
    const float* row = rows + i * dim;
    kernels.inner_products(row, row, 1, dim, out + i);
  }
}

}  // namespace

void GemmTopK(Metric metric, size_t nq, const float* queries, const float* base,
              const int64_t* labels, size_t n, size_t dim, size_t k, float* distances,
              int64_t* out_labels) {
  if (nq == 0 || k == 0) return;
  const bool l2 = metric == Metric::kL2;
  std::vector<float> products(std::min(nq, kQueryBlock) *
                              std::min(std::max<size_t>(n, 1), kBaseBlock));
  std::vector<float> query_norms(l2 ? nq : 0), base_norms(l2 ? std::min(n, kBaseBlock) : 0);
  if (l2) SquaredNorms(queries, nq, dim, query_norms.data());
  std::vector<TopK> tops;
  for (size_t q0 = 0; q0 < nq; q0 += kQueryBlock) {
    const size_t qb = std::min(kQueryBlock, nq - q0);
    tops.assign(qb, TopK(k));
    for (size_t b0 = 0; b0 < n; b0 += kBaseBlock) {
      const size_t nb = std::min(kBaseBlock, n - b0);
      const float* rows = base + b0 * dim;
      // products[i][j] = <query q0+i, row b0+j>
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(qb),
                  static_cast<blasint>(nb), static_cast<blasint>(dim), 1.0f, queries + q0 * dim,
                  static_cast<blasint>(dim), rows, static_cast<blasint>(dim), 0.0f, products.data(),
                  static_cast<blasint>(nb));
      if (l2) SquaredNorms(rows, nb, dim, base_norms.data());
#pragma omp parallel for if (qb > 1) schedule(static)
      for (size_t i = 0; i < qb; ++i) {
        const float* ip = products.data() + i * nb;
        TopK& top = tops[i];
        const float qn = l2 ? query_norms[q0 + i] : 0.0f;
        for (size_t j = 0; j < nb; ++j) {
          const float d = l2 ? std::max(0.0f, qn + base_norms[j] - 2.0f * ip[j]) : -ip[j];
          const int64_t label = labels[b0 + j];
          if (top.Admits(d, label)) top.Push(d, label);
        }
      }
    }
    for (size_t i = 0; i < qb; ++i) {
      tops[i].Extract(distances + (q0 + i) * k, out_labels + (q0 + i) * k);
    }
  }
}

void ExactTopK(Metric metric, size_t nq, const float* queries, const float* base,
               const int64_t* labels, size_t n, size_t dim, const LabelFilter* filter, size_t k,
               float* distances, int64_t* out_labels) {
  if (filter != nullptr || nq < GemmMinQueries(metric)) {
    ScanTopK(metric, nq, queries, base, labels, n, dim, filter, k, distances, out_labels);
  } else {
    GemmTopK(metric, nq, queries, base, labels, n, dim, k, distances, out_labels);
  }
}

}  // namespace emberdb::ann
