#include "ann/kernel_ivf_scan.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/invlists/InvertedLists.h>

#include <algorithm>
#include <typeinfo>
#include <vector>

#include "ann/scan_kernels.h"
#include "ann/sq8_scan.h"

namespace emberdb::ann {
namespace {

using FaissId = faiss::Index::idx_t;

// Distance buffer of one list-by-list pass: 16 Mi floats (64 MiB) at most; a larger batch is
// split into query chunks that fit.
constexpr size_t kMaxBufferedDistances = size_t{16} << 20;

// Scores one query against one list: IVF-Flat.
struct FloatScorer {
  Metric metric;
  size_t dim;
  const float* queries;
  void Prepare(size_t, size_t) {}
  void Score(size_t q, FaissId, float, const uint8_t* codes, size_t n, float* out) const {
    QueryDistances(metric, queries + q * dim, reinterpret_cast<const float*>(codes), n, dim, out);
  }
  void ScanQuery(const faiss::InvertedLists& invlists, size_t q, int nprobe, const FaissId* lists,
                 const float*, const LabelFilter* filter, TopK* top) const {
    for (int j = 0; j < nprobe; ++j) {
      const FaissId list = lists[j];
      if (list < 0 || invlists.list_size(list) == 0) continue;
      faiss::InvertedLists::ScopedCodes codes(&invlists, list);
      faiss::InvertedLists::ScopedIds ids(&invlists, list);
      ScanInto(metric, queries + q * dim, reinterpret_cast<const float*>(codes.get()), ids.get(), 0,
               invlists.list_size(list), dim, filter, top);
    }
  }
};

// IVF-SQ8: each query is folded into the codec's constants once per batch chunk (Prepare);
// L2 by residual then needs a per-list vector, computed into a per-thread scratch.
struct Sq8Scorer {
  Metric metric;
  size_t dim;
  const float* queries;
  const Sq8Codec* codec;
  bool by_residual;
  const float* centroids;
  std::vector<Sq8ListScanner> prepared;  // queries [first, first + prepared.size())
  size_t first = 0;

  void Prepare(size_t q0, size_t q1) {
    prepared.clear();
    prepared.reserve(q1 - q0);
    for (size_t q = q0; q < q1; ++q) {
      prepared.emplace_back(*codec, metric, by_residual, queries + q * dim);
    }
    first = q0;
  }
  void Score(size_t q, FaissId list, float coarse, const uint8_t* codes, size_t n,
             float* out) const {
    thread_local std::vector<float> scratch;
    scratch.resize(dim);
    prepared[q - first].ListDistances(centroids + list * dim, coarse, codes, n, out,
                                      scratch.data());
  }
  void ScanQuery(const faiss::InvertedLists& invlists, size_t q, int nprobe, const FaissId* lists,
                 const float* coarse, const LabelFilter* filter, TopK* top) const {
    Sq8ListScanner scanner(*codec, metric, by_residual, queries + q * dim);
    for (int j = 0; j < nprobe; ++j) {
      const FaissId list = lists[j];
      if (list < 0 || invlists.list_size(list) == 0) continue;
      scanner.SetList(centroids + list * dim, coarse[j]);
      faiss::InvertedLists::ScopedCodes codes(&invlists, list);
      faiss::InvertedLists::ScopedIds ids(&invlists, list);
      scanner.ScanInto(codes.get(), ids.get(), invlists.list_size(list), filter, top);
    }
  }
};

template <class Scorer>
void ScanByQuery(const Scorer& scorer, const faiss::InvertedLists& invlists, size_t nq, size_t kk,
                 int nprobe, const LabelFilter* filter, const float* coarse, const FaissId* lists,
                 float* distances, int64_t* labels) {
#pragma omp parallel for if (nq > 1) schedule(dynamic)
  for (size_t q = 0; q < nq; ++q) {
    TopK top(kk);
    scorer.ScanQuery(invlists, q, nprobe, lists + q * nprobe, coarse + q * nprobe, filter, &top);
    top.Extract(distances + q * kk, labels + q * kk);
  }
}

// Queries [q0, q1) list by list: phase 1 scores every (query, probe) pair grouped by list
// (parallel over lists), phase 2 selects each query's top-k (parallel over queries).
template <class Scorer>
void ScanChunkByList(Scorer& scorer, const faiss::InvertedLists& invlists, size_t q0, size_t q1,
                     size_t kk, int nprobe, const float* coarse, const FaissId* lists,
                     std::vector<float>* buffer, float* distances, int64_t* labels) {
  scorer.Prepare(q0, q1);
  const size_t pairs = (q1 - q0) * nprobe;
  std::vector<size_t> offset(pairs + 1, 0);
  for (size_t p = 0; p < pairs; ++p) {
    const FaissId list = lists[q0 * nprobe + p];
    offset[p + 1] = offset[p] + (list < 0 ? 0 : invlists.list_size(list));
  }
  buffer->resize(offset[pairs]);
  // Pairs ordered by list; `starts` marks where each list's run begins.
  std::vector<size_t> order(pairs);
  for (size_t p = 0; p < pairs; ++p) order[p] = p;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return lists[q0 * nprobe + a] < lists[q0 * nprobe + b];
  });
  std::vector<size_t> starts;
  for (size_t i = 0; i < pairs; ++i) {
    if (i == 0 || lists[q0 * nprobe + order[i]] != lists[q0 * nprobe + order[i - 1]]) {
      starts.push_back(i);
    }
  }
  starts.push_back(pairs);
  const size_t runs = starts.size() - 1;
#pragma omp parallel for schedule(dynamic)
  for (size_t r = 0; r < runs; ++r) {
    const FaissId list = lists[q0 * nprobe + order[starts[r]]];
    if (list < 0) continue;
    const size_t n = invlists.list_size(list);
    if (n == 0) continue;
    faiss::InvertedLists::ScopedCodes codes(&invlists, list);
    for (size_t i = starts[r]; i < starts[r + 1]; ++i) {
      const size_t p = order[i];
      scorer.Score(q0 + p / nprobe, list, coarse[q0 * nprobe + p], codes.get(), n,
                   buffer->data() + offset[p]);
    }
  }
#pragma omp parallel for schedule(dynamic)
  for (size_t q = q0; q < q1; ++q) {
    TopK top(kk);
    for (int j = 0; j < nprobe; ++j) {
      const size_t p = (q - q0) * nprobe + j;
      const FaissId list = lists[q * nprobe + j];
      const size_t n = offset[p + 1] - offset[p];
      if (list < 0 || n == 0) continue;
      faiss::InvertedLists::ScopedIds ids(&invlists, list);
      const float* d = buffer->data() + offset[p];
      for (size_t i = 0; i < n; ++i) {
        if (top.Admits(d[i], ids[i])) top.Push(d[i], ids[i]);
      }
    }
    top.Extract(distances + q * kk, labels + q * kk);
  }
}

template <class Scorer>
void Scan(Scorer& scorer, const faiss::InvertedLists& invlists, size_t nq, size_t kk, int nprobe,
          const LabelFilter* filter, const float* coarse, const FaissId* lists, float* distances,
          int64_t* labels) {
  if (filter != nullptr || nq < kListGroupMinQueries) {
    ScanByQuery(scorer, invlists, nq, kk, nprobe, filter, coarse, lists, distances, labels);
    return;
  }
  std::vector<float> buffer;
  size_t q0 = 0;
  while (q0 < nq) {
    // The largest chunk whose distances fit the buffer budget (at least one query).
    size_t q1 = q0, total = 0;
    while (q1 < nq) {
      size_t need = 0;
      for (int j = 0; j < nprobe; ++j) {
        const FaissId list = lists[q1 * nprobe + j];
        need += list < 0 ? 0 : invlists.list_size(list);
      }
      if (q1 > q0 && total + need > kMaxBufferedDistances) break;
      total += need;
      ++q1;
    }
    ScanChunkByList(scorer, invlists, q0, q1, kk, nprobe, coarse, lists, &buffer, distances,
                    labels);
    q0 = q1;
  }
}

}  // namespace

bool ScanIvfLists(const faiss::IndexIVF& index, Metric metric, size_t nq, const float* queries,
                  size_t kk, int nprobe, const LabelFilter* filter, const float* coarse_dis,
                  const int64_t* lists, float* distances, int64_t* labels) {
  const size_t dim = static_cast<size_t>(index.d);
  const faiss::InvertedLists& invlists = *index.invlists;
  if (typeid(index) == typeid(faiss::IndexIVFFlat) && index.code_size == dim * sizeof(float)) {
    FloatScorer scorer{metric, dim, queries};
    Scan(scorer, invlists, nq, kk, nprobe, filter, coarse_dis, lists, distances, labels);
    return true;
  }
  const auto* sq = dynamic_cast<const faiss::IndexIVFScalarQuantizer*>(&index);
  const auto* flat = dynamic_cast<const faiss::IndexFlat*>(index.quantizer);
  Sq8Codec codec;
  if (sq == nullptr || flat == nullptr || !Sq8Codec::FromFaiss(sq->sq, &codec)) return false;
  Sq8Scorer scorer{metric, dim, queries, &codec, sq->by_residual, flat->get_xb(), {}, 0};
  Scan(scorer, invlists, nq, kk, nprobe, filter, coarse_dis, lists, distances, labels);
  return true;
}

}  // namespace emberdb::ann
