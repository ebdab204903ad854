// Measuring recall against exact search, and choosing nprobe from it.
#include <algorithm>
#include <limits>
#include <map>
#include <unordered_set>

#include "ann/kernel_gemm.h"
#include "ann/search_driver.h"
#include "ann/vector_index.h"

namespace emberdb::ann {

ExactNeighbors::ExactNeighbors(uint32_t dim, Metric metric, size_t nq, const float* queries,
                               size_t k)
    : dim_(dim),
      metric_(metric),
      nq_(nq),
      k_(k),
      queries_(queries, queries + nq * dim),
      distances_(nq * k, std::numeric_limits<float>::infinity()),
      labels_(nq * k, -1) {}

void ExactNeighbors::Add(size_t n, const int64_t* labels, const float* vectors) {
  if (n == 0 || nq_ == 0 || k_ == 0) return;
  // The chunk's top-k straight from the rows (no index built over them: that copied every
  // chunk and hashed its labels, which cost as much as the products). Both scans order by
  // (distance, label), so ties are exact; the merge keeps that order.
  std::vector<float> d(nq_ * k_);
  std::vector<int64_t> l(nq_ * k_);
  ExactTopK(metric_, nq_, queries_.data(), vectors, labels, n, dim_, nullptr, k_, d.data(),
            l.data());
  std::vector<float> md(2 * k_);
  std::vector<int64_t> ml(2 * k_);
  for (size_t q = 0; q < nq_; ++q) {
    std::copy_n(distances_.begin() + q * k_, k_, md.begin());
    std::copy_n(labels_.begin() + q * k_, k_, ml.begin());
    std::copy_n(d.begin() + q * k_, k_, md.begin() + k_);
    std::copy_n(l.begin() + q * k_, k_, ml.begin() + k_);
    SortByDistanceThenLabel(2 * k_, md.data(), ml.data());
    std::copy_n(md.begin(), k_, distances_.begin() + q * k_);
    std::copy_n(ml.begin(), k_, labels_.begin() + q * k_);
  }
}

double RecallAtK(size_t nq, size_t k, const int64_t* truth, const int64_t* found) {
  size_t wanted = 0, hit = 0;
  std::unordered_set<int64_t> row;
  for (size_t q = 0; q < nq; ++q) {
    row.clear();
    for (size_t j = 0; j < k; ++j) {
      if (found[q * k + j] >= 0) row.insert(found[q * k + j]);
    }
    for (size_t j = 0; j < k; ++j) {
      const int64_t t = truth[q * k + j];
      if (t < 0) continue;
      ++wanted;
      hit += row.count(t);
    }
  }
  return wanted == 0 ? 1.0 : static_cast<double>(hit) / static_cast<double>(wanted);
}

Status ChooseNprobe(const VectorIndex& index, size_t nq, const float* queries, const int64_t* truth,
                    size_t k, double target_recall, const SearchParams& base, NprobeChoice* out) {
  if (nq == 0 || k == 0 || queries == nullptr || truth == nullptr) {
    return Status::InvalidArgument("ChooseNprobe: needs at least one query, k > 0 and truth");
  }
  if (!(target_recall > 0.0 && target_recall <= 1.0)) {
    return Status::InvalidArgument("ChooseNprobe: target recall must be in (0, 1], got " +
                                   std::to_string(target_recall));
  }
  const int nlist = static_cast<int>(index.Stats().nlist);
  NprobeChoice choice;
  if (nlist == 0) {  // exact search: nothing to choose
    choice.recall = 1.0;
    choice.reached = true;
    *out = choice;
    return Status::OK();
  }
  std::vector<float> d(nq * k);
  std::vector<int64_t> l(nq * k);
  std::map<int, double> measured;
  auto recall_at = [&](int nprobe) {
    auto it = measured.find(nprobe);
    if (it != measured.end()) return it->second;
    SearchParams params = base;
    params.nprobe = nprobe;
    if (params.scale_nprobe_to_filter) params.filter = nullptr;  // see ChooseNprobe's contract
    index.Search(nq, queries, k, params, d.data(), l.data());
    const double r = RecallAtK(nq, k, truth, l.data());
    measured.emplace(nprobe, r);
    return r;
  };
  // Doubling finds a passing value within a factor two; bisection then narrows it, assuming
  // recall grows with nprobe (it does up to sampling noise).
  int failing = 0;
  int passing = 0;
  for (int nprobe = 1;; nprobe = std::min(nlist, nprobe * 2)) {
    if (recall_at(nprobe) >= target_recall) {
      passing = nprobe;
      break;
    }
    failing = nprobe;
    if (nprobe == nlist) break;
  }
  if (passing == 0) {
    choice.nprobe = nlist;
  } else {
    while (passing - failing > 1) {
      const int mid = failing + (passing - failing) / 2;
      if (recall_at(mid) >= target_recall) {
        passing = mid;
      } else {
        failing = mid;
      }
    }
    choice.nprobe = passing;
    choice.reached = true;
  }
  choice.recall = measured[choice.nprobe];
  choice.searches = static_cast<int>(measured.size());
  *out = choice;
  return Status::OK();
}

}  // namespace emberdb::ann
