#include "bench_bandwidth.h"

#include <faiss/IndexIVF.h>

#include <algorithm>
#include <vector>

#include "ann/vector_index.h"

namespace emberdb::bench {

uint64_t CodeBytes(const std::string& kind, uint32_t dim) {
  ann::IndexSpec spec;
  if (!ann::IndexSpec::Parse(kind, &spec).ok()) return 0;
  switch (spec.kind) {
    case ann::IndexSpec::Kind::kIvfSq8:
      return dim;
    case ann::IndexSpec::Kind::kIvfPq:
      return spec.pq_m;
    default:
      return uint64_t{dim} * 4;
  }
}

double EstimateScanBytes(const std::string& kind, uint64_t n, uint32_t dim, int nprobe,
                         size_t refine_k, bool sketched_centroids) {
  ann::IndexSpec spec;
  if (!ann::IndexSpec::Parse(kind, &spec).ok()) return 0;
  const double vector_bytes = 4.0 * dim;
  if (spec.kind == ann::IndexSpec::Kind::kFlat || spec.nlist == 0) return n * vector_bytes;
  const double lists = std::clamp<double>(nprobe, 1, spec.nlist);
  const double centroids = sketched_centroids && spec.nlist >= 64
                               ? spec.nlist * static_cast<double>(dim) + lists * vector_bytes
                               : spec.nlist * vector_bytes;
  double bytes = centroids + lists / spec.nlist * n * CodeBytes(kind, dim);
  if (spec.compressed()) bytes += refine_k * vector_bytes;
  return bytes;
}

double MeasureScanBytes(const faiss::IndexIVF& index, const Matrix& queries, int nprobe) {
  const size_t nq = queries.rows;
  if (nq == 0) return 0;
  const auto lists = static_cast<faiss::Index::idx_t>(
      std::clamp<size_t>(static_cast<size_t>(std::max(nprobe, 1)), 1, index.nlist));
  std::vector<float> distances(nq * lists);
  std::vector<faiss::Index::idx_t> assigned(nq * lists);
  try {
    index.quantizer->search(static_cast<faiss::Index::idx_t>(nq), queries.data.data(), lists,
                            distances.data(), assigned.data());
  } catch (const std::exception&) {
    return 0;  // the caller falls back to the estimate
  }
  double codes = 0;
  for (faiss::Index::idx_t list : assigned) {
    if (list >= 0) codes += static_cast<double>(index.invlists->list_size(list));
  }
  return static_cast<double>(index.nlist) * index.d * 4 + codes * index.code_size / nq;
}

double GigabytesPerSecond(double bytes, double seconds) {
  return bytes > 0 && seconds > 0 ? bytes / seconds / 1e9 : 0;
}

}  // namespace emberdb::bench
