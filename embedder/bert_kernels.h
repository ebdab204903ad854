// The element-wise parts of the BERT forward pass (everything that is not an sgemm), written
// so the compiler vectorises them; each has AVX-512, AVX2+FMA and baseline clones chosen at
// load time (GCC target_clones), since the project builds for generic x86-64.
#pragma once

#include <cstddef>
#include <cstdint>

namespace emberdb::embedder {

// erf(x) to within 5e-7 absolute of the exact value (checked by a test against std::erf):
// Eigen's rational approximation on [-4, 4], saturated outside.
float ErfApprox(float x);
// exp(x) for x <= 0 to within 2 ulp (Cephes' expf polynomial); exp(x < -87.3) returns ~1e-38.
float ExpNonPositive(float x);

// rows x cols, row-major: x[r][c] += bias[c].
void AddBias(float* x, const float* bias, size_t rows, int cols);
// x[r][c] = gelu_erf(x[r][c] + bias[c]), gelu_erf(u) = u/2 * (1 + erf(u/sqrt(2))).
void AddBiasGelu(float* x, const float* bias, size_t rows, int cols);
// x[r] = LayerNorm(y[r] + bias + x[r]) (residual, then HF LayerNorm with gain g, shift b).
void AddBiasResidualLayerNorm(float* x, const float* y, const float* bias, const float* g,
                              const float* b, size_t rows, int cols, float eps);
// y[r][c] = bias[c] (+ residual[r][c] when residual is not null).
void FillRows(float* y, const float* bias, const float* residual, size_t rows, int cols);
// x = gelu_erf(x), element-wise over rows x cols.
void GeluRows(float* x, size_t rows, int cols);
// LayerNorm of each row in place.
void LayerNormRows(float* x, const float* g, const float* b, size_t rows, int cols, float eps);
// Softmax of each of `rows` rows of length n (stride n), in place. mask (n entries, may be
// null): keys with mask 0 get weight exactly 0, as HF's additive finfo.min mask gives.
void SoftmaxRows(float* s, size_t rows, int n, const uint8_t* mask);

}  // namespace emberdb::embedder
