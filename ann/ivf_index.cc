#include "ann/ivf_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>
#include <faiss/utils/distances.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <unordered_map>
#include <vector>

#include "ann/kernel_ivf_scan.h"
#include "ann/scan_kernels.h"
#include "ann/search_driver.h"

namespace emberdb::ann {
namespace {

using FaissId = faiss::Index::idx_t;

// Below this many queries FAISS's flat quantizer uses its baseline-x86 scalar kernel
// (faiss::distance_compute_blas_threshold); we use ours.
constexpr size_t kBlasMinQueries = 20;

// Below this many lists the float centroids are small enough to scan whole.
constexpr uint32_t kSketchMinLists = 64;

// Filters by label: IVF lists store labels as FAISS ids, so no translation is needed.
class LabelFilterSelector final : public faiss::IDSelector {
 public:
  explicit LabelFilterSelector(const LabelFilter* filter) : filter_(filter) {}
  bool is_member(idx_t id) const override { return filter_->Contains(id); }

 private:
  const LabelFilter* filter_;
};

}  // namespace

IvfIndex::IvfIndex(const IndexSpec& spec, Metric metric, std::unique_ptr<faiss::IndexIVF> index,
                   int default_nprobe)
    : spec_(spec), metric_(metric), index_(std::move(index)), default_nprobe_(default_nprobe) {
  set_default_nprobe(default_nprobe);
  const auto* flat = dynamic_cast<const faiss::IndexFlat*>(index_->quantizer);
  if (flat != nullptr && spec_.nlist >= kSketchMinLists &&
      flat->ntotal == static_cast<FaissId>(spec_.nlist)) {
    sketch_ = std::make_unique<CentroidSketch>(metric_, dimension(), spec_.nlist, flat->get_xb());
  }
}

int IvfIndex::DefaultNprobeFor(uint32_t nlist) {
  const int guess = static_cast<int>(std::lround(std::sqrt(static_cast<double>(nlist))));
  return std::clamp(guess, 1, static_cast<int>(std::max<uint32_t>(nlist, 1)));
}

void IvfIndex::set_default_nprobe(int nprobe) {
  default_nprobe_ =
      nprobe <= 0 ? DefaultNprobeFor(spec_.nlist) : std::min(nprobe, static_cast<int>(spec_.nlist));
}

bool IvfIndex::Contains(int64_t label) const {
  return index_->direct_map.hashtable.count(label) != 0;
}

void IvfIndex::Add(size_t n, const int64_t* labels, const float* vectors) {
  std::vector<int64_t> lists(n);
  Assign(n, vectors, lists.data());
  AddAssigned(n, labels, vectors, lists.data());
}

void IvfIndex::Assign(size_t n, const float* vectors, int64_t* lists) const {
  if (n == 0) return;
  // The quantizer is fixed by training; Add and Remove touch only the lists and the direct
  // map, so this may run while they do.
  if (n < kBlasMinQueries) {  // FAISS's scalar path; ours is vectorised
    std::vector<float> distances(n);
    CoarseAssign(n, vectors, 1, distances.data(), lists);
    return;
  }
  try {
    index_->quantizer->assign(static_cast<FaissId>(n), vectors, lists);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "emberdb ann: IVF assignment failed: %s\n", e.what());
    std::abort();
  }
}

void IvfIndex::AddAssigned(size_t n, const int64_t* labels, const float* vectors,
                           const int64_t* lists) {
  // The last occurrence of a label in the batch wins; existing labels are removed first,
  // because FAISS would otherwise keep both copies in their lists.
  std::unordered_map<int64_t, size_t> last;
  last.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (labels[i] >= 0) last[labels[i]] = i;
  }
  std::vector<int64_t> ids, kept_lists;
  std::vector<float> rows;
  std::vector<int64_t> replaced;
  const bool contiguous = last.size() == n;  // common case: no duplicates, no negatives
  ids.reserve(last.size());
  if (!contiguous) {
    rows.reserve(last.size() * dimension());
    kept_lists.reserve(last.size());
  }
  for (size_t i = 0; i < n; ++i) {
    if (labels[i] < 0 || last[labels[i]] != i) continue;
    ids.push_back(labels[i]);
    if (!contiguous) {
      rows.insert(rows.end(), vectors + i * dimension(), vectors + (i + 1) * dimension());
      kept_lists.push_back(lists[i]);
    }
    if (Contains(labels[i])) replaced.push_back(labels[i]);
  }
  if (!replaced.empty()) Remove(replaced.size(), replaced.data());
  if (ids.empty()) return;
  try {
    index_->add_core(static_cast<FaissId>(ids.size()), contiguous ? vectors : rows.data(),
                     ids.data(), contiguous ? lists : kept_lists.data());
  } catch (const std::exception& e) {
    // Only a broken invariant (untrained index) or memory exhaustion gets here; the contract
    // offers no Status, and continuing would leave the index silently incomplete.
    std::fprintf(stderr, "emberdb ann: IVF add failed: %s\n", e.what());
    std::abort();
  }
}

void IvfIndex::Remove(size_t n, const int64_t* labels) {
  std::vector<FaissId> present;
  for (size_t i = 0; i < n; ++i) {
    if (Contains(labels[i])) present.push_back(labels[i]);
  }
  if (present.empty()) return;
  std::sort(present.begin(), present.end());
  present.erase(std::unique(present.begin(), present.end()), present.end());
  std::vector<size_t> touched;
  touched.reserve(present.size());
  for (FaissId id : present) touched.push_back(faiss::lo_listno(index_->direct_map.get(id)));
  try {
    // With a hash-table direct map FAISS removes each id in O(1) (swap with the list's last
    // entry); it requires an IDSelectorArray for that path.
    faiss::IDSelectorArray sel(present.size(), present.data());
    index_->remove_ids(sel);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "emberdb ann: IVF remove failed: %s\n", e.what());
    std::abort();
  }
  ReleaseUnusedCapacity(touched);
}

void IvfIndex::ReleaseUnusedCapacity(std::vector<size_t>& lists) {
  // FAISS shrinks a list with std::vector::resize, which keeps the capacity: a list emptied by
  // deletes (or by moving it into a retrained index) would keep all its memory. Give it back
  // once a list uses less than a quarter of what it holds (amortised: a list regrows by
  // doubling, so this cannot thrash).
  auto* array = dynamic_cast<faiss::ArrayInvertedLists*>(index_->invlists);
  if (array == nullptr) return;
  std::sort(lists.begin(), lists.end());
  lists.erase(std::unique(lists.begin(), lists.end()), lists.end());
  for (size_t l : lists) {
    std::vector<uint8_t>& codes = array->codes[l];
    std::vector<FaissId>& ids = array->ids[l];
    if (ids.size() * 4 <= ids.capacity() && ids.capacity() > 16) {
      codes.shrink_to_fit();
      ids.shrink_to_fit();
    }
  }
}

size_t IvfIndex::ReleaseSpareCapacity(size_t cursor) {
  auto* array = dynamic_cast<faiss::ArrayInvertedLists*>(index_->invlists);
  if (array == nullptr) return 0;
  constexpr size_t kListsPerCall = 64;
  const size_t end = std::min<size_t>(cursor + kListsPerCall, spec_.nlist);
  for (size_t l = cursor; l < end; ++l) {
    array->codes[l].shrink_to_fit();
    array->ids[l].shrink_to_fit();
  }
  return end < spec_.nlist ? end : 0;
}

size_t IvfIndex::CopyVectors(size_t max, std::vector<int64_t>* labels,
                             std::vector<float>* vectors) const {
  if (!holds_exact_vectors()) return 0;
  const size_t dim = dimension();
  size_t copied = 0;
  for (size_t l = 0; l < spec_.nlist && copied < max; ++l) {
    const size_t size = index_->invlists->list_size(l);
    const size_t take = std::min(size, max - copied);
    if (take == 0) continue;
    faiss::InvertedLists::ScopedIds ids(index_->invlists, l);
    faiss::InvertedLists::ScopedCodes codes(index_->invlists, l);
    labels->insert(labels->end(), ids.get(), ids.get() + take);
    const auto* rows = reinterpret_cast<const float*>(codes.get());
    vectors->insert(vectors->end(), rows, rows + take * dim);
    copied += take;
  }
  return copied;
}

size_t IvfIndex::SampleVectors(size_t n, std::vector<float>* vectors) const {
  if (!holds_exact_vectors()) return 0;
  const size_t dim = dimension();
  const size_t total = size();
  n = std::min<size_t>(n, total);
  vectors->reserve(vectors->size() + n * dim);
  size_t taken = 0, list_start = 0;  // list_start: global position of list l's first row
  for (size_t l = 0; l < spec_.nlist && taken < n; ++l) {
    const size_t size = index_->invlists->list_size(l);
    if (size == 0) continue;
    faiss::InvertedLists::ScopedCodes codes(index_->invlists, l);
    const auto* rows = reinterpret_cast<const float*>(codes.get());
    // Sample i sits at global position i * total / n.
    for (; taken < n; ++taken) {
      const size_t position = taken * total / n;
      if (position >= list_start + size) break;
      const float* row = rows + (position - list_start) * dim;
      vectors->insert(vectors->end(), row, row + dim);
    }
    list_start += size;
  }
  return taken;
}

void IvfIndex::CoarseAssign(size_t nq, const float* queries, int nprobe, float* centroid_dis,
                            FaissId* lists) const {
  if (nq >= kBlasMinQueries) {
    // FAISS's flat quantizer runs BLAS for batches; nothing to gain.
    index_->quantizer->search(static_cast<FaissId>(nq), queries, nprobe, centroid_dis, lists);
    return;
  }
  const auto* flat = static_cast<const faiss::IndexFlat*>(index_->quantizer);
  const size_t dim = dimension();
  for (size_t q = 0; q < nq; ++q) {
    TopK top(static_cast<size_t>(nprobe));
    if (sketch_ != nullptr) {
      sketch_->Nearest(queries + q * dim, flat->get_xb(), &top, static_cast<size_t>(nprobe));
    } else {
      ScanInto(metric_, queries + q * dim, flat->get_xb(), nullptr, 0, spec_.nlist, dim, nullptr,
               &top);
    }
    float* dis = centroid_dis + q * nprobe;
    FaissId* ids = lists + q * nprobe;
    top.Extract(dis, ids);
    // FAISS expects its own convention: inner products, not their negation.
    if (metric_ == Metric::kInnerProduct) {
      for (int j = 0; j < nprobe; ++j) dis[j] = -dis[j];
    }
  }
}

void IvfIndex::ScanPass(size_t nq, const float* queries, size_t kk, int nprobe,
                        const LabelFilter* filter, float* distances, int64_t* labels) const {
  nprobe = std::clamp(nprobe, 1, static_cast<int>(spec_.nlist));
  std::vector<float> centroid_dis(nq * nprobe);
  std::vector<FaissId> lists(nq * nprobe);
  try {
    CoarseAssign(nq, queries, nprobe, centroid_dis.data(), lists.data());
  } catch (const std::exception&) {
    std::fill(lists.begin(), lists.end(), FaissId{-1});
  }
  // IVF-Flat and IVF-SQ8: our kernels (kernel_ivf_scan.h). PQ: FAISS's scanner.
  if (spec_.kind != IndexSpec::Kind::kIvfPq &&
      ScanIvfLists(*index_, metric_, nq, queries, kk, nprobe, filter, centroid_dis.data(),
                   lists.data(), distances, labels)) {
    return;
  }
  LabelFilterSelector selector(filter);
  faiss::SearchParametersIVF params;
  params.nprobe = static_cast<size_t>(nprobe);
  params.sel = filter != nullptr ? &selector : nullptr;
  try {
    index_->search_preassigned(static_cast<FaissId>(nq), queries, static_cast<FaissId>(kk),
                               lists.data(), centroid_dis.data(), distances, labels, false,
                               &params);
  } catch (const std::exception&) {
    std::fill(labels, labels + nq * kk, int64_t{-1});
  }
  const bool ip = metric_ == Metric::kInnerProduct;
  for (size_t i = 0; i < nq * kk; ++i) {
    if (labels[i] < 0) {
      distances[i] = std::numeric_limits<float>::infinity();
    } else if (ip) {
      distances[i] = -distances[i];
    }
  }
}

void IvfIndex::Refine(const float* query, size_t candidates, const float* cand_distances,
                      const int64_t* cand_labels, const VectorFetcher& fetch, size_t k,
                      float* distances, int64_t* labels) const {
  const uint32_t dim = dimension();
  std::vector<int64_t> ids;
  for (size_t j = 0; j < candidates; ++j) {
    if (cand_labels[j] >= 0) ids.push_back(cand_labels[j]);
  }
  std::vector<float> vecs(ids.size() * dim);
  std::vector<float> exact(ids.size());
  std::vector<char> found(ids.size(), 1);
  if (!ids.empty() && !fetch(ids.size(), ids.data(), vecs.data())) {
    // Some label is unknown to the fetcher: fetch one by one and drop the missing ones
    // rather than trusting a partially filled buffer.
    for (size_t j = 0; j < ids.size(); ++j) {
      found[j] = fetch(1, &ids[j], vecs.data() + j * dim) ? 1 : 0;
    }
  }
  for (size_t j = 0; j < ids.size(); ++j) {
    const float* v = vecs.data() + j * dim;
    if (!found[j]) {
      ids[j] = -1;
    } else if (metric_ == Metric::kL2) {
      exact[j] = faiss::fvec_L2sqr(query, v, dim);
    } else {
      exact[j] = -faiss::fvec_inner_product(query, v, dim);
    }
  }
  (void)cand_distances;
  SortByDistanceThenLabel(ids.size(), exact.data(), ids.data());
  for (size_t j = 0; j < k; ++j) {
    const bool have = j < ids.size() && ids[j] >= 0;
    labels[j] = have ? ids[j] : -1;
    distances[j] = have ? exact[j] : std::numeric_limits<float>::infinity();
  }
}

void IvfIndex::SearchAtNprobe(size_t nq, const float* queries, size_t k, const SearchParams& params,
                              int nprobe, float* distances, int64_t* labels) const {
  const bool refine = spec_.compressed() && params.refine != nullptr && *params.refine;
  const size_t factor = static_cast<size_t>(std::max(1, params.refine_factor));
  SearchPlan plan;
  plan.k_out = refine ? k * factor : k;
  plan.k_needed = k;
  plan.nprobe = nprobe;
  plan.max_nprobe = static_cast<int>(spec_.nlist);
  plan.index_size = size();
  plan.filtered = params.filter != nullptr;
  // Re-ranking reorders the candidates anyway; ties among approximate distances do not matter.
  plan.resolve_ties = !refine;
  const LabelFilter* filter = params.filter;
  SearchPass pass = [&](size_t n, const float* q, size_t kk, int np, float* d, int64_t* l) {
    ScanPass(n, q, kk, np, filter, d, l);
  };
  if (!refine) {
    RunSearch(pass, dimension(), nq, queries, plan, distances, labels);
    return;
  }
  std::vector<float> cand_d(nq * plan.k_out);
  std::vector<int64_t> cand_l(nq * plan.k_out);
  RunSearch(pass, dimension(), nq, queries, plan, cand_d.data(), cand_l.data());
  for (size_t q = 0; q < nq; ++q) {
    Refine(queries + q * dimension(), plan.k_out, cand_d.data() + q * plan.k_out,
           cand_l.data() + q * plan.k_out, *params.refine, k, distances + q * k, labels + q * k);
  }
}

std::vector<int> IvfIndex::FilteredNprobes(size_t nq, const float* queries, int nprobe,
                                           const LabelFilter& filter) const {
  // A filter keeping a fraction s of the vectors leaves about s times the candidates in the
  // probed lists, so the same recall needs about nprobe / s lists. s is measured per query on
  // the lists the plain nprobe would visit (id checks only, no distances).
  std::vector<float> coarse_d(nq * nprobe);
  std::vector<FaissId> coarse_l(nq * nprobe);
  std::vector<int> out(nq, nprobe);
  try {
    CoarseAssign(nq, queries, nprobe, coarse_d.data(), coarse_l.data());
  } catch (const std::exception&) {
    return out;
  }
  const int nlist = static_cast<int>(spec_.nlist);
  for (size_t q = 0; q < nq; ++q) {
    size_t scanned = 0, passing = 0;
    for (int j = 0; j < nprobe; ++j) {
      const FaissId list = coarse_l[q * nprobe + j];
      if (list < 0) continue;
      const size_t n = index_->invlists->list_size(list);
      faiss::InvertedLists::ScopedIds ids(index_->invlists, list);
      for (size_t i = 0; i < n; ++i) passing += filter.Contains(ids[i]) ? 1 : 0;
      scanned += n;
    }
    const double scale =
        static_cast<double>(scanned) / static_cast<double>(std::max<size_t>(passing, 1));
    out[q] = static_cast<int>(std::min<double>(nlist, std::ceil(nprobe * std::max(1.0, scale))));
  }
  return out;
}

void IvfIndex::Search(size_t nq, const float* queries, size_t k, const SearchParams& params,
                      float* distances, int64_t* labels) const {
  if (nq == 0 || k == 0) return;
  const int nprobe =
      params.nprobe > 0 ? std::min(params.nprobe, static_cast<int>(spec_.nlist)) : default_nprobe_;
  if (params.filter == nullptr || !params.scale_nprobe_to_filter || size() == 0) {
    SearchAtNprobe(nq, queries, k, params, nprobe, distances, labels);
    return;
  }
  // Queries needing the same number of lists are searched together, keeping FAISS's
  // parallelism over queries.
  const std::vector<int> nprobes = FilteredNprobes(nq, queries, nprobe, *params.filter);
  std::map<int, std::vector<size_t>> groups;
  for (size_t q = 0; q < nq; ++q) groups[nprobes[q]].push_back(q);
  const uint32_t dim = dimension();
  std::vector<float> group_q, group_d;
  std::vector<int64_t> group_l;
  for (const auto& [group_nprobe, members] : groups) {
    if (members.size() == nq) {
      SearchAtNprobe(nq, queries, k, params, group_nprobe, distances, labels);
      return;
    }
    group_q.resize(members.size() * dim);
    group_d.resize(members.size() * k);
    group_l.resize(members.size() * k);
    for (size_t i = 0; i < members.size(); ++i) {
      std::copy_n(queries + members[i] * dim, dim, group_q.data() + i * dim);
    }
    SearchAtNprobe(members.size(), group_q.data(), k, params, group_nprobe, group_d.data(),
                   group_l.data());
    for (size_t i = 0; i < members.size(); ++i) {
      std::copy_n(group_d.data() + i * k, k, distances + members[i] * k);
      std::copy_n(group_l.data() + i * k, k, labels + members[i] * k);
    }
  }
}

IndexStats IvfIndex::Stats() const {
  IndexStats stats;
  stats.kind = spec_.ToString();
  stats.size = size();
  stats.nlist = spec_.nlist;
  stats.imbalance = size() > 0 ? index_->invlists->imbalance_factor() : 0.0;
  // List codes and ids, the coarse centroids, the direct map (~40 bytes per hash node) and,
  // for PQ, the precomputed distance tables.
  uint64_t bytes = size() * (index_->code_size + sizeof(FaissId));
  bytes += uint64_t{spec_.nlist} * dimension() * sizeof(float);
  if (sketch_ != nullptr) bytes += sketch_->memory_bytes();
  bytes += size() * 40 + index_->direct_map.hashtable.bucket_count() * sizeof(void*);
  if (const auto* pq = dynamic_cast<const faiss::IndexIVFPQ*>(index_.get())) {
    bytes += pq->precomputed_table.size() * sizeof(float) + pq->pq.centroids.size() * sizeof(float);
  }
  if (const auto* sq = dynamic_cast<const faiss::IndexIVFScalarQuantizer*>(index_.get())) {
    bytes += sq->sq.trained.size() * sizeof(float);
  }
  stats.memory_bytes = bytes;
  return stats;
}

Status IvfIndex::WritePayload(faiss::IOWriter* writer, SnapshotHeader* header) const {
  try {
    faiss::write_index(index_.get(), writer);
  } catch (const std::exception& e) {
    return Status::Aborted(std::string("FAISS could not serialize the index: ") + e.what());
  }
  header->kind = spec_.kind;
  header->metric = metric_;
  header->dim = dimension();
  header->nlist = spec_.nlist;
  header->pq_m = spec_.pq_m;
  header->default_nprobe = default_nprobe_;
  return Status::OK();
}

Status IvfIndex::ReadPayload(const SnapshotHeader& header, faiss::IOReader* reader,
                             std::unique_ptr<VectorIndex>* out) {
  std::unique_ptr<faiss::Index> raw;
  try {
    raw.reset(faiss::read_index(reader));
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("FAISS could not read the index snapshot: ") + e.what());
  }
  auto* ivf = dynamic_cast<faiss::IndexIVF*>(raw.get());
  if (ivf == nullptr) return Status::Corruption("index snapshot does not hold an IVF index");
  bool kind_ok = false;
  switch (header.kind) {
    case IndexSpec::Kind::kIvfFlat:
      kind_ok = typeid(*ivf) == typeid(faiss::IndexIVFFlat);
      break;
    case IndexSpec::Kind::kIvfSq8: {
      auto* sq = dynamic_cast<faiss::IndexIVFScalarQuantizer*>(ivf);
      kind_ok = sq != nullptr && sq->sq.qtype == faiss::ScalarQuantizer::QT_8bit;
      break;
    }
    case IndexSpec::Kind::kIvfPq: {
      auto* pq = dynamic_cast<faiss::IndexIVFPQ*>(ivf);
      kind_ok = pq != nullptr && typeid(*pq) == typeid(faiss::IndexIVFPQ) &&
                pq->pq.M == header.pq_m && pq->pq.nbits == 8;
      break;
    }
    case IndexSpec::Kind::kFlat:
      break;
  }
  if (!kind_ok || static_cast<uint32_t>(ivf->d) != header.dim ||
      ivf->metric_type != ToFaiss(header.metric) || ivf->nlist != header.nlist ||
      dynamic_cast<const faiss::IndexFlat*>(ivf->quantizer) == nullptr ||
      ivf->quantizer->metric_type != ivf->metric_type ||
      ivf->quantizer->ntotal != static_cast<FaissId>(ivf->nlist) || !ivf->is_trained) {
    return Status::Corruption("index snapshot's FAISS index disagrees with its header (kind " +
                              std::to_string(static_cast<int>(header.kind)) + ", dimension " +
                              std::to_string(header.dim) + ")");
  }
  try {
    if (ivf->direct_map.type != faiss::DirectMap::Hashtable) {
      ivf->set_direct_map_type(faiss::DirectMap::Hashtable);
    }
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("index snapshot: cannot rebuild id map: ") + e.what());
  }
  IndexSpec spec;
  spec.kind = header.kind;
  spec.nlist = header.nlist;
  spec.pq_m = header.pq_m;
  raw.release();
  *out = std::make_unique<IvfIndex>(spec, header.metric, std::unique_ptr<faiss::IndexIVF>(ivf),
                                    header.default_nprobe);
  return Status::OK();
}

}  // namespace emberdb::ann
