#include "ann/scan_kernels.h"

#include <algorithm>
#include <limits>

#include "ann/kernel_dispatch.h"

namespace emberdb::ann {

float QueryDistance(Metric metric, const float* query, const float* vector, size_t dim) {
  float out;
  QueryDistances(metric, query, vector, 1, dim, &out);
  return out;
}

void QueryDistances(Metric metric, const float* query, const float* base, size_t n, size_t dim,
                    float* out) {
  const DistanceKernels& kernels = ActiveKernels();
  if (metric == Metric::kL2) {
    kernels.squared_l2(query, base, n, dim, out);
  } else {
    kernels.inner_products(query, base, n, dim, out);
    for (size_t i = 0; i < n; ++i) out[i] = -out[i];
  }
}

void TopK::Push(float distance, int64_t label) {
  if (k_ == 0) return;
  const Entry e{distance, label};
  if (heap_.size() < k_) {
    heap_.push_back(e);
    std::push_heap(heap_.begin(), heap_.end(), Less);
  } else if (Less(e, heap_.front())) {
    std::pop_heap(heap_.begin(), heap_.end(), Less);
    heap_.back() = e;
    std::push_heap(heap_.begin(), heap_.end(), Less);
  }
}

void TopK::Extract(float* distances, int64_t* labels) {
  std::sort_heap(heap_.begin(), heap_.end(), Less);
  for (size_t j = 0; j < k_; ++j) {
    const bool have = j < heap_.size();
    distances[j] = have ? heap_[j].distance : std::numeric_limits<float>::infinity();
    labels[j] = have ? heap_[j].label : -1;
  }
  heap_.clear();
}

void ScanInto(Metric metric, const float* query, const float* base, const int64_t* labels,
              int64_t first_label, size_t n, size_t dim, const LabelFilter* filter, TopK* top) {
  constexpr size_t kBlock = 256;  // distances computed per block, then offered to the heap
  float block[kBlock];
  auto label_of = [&](size_t i) {
    return labels != nullptr ? labels[i] : first_label + static_cast<int64_t>(i);
  };
  for (size_t start = 0; start < n; start += kBlock) {
    const size_t m = std::min(kBlock, n - start);
    if (filter == nullptr) {
      QueryDistances(metric, query, base + start * dim, m, dim, block);
      for (size_t i = 0; i < m; ++i) {
        const int64_t label = label_of(start + i);
        if (top->Admits(block[i], label)) top->Push(block[i], label);
      }
    } else {
      for (size_t i = start; i < start + m; ++i) {
        const int64_t label = label_of(i);
        if (!filter->Contains(label)) continue;
        const float dist = QueryDistance(metric, query, base + i * dim, dim);
        if (top->Admits(dist, label)) top->Push(dist, label);
      }
    }
  }
}

void ScanTopK(Metric metric, size_t nq, const float* queries, const float* base,
              const int64_t* labels, size_t n, size_t dim, const LabelFilter* filter, size_t k,
              float* distances, int64_t* out_labels) {
#pragma omp parallel for if (nq > 1) schedule(dynamic)
  for (size_t q = 0; q < nq; ++q) {
    TopK top(k);
    ScanInto(metric, queries + q * dim, base, labels, 0, n, dim, filter, &top);
    top.Extract(distances + q * k, out_labels + q * k);
  }
}

}  // namespace emberdb::ann
