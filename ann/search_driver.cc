#include "ann/search_driver.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace emberdb::ann {
namespace {

constexpr float kMissing = std::numeric_limits<float>::infinity();

// A strict weak order even with NaN (which std::sort must never see raw) and -1 labels.
bool Closer(float da, int64_t la, float db, int64_t lb) {
  const bool ma = la < 0, mb = lb < 0;
  if (ma != mb) return mb;
  if (ma) return false;
  const float ka = std::isnan(da) ? kMissing : da;
  const float kb = std::isnan(db) ? kMissing : db;
  if (ka != kb) return ka < kb;
  return la < lb;
}

size_t CountValid(const std::vector<int64_t>& labels) {
  return static_cast<size_t>(
      std::count_if(labels.begin(), labels.end(), [](int64_t l) { return l >= 0; }));
}

}  // namespace

void SortByDistanceThenLabel(size_t n, float* distances, int64_t* labels) {
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return Closer(distances[a], labels[a], distances[b], labels[b]);
  });
  std::vector<float> d(n);
  std::vector<int64_t> l(n);
  for (size_t i = 0; i < n; ++i) {
    d[i] = labels[order[i]] < 0 ? kMissing : distances[order[i]];
    l[i] = labels[order[i]];
  }
  std::copy(d.begin(), d.end(), distances);
  std::copy(l.begin(), l.end(), labels);
}

void RunSearch(const SearchPass& pass, size_t dim, size_t nq, const float* queries,
               const SearchPlan& plan, float* distances, int64_t* labels) {
  const size_t k = plan.k_out;
  if (nq == 0 || k == 0) return;
  std::fill(distances, distances + nq * k, kMissing);
  std::fill(labels, labels + nq * k, int64_t{-1});
  if (plan.index_size == 0) return;

  // One extra result detects a tie group crossing the k-th place.
  const size_t first_k = plan.resolve_ties ? k + 1 : k;
  std::vector<float> batch_d(nq * first_k);
  std::vector<int64_t> batch_l(nq * first_k);
  pass(nq, queries, first_k, plan.nprobe, batch_d.data(), batch_l.data());

  std::vector<float> row_d;
  std::vector<int64_t> row_l;
  for (size_t q = 0; q < nq; ++q) {
    const float* query = queries + q * dim;
    row_d.assign(batch_d.begin() + q * first_k, batch_d.begin() + (q + 1) * first_k);
    row_l.assign(batch_l.begin() + q * first_k, batch_l.begin() + (q + 1) * first_k);
    size_t kq = first_k;
    int nprobe = plan.nprobe;
    for (;;) {
      SortByDistanceThenLabel(kq, row_d.data(), row_l.data());
      const size_t valid = CountValid(row_l);
      // Widening: an IVF probe may reach too few vectors (small lists, or a filter that keeps
      // few of them); doubling nprobe until nlist makes the search exhaustive at worst.
      const bool short_of_results =
          valid < plan.k_needed && (plan.filtered || valid < plan.index_size);
      if (short_of_results && plan.max_nprobe > 0 && nprobe < plan.max_nprobe) {
        nprobe = std::min(plan.max_nprobe, std::max(1, nprobe) * 2);
      } else if (plan.resolve_ties && valid == kq && kq < plan.index_size &&
                 row_d[k - 1] == row_d[kq - 1]) {
        kq = static_cast<size_t>(std::min<uint64_t>(plan.index_size, kq * 2));
      } else {
        break;
      }
      row_d.resize(kq);
      row_l.resize(kq);
      pass(1, query, kq, nprobe, row_d.data(), row_l.data());
    }
    std::copy(row_d.begin(), row_d.begin() + std::min(k, kq), distances + q * k);
    std::copy(row_l.begin(), row_l.begin() + std::min(k, kq), labels + q * k);
  }
}

}  // namespace emberdb::ann
