#include "embedder/bert_model.h"

#include <cblas.h>
#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <nlohmann/json.hpp>

#include "embedder/bert_kernels.h"

namespace emberdb::embedder {
namespace {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001b3ull;

uint64_t Fnv1aWords(uint64_t h, const uint8_t* p, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);  // little-endian host (x86-64, aarch64)
    h = (h ^ w) * kFnvPrime;
  }
  for (; i < n; ++i) h = (h ^ p[i]) * kFnvPrime;
  return h;
}

uint64_t Fnv1aString(uint64_t h, const std::string& s) {
  return Fnv1aWords(h, reinterpret_cast<const uint8_t*>(s.data()), s.size()) ^ s.size();
}

Status ReadInt(const nlohmann::json& j, const char* key, int default_value, int64_t lo, int64_t hi,
               const std::string& label, int* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    *out = default_value;
    return Status::OK();
  }
  if (!it->is_number_integer() || it->get<int64_t>() < lo || it->get<int64_t>() > hi) {
    return Status::InvalidArgument(label + ": '" + key + "' must be an integer in [" +
                                   std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                                   it->dump());
  }
  *out = static_cast<int>(it->get<int64_t>());
  return Status::OK();
}

// y = x·Wᵀ + beta·y for row-major x [rows, in] and torch-layout W [out, in].
void Linear(const float* x, const float* w, int rows, int in, int out, float beta, float* y) {
  if (rows == 0) return;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.0f, x, in, w, in, beta, y,
              out);
}

// Buffers only grow; their old contents are dead, so growing does not copy them.
void Grow(ActivationBuffer* v, size_t n) {
  if (v->size() >= n) return;
  v->clear();
  v->resize(n);
}

}  // namespace

void* AllocateHugePages(size_t bytes) {
  constexpr size_t kHugePage = size_t{2} << 20;
  if (bytes < 2 * kHugePage) {
    void* p = std::malloc(bytes == 0 ? 1 : bytes);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* p = std::aligned_alloc(kHugePage, rounded);
  if (p == nullptr) throw std::bad_alloc();
  madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure leaves ordinary pages
  return p;
}

void FreeHugePages(void* p) { std::free(p); }

Status ParseBertConfig(const std::string& json_text, const std::string& label, BertConfig* out) {
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return Status::InvalidArgument(label + ": not a JSON object");
  BertConfig c;
  // Defaults are HF BertConfig's, as transformers applies them to missing keys.
  EMBERDB_RETURN_IF_ERROR(ReadInt(j, "vocab_size", 30522, 1, 1 << 22, label, &c.vocab_size));
  EMBERDB_RETURN_IF_ERROR(ReadInt(j, "hidden_size", 768, 1, 16384, label, &c.hidden_size));
  EMBERDB_RETURN_IF_ERROR(ReadInt(j, "num_hidden_layers", 12, 1, 256, label, &c.num_layers));
  EMBERDB_RETURN_IF_ERROR(ReadInt(j, "num_attention_heads", 12, 1, 1024, label, &c.num_heads));
  EMBERDB_RETURN_IF_ERROR(
      ReadInt(j, "intermediate_size", 3072, 1, 1 << 17, label, &c.intermediate_size));
  EMBERDB_RETURN_IF_ERROR(
      ReadInt(j, "max_position_embeddings", 512, 1, 1 << 16, label, &c.max_position_embeddings));
  EMBERDB_RETURN_IF_ERROR(ReadInt(j, "type_vocab_size", 2, 1, 1 << 16, label, &c.type_vocab_size));
  EMBERDB_RETURN_IF_ERROR(ReadInt(j, "pad_token_id", 0, 0, (1 << 22) - 1, label, &c.pad_token_id));
  if (c.hidden_size % c.num_heads != 0) {
    return Status::InvalidArgument(label + ": hidden_size " + std::to_string(c.hidden_size) +
                                   " is not a multiple of num_attention_heads " +
                                   std::to_string(c.num_heads));
  }
  if (auto it = j.find("layer_norm_eps"); it != j.end()) {
    if (!it->is_number() || !(it->get<double>() > 0) || !(it->get<double>() < 1)) {
      return Status::InvalidArgument(label + ": layer_norm_eps must be a number in (0, 1)");
    }
    c.layer_norm_eps = static_cast<float>(it->get<double>());
  }
  auto string_field = [&](const char* key, const char* default_value) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string(default_value);
  };
  const std::string model_type = string_field("model_type", "bert");
  if (model_type != "bert") {
    return Status::NotSupported(label + ": model_type '" + model_type +
                                "' is not supported (only 'bert')");
  }
  const std::string act = string_field("hidden_act", "gelu");
  if (act != "gelu") {
    return Status::NotSupported(label + ": hidden_act '" + act +
                                "' is not supported (only exact-erf 'gelu')");
  }
  const std::string pos = string_field("position_embedding_type", "absolute");
  if (pos != "absolute") {
    return Status::NotSupported(label + ": position_embedding_type '" + pos +
                                "' is not supported (only 'absolute')");
  }
  c.name_or_path = string_field("_name_or_path", "");
  *out = c;
  return Status::OK();
}

Status BertModel::Take(const std::string& name, std::vector<uint64_t> shape, const float** out) {
  const SafetensorInfo* t = file_->Find(prefix_ + name);
  if (t == nullptr) {
    // Old checkpoints name LayerNorm parameters gamma/beta (HF renames them when loading).
    std::string alt = name;
    if (alt.ends_with("LayerNorm.weight")) alt.replace(alt.size() - 6, 6, "gamma");
    if (alt.ends_with("LayerNorm.bias")) alt.replace(alt.size() - 4, 4, "beta");
    t = file_->Find(prefix_ + alt);
  }
  if (t == nullptr) {
    return Status::InvalidArgument(file_->label() + ": missing tensor '" + prefix_ + name + "'");
  }
  if (t->shape != shape) {
    // Appended piecewise: `"," + std::to_string(d)` trips a GCC 12 -Wrestrict false positive.
    auto join = [](const std::vector<uint64_t>& dims) {
      std::string text;
      for (auto d : dims) {
        if (!text.empty()) text += ',';
        text += std::to_string(d);
      }
      return text;
    };
    const std::string want = join(shape), got = join(t->shape);
    return Status::InvalidArgument(file_->label() + ": tensor '" + t->name + "' has shape [" + got +
                                   "], config.json implies [" + want + "]");
  }
  weights_hash_ = Fnv1aString(weights_hash_, t->name);
  weights_hash_ = Fnv1aString(weights_hash_, t->dtype);
  for (auto d : t->shape) weights_hash_ = (weights_hash_ ^ d) * kFnvPrime;
  weights_hash_ = Fnv1aWords(weights_hash_, t->data, t->num_bytes);
  if (t->dtype == "F32" && reinterpret_cast<uintptr_t>(t->data) % alignof(float) == 0) {
    *out = reinterpret_cast<const float*>(t->data);  // used in place, straight from the mapping
    return Status::OK();
  }
  auto owned = std::make_unique<std::vector<float>>();
  EMBERDB_RETURN_IF_ERROR(file_->ReadAsFloat(*t, owned.get()));
  *out = owned->data();
  owned_.push_back(std::move(owned));
  return Status::OK();
}

Status BertModel::Load(std::shared_ptr<const SafetensorsFile> file, const BertConfig& config,
                       std::unique_ptr<BertModel>* out) {
  auto model = std::unique_ptr<BertModel>(new BertModel());
  model->config_ = config;
  model->file_ = std::move(file);
  model->weights_hash_ = kFnvOffset;
  const SafetensorsFile& f = *model->file_;
  for (const char* prefix : {"", "bert.", "model."}) {
    if (f.Find(std::string(prefix) + "embeddings.word_embeddings.weight") != nullptr) {
      model->prefix_ = prefix;
      break;
    }
  }
  const uint64_t h = config.hidden_size, inter = config.intermediate_size;
  BertModel& m = *model;
  EMBERDB_RETURN_IF_ERROR(m.Take("embeddings.word_embeddings.weight",
                                 {static_cast<uint64_t>(config.vocab_size), h}, &m.word_));
  EMBERDB_RETURN_IF_ERROR(m.Take("embeddings.position_embeddings.weight",
                                 {static_cast<uint64_t>(config.max_position_embeddings), h},
                                 &m.position_));
  EMBERDB_RETURN_IF_ERROR(m.Take("embeddings.token_type_embeddings.weight",
                                 {static_cast<uint64_t>(config.type_vocab_size), h},
                                 &m.token_type_));
  EMBERDB_RETURN_IF_ERROR(m.Take("embeddings.LayerNorm.weight", {h}, &m.emb_ln_g_));
  EMBERDB_RETURN_IF_ERROR(m.Take("embeddings.LayerNorm.bias", {h}, &m.emb_ln_b_));
  for (int l = 0; l < config.num_layers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    Layer layer;
    const float *q_w, *q_b, *k_w, *k_b, *v_w, *v_b;
    EMBERDB_RETURN_IF_ERROR(m.Take(p + "attention.self.query.weight", {h, h}, &q_w));
    EMBERDB_RETURN_IF_ERROR(m.Take(p + "attention.self.query.bias", {h}, &q_b));
    EMBERDB_RETURN_IF_ERROR(m.Take(p + "attention.self.key.weight", {h, h}, &k_w));
    EMBERDB_RETURN_IF_ERROR(m.Take(p + "attention.self.key.bias", {h}, &k_b));
    EMBERDB_RETURN_IF_ERROR(m.Take(p + "attention.self.value.weight", {h, h}, &v_w));
    EMBERDB_RETURN_IF_ERROR(m.Take(p + "attention.self.value.bias", {h}, &v_b));
    // Q, K and V as one [3H, H] matrix: one sgemm instead of three.
    auto qkv_w = std::make_unique<std::vector<float>>(3 * h * h);
    auto qkv_b = std::make_unique<std::vector<float>>(3 * h);
    std::memcpy(qkv_w->data(), q_w, h * h * 4);
    std::memcpy(qkv_w->data() + h * h, k_w, h * h * 4);
    std::memcpy(qkv_w->data() + 2 * h * h, v_w, h * h * 4);
    std::memcpy(qkv_b->data(), q_b, h * 4);
    std::memcpy(qkv_b->data() + h, k_b, h * 4);
    std::memcpy(qkv_b->data() + 2 * h, v_b, h * 4);
    layer.qkv_w = qkv_w->data();
    layer.qkv_b = qkv_b->data();
    m.owned_.push_back(std::move(qkv_w));
    m.owned_.push_back(std::move(qkv_b));
    EMBERDB_RETURN_IF_ERROR(m.Take(p + "attention.output.dense.weight", {h, h}, &layer.out_w));
    EMBERDB_RETURN_IF_ERROR(m.Take(p + "attention.output.dense.bias", {h}, &layer.out_b));
    EMBERDB_RETURN_IF_ERROR(m.Take(p + "attention.output.LayerNorm.weight", {h}, &layer.ln1_g));
    EMBERDB_RETURN_IF_ERROR(m.Take(p + "attention.output.LayerNorm.bias", {h}, &layer.ln1_b));
    EMBERDB_RETURN_IF_ERROR(m.Take(p + "intermediate.dense.weight", {inter, h}, &layer.inter_w));
    EMBERDB_RETURN_IF_ERROR(m.Take(p + "intermediate.dense.bias", {inter}, &layer.inter_b));
    EMBERDB_RETURN_IF_ERROR(m.Take(p + "output.dense.weight", {h, inter}, &layer.ffn_out_w));
    EMBERDB_RETURN_IF_ERROR(m.Take(p + "output.dense.bias", {h}, &layer.ffn_out_b));
    EMBERDB_RETURN_IF_ERROR(m.Take(p + "output.LayerNorm.weight", {h}, &layer.ln2_g));
    EMBERDB_RETURN_IF_ERROR(m.Take(p + "output.LayerNorm.bias", {h}, &layer.ln2_b));
    m.layers_.push_back(layer);
  }
  *out = std::move(model);
  return Status::OK();
}

void BertModel::Forward(const int32_t* ids, const uint8_t* mask, int batch, int seq_len,
                        BertWorkspace* ws, float* hidden,
                        std::vector<std::vector<float>>* layer_outputs) const {
  const int H = config_.hidden_size, NH = config_.num_heads, D = H / NH;
  const int I = config_.intermediate_size, L = seq_len;
  const float eps = config_.layer_norm_eps;
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));

  // Padding is never computed: the real tokens are packed row after row, sequence after
  // sequence. Masked keys get exactly zero softmax weight in HF's formulation, so packing gives
  // the same values at real positions; padded positions (unspecified) come out as zeros.
  ws->rows.clear();
  ws->starts.assign(1, 0);
  for (int b = 0; b < batch; ++b) {
    for (int t = 0; t < L; ++t) {
      if (mask[static_cast<size_t>(b) * L + t]) ws->rows.push_back(b * L + t);
    }
    ws->starts.push_back(static_cast<int>(ws->rows.size()));
  }
  const size_t N = ws->rows.size();
  int longest = 0;
  for (int b = 0; b < batch; ++b) longest = std::max(longest, ws->starts[b + 1] - ws->starts[b]);
  Grow(&ws->x, N * H);
  Grow(&ws->tmp, N * H);
  Grow(&ws->qkv, N * 3 * H);
  Grow(&ws->ctx, N * H);
  Grow(&ws->inter, N * I);
  Grow(&ws->scores, static_cast<size_t>(longest) * longest);
  float* x = ws->x.data();
  float* tmp = ws->tmp.data();
  float* qkv = ws->qkv.data();
  float* ctx = ws->ctx.data();
  float* inter = ws->inter.data();
  float* scores = ws->scores.data();
  auto unpack = [&](const float* packed, float* out) {
    std::fill(out, out + static_cast<size_t>(batch) * L * H, 0.0f);
    for (size_t n = 0; n < N; ++n) {
      std::copy(packed + n * H, packed + (n + 1) * H, out + static_cast<size_t>(ws->rows[n]) * H);
    }
  };
  auto record = [&](const float* packed) {
    if (layer_outputs == nullptr) return;
    layer_outputs->emplace_back(static_cast<size_t>(batch) * L * H);
    unpack(packed, layer_outputs->back().data());
  };
  if (layer_outputs != nullptr) layer_outputs->clear();

  for (size_t n = 0; n < N; ++n) {
    const int row = ws->rows[n];
    const float* w = word_ + static_cast<size_t>(ids[row]) * H;
    const float* p = position_ + static_cast<size_t>(row % L) * H;
    float* out = x + n * H;
    for (int i = 0; i < H; ++i) out[i] = w[i] + token_type_[i] + p[i];
  }
  LayerNormRows(x, emb_ln_g_, emb_ln_b_, N, H, eps);
  record(x);

  const int rows = static_cast<int>(N);
  for (const Layer& layer : layers_) {
    // Biases (and residuals) are written first and the sgemm accumulates onto them (beta = 1),
    // which saves OpenBLAS's zeroing pass and a separate bias pass.
    FillRows(qkv, layer.qkv_b, nullptr, N, 3 * H);
    Linear(x, layer.qkv_w, rows, H, 3 * H, 1.0f, qkv);
    for (int b = 0; b < batch; ++b) {
      const int begin = ws->starts[b], len = ws->starts[b + 1] - begin;
      if (len == 0) continue;
      const float* base = qkv + static_cast<size_t>(begin) * 3 * H;
      for (int h = 0; h < NH; ++h) {
        const float* q = base + h * D;
        const float* k = base + H + h * D;
        const float* v = base + 2 * H + h * D;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, len, len, D, scale, q, 3 * H, k, 3 * H,
                    0.0f, scores, len);
        SoftmaxRows(scores, len, len, nullptr);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, len, D, len, 1.0f, scores, len, v,
                    3 * H, 0.0f, ctx + static_cast<size_t>(begin) * H + h * D, H);
      }
    }
    FillRows(tmp, layer.out_b, x, N, H);
    Linear(ctx, layer.out_w, rows, H, H, 1.0f, tmp);
    LayerNormRows(tmp, layer.ln1_g, layer.ln1_b, N, H, eps);
    std::swap(x, tmp);
    FillRows(inter, layer.inter_b, nullptr, N, I);
    Linear(x, layer.inter_w, rows, H, I, 1.0f, inter);
    GeluRows(inter, N, I);
    FillRows(tmp, layer.ffn_out_b, x, N, H);
    Linear(inter, layer.ffn_out_w, rows, I, H, 1.0f, tmp);
    LayerNormRows(tmp, layer.ln2_g, layer.ln2_b, N, H, eps);
    std::swap(x, tmp);
    record(x);
  }
  unpack(x, hidden);
}

}  // namespace emberdb::embedder
