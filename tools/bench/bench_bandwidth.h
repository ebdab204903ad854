// emberdb-bench bandwidth: bytes of vector data one query scans, and the GB/s that achieves.
// The scan is memory-bound, so GB/s against the machine's streaming bandwidth says how far a
// configuration is from the floor the hardware sets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "bench_data.h"

namespace faiss {
struct IndexIVF;
}

namespace emberdb::bench {

// Bytes per stored code: dim*4 (Flat, IVF-Flat), dim (SQ8), m (PQ, 8-bit codes); 0 for a kind
// string that does not parse.
uint64_t CodeBytes(const std::string& kind, uint32_t dim);

// Estimated bytes one query scans, from list sizes on average: the coarse quantizer's
// centroids plus nprobe / nlist of the n codes; exact ("Flat") kinds scan all n vectors. The
// centroids are nlist * dim * 4 bytes of floats, or with `sketched_centroids` (ann/'s
// CentroidSketch, nlist >= 64) nlist * dim bytes plus the float rows of about nprobe centroids
// re-scored. `refine_k` > 0 adds the exact float vectors of refine_k candidates re-ranked by
// compressed kinds. 0 when `kind` does not parse.
double EstimateScanBytes(const std::string& kind, uint64_t n, uint32_t dim, int nprobe,
                         size_t refine_k, bool sketched_centroids);

// Exact mean bytes a query of `queries` scans in `index` at `nprobe`: its centroids plus the
// codes of the lists it actually probes (real list sizes; probed lists are often larger than
// average, since queries fall where the data is dense).
double MeasureScanBytes(const faiss::IndexIVF& index, const Matrix& queries, int nprobe);

// GB/s (1e9 bytes per second) of scanning `bytes` in `seconds`; 0 when either is 0.
double GigabytesPerSecond(double bytes, double seconds);

}  // namespace emberdb::bench
