// TrainIvfIndex: builds and trains the FAISS IVF index behind an IvfIndex.
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexScalarQuantizer.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "ann/ivf_index.h"

namespace emberdb::ann {
namespace {

// Training budget: see TrainOptions. FAISS defaults to 25 k-means iterations on up to 256
// points per centroid; fewer of both train 50,000 x 768 in seconds on two cores, and the recall
// lost is made up by a slightly larger nprobe (see ann/README.md for measurements).
// FAISS warns below 39 points per centroid; nlist is capped so the sample always has them.
constexpr size_t kMinPointsPerList = 39;
constexpr uint32_t kMinAutoNlist = 16;
// The automatic nlist stops growing at 4 * sqrt(N) = 1024 (N = 65,536). Training as a user waits
// for it is k-means (~ points_per_list x nlist^2 distances per iteration) plus the fill, which
// assigns each of the N vectors to its list (N x nlist distances, exact through BLAS): at
// 1,000,000 x 768 and nlist 4,000 that is ~6 TFLOP (~50 s on two cores), at 1,024 ~1.6. Recall
// at equal probe cost (vectors scanned per query, the nlist centroids included) measured no
// worse with 1,000 lists than with 4,000 on 1M x 768 (ann/README.md, "Training"): the
// quantizer's own cost grows with nlist. Much larger collections can name nlist (IVF<n>).
constexpr uint32_t kMaxAutoNlist = 1024;
// The product quantizer's 256-centroid sub-codebooks: k-means on up to 64 points per centroid.
constexpr size_t kPqCentroids = 256;
constexpr size_t kPqTrainPoints = 64 * kPqCentroids;

// A deterministic subset of the sample when it is larger than training needs.
std::vector<float> Subsample(size_t n, const float* x, uint32_t dim, size_t keep) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::mt19937_64 rng(1234);
  for (size_t i = 0; i < keep; ++i) {
    std::uniform_int_distribution<size_t> pick(i, n - 1);
    std::swap(order[i], order[pick(rng)]);
  }
  std::sort(order.begin(), order.begin() + keep);  // sequential reads of the sample
  std::vector<float> out(keep * dim);
  for (size_t i = 0; i < keep; ++i) {
    std::memcpy(out.data() + i * dim, x + order[i] * dim, dim * sizeof(float));
  }
  return out;
}

uint32_t AutoNlist(uint64_t expected_size, size_t n) {
  const double target = 4.0 * std::sqrt(static_cast<double>(std::max<uint64_t>(expected_size, n)));
  uint64_t nlist = static_cast<uint64_t>(std::llround(target));
  nlist = std::clamp<uint64_t>(nlist, kMinAutoNlist, kMaxAutoNlist);
  nlist = std::min<uint64_t>(nlist, n / kMinPointsPerList);
  return static_cast<uint32_t>(std::max<uint64_t>(nlist, 1));
}

}  // namespace

size_t TrainingSampleSize(const IndexSpec& spec, uint64_t expected_size,
                          const TrainOptions& options) {
  const uint32_t nlist = spec.nlist != 0 ? spec.nlist : AutoNlist(expected_size, expected_size);
  const size_t keep = std::max<size_t>(options.points_per_list * nlist,
                                       spec.kind == IndexSpec::Kind::kIvfPq ? kPqTrainPoints : 0);
  return std::min<uint64_t>(keep, expected_size);
}

Status TrainIvfIndex(const IndexSpec& spec, uint32_t dim, Metric metric, uint64_t expected_size,
                     size_t n, const float* sample, std::unique_ptr<VectorIndex>* out) {
  return TrainIvfIndex(spec, dim, metric, expected_size, n, sample, TrainOptions{}, out);
}

Status TrainIvfIndex(const IndexSpec& spec, uint32_t dim, Metric metric, uint64_t expected_size,
                     size_t n, const float* sample, const TrainOptions& options,
                     std::unique_ptr<VectorIndex>* out) {
  if (options.kmeans_iterations < 1 || options.points_per_list < kMinPointsPerList) {
    return Status::InvalidArgument("TrainIvfIndex: need >= 1 k-means iteration and >= " +
                                   std::to_string(kMinPointsPerList) + " points per list");
  }
  if (spec.kind == IndexSpec::Kind::kFlat) {
    return Status::InvalidArgument("TrainIvfIndex: 'Flat' needs no training (use NewFlatIndex)");
  }
  if (dim == 0) return Status::InvalidArgument("TrainIvfIndex: dimension must be positive");
  if (n == 0 || sample == nullptr) {
    return Status::InvalidArgument("TrainIvfIndex: no training vectors given");
  }
  for (size_t i = 0; i < n * dim; ++i) {
    if (!std::isfinite(sample[i])) {
      return Status::InvalidArgument("TrainIvfIndex: training vector " + std::to_string(i / dim) +
                                     " has a NaN or infinite component");
    }
  }
  if (spec.kind == IndexSpec::Kind::kIvfPq) {
    if (spec.pq_m == 0 || dim % spec.pq_m != 0) {
      return Status::InvalidArgument("index spec '" + spec.ToString() + "': PQ" +
                                     std::to_string(spec.pq_m) + " must divide the dimension " +
                                     std::to_string(dim));
    }
    if (n < kPqCentroids) {
      return Status::InvalidArgument(
          "index spec '" + spec.ToString() + "': PQ training needs at least " +
          std::to_string(kPqCentroids) + " vectors, got " + std::to_string(n));
    }
  }
  const uint32_t nlist = spec.nlist != 0 ? spec.nlist : AutoNlist(expected_size, n);
  if (n < nlist) {
    return Status::InvalidArgument(
        "index spec '" + spec.ToString() + "': " + std::to_string(nlist) +
        " lists need at least as many training vectors, got " + std::to_string(n));
  }

  // The training set: enough points per list for k-means (and the PQ codebooks), no more.
  size_t keep = std::max<size_t>(options.points_per_list * nlist,
                                 spec.kind == IndexSpec::Kind::kIvfPq ? kPqTrainPoints : 0);
  keep = std::min(keep, n);
  std::vector<float> subset;
  const float* train = sample;
  if (keep < n) {
    subset = Subsample(n, sample, dim, keep);
    train = subset.data();
  }

  const faiss::MetricType fm = ToFaiss(metric);
  try {
    faiss::IndexFlat* quantizer = metric == Metric::kL2
                                      ? static_cast<faiss::IndexFlat*>(new faiss::IndexFlatL2(dim))
                                      : new faiss::IndexFlatIP(dim);
    std::unique_ptr<faiss::IndexIVF> ivf;
    switch (spec.kind) {
      case IndexSpec::Kind::kIvfFlat:
        ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer, dim, nlist, fm);
        break;
      case IndexSpec::Kind::kIvfSq8:
        ivf = std::make_unique<faiss::IndexIVFScalarQuantizer>(
            quantizer, dim, nlist, faiss::ScalarQuantizer::QT_8bit, fm, true);
        break;
      case IndexSpec::Kind::kIvfPq: {
        auto pq = std::make_unique<faiss::IndexIVFPQ>(quantizer, dim, nlist, spec.pq_m, 8, fm);
        pq->pq.cp.niter = options.kmeans_iterations;
        pq->pq.cp.max_points_per_centroid = static_cast<int>(kPqTrainPoints / kPqCentroids);
        ivf = std::move(pq);
        break;
      }
      case IndexSpec::Kind::kFlat:
        break;
    }
    ivf->own_fields = true;
    ivf->cp.niter = options.kmeans_iterations;
    ivf->cp.max_points_per_centroid = static_cast<int>(options.points_per_list);
    // Inner product (cosine on normalised vectors) wants unit-norm centroids.
    ivf->cp.spherical = metric == Metric::kInnerProduct;
    ivf->train(static_cast<faiss::Index::idx_t>(keep), train);
    ivf->set_direct_map_type(faiss::DirectMap::Hashtable);
    IndexSpec trained = spec;
    trained.nlist = nlist;
    *out = std::make_unique<IvfIndex>(trained, metric, std::move(ivf), 0);
  } catch (const std::exception& e) {
    return Status::Aborted(std::string("FAISS training of '") + spec.ToString() +
                           "' failed: " + e.what());
  }
  return Status::OK();
}

}  // namespace emberdb::ann
