// The BERT encoder (HF BertModel, eager attention, absolute positions, token_type 0) in float32
// on OpenBLAS. Weights come from a SafetensorsFile (F32 used in place when aligned; F16/BF16
// upcast once at load). Forward() is single-threaded and re-entrant: callers parallelise over
// batches, each thread with its own BertWorkspace, and OpenBLAS must run single-threaded (see
// bert_embedder.cc).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "embedder/safetensors.h"
#include "emberdb/status.h"

namespace emberdb::embedder {

struct BertConfig {
  int vocab_size = 0;
  int hidden_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int intermediate_size = 0;
  int max_position_embeddings = 0;
  int type_vocab_size = 0;
  float layer_norm_eps = 1e-12f;
  int pad_token_id = 0;
  std::string name_or_path;
};

// Parses and range-checks config.json's text. `label` names the file in errors.
Status ParseBertConfig(const std::string& json_text, const std::string& label, BertConfig* out);

// Memory for large activation buffers, 2 MiB-aligned and advised to use transparent huge pages
// (often in "madvise" mode) from 4 MiB up; smaller requests are plain malloc. The GEMMs walk
// these matrices row by row, one 4 KiB page per row, and with ordinary pages TLB misses cost
// about 10% of single-thread encoder time (bge-base). Throws std::bad_alloc like operator new.
void* AllocateHugePages(size_t bytes);
void FreeHugePages(void* p);

template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(AllocateHugePages(n * sizeof(T))); }
  void deallocate(T* p, size_t) { FreeHugePages(p); }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};
using ActivationBuffer = std::vector<float, HugePageAllocator<float>>;

// Scratch buffers for one thread; they grow to the largest batch seen and are reused.
struct BertWorkspace {
  ActivationBuffer x, tmp, qkv, ctx, inter, scores;
  std::vector<int> rows;    // packed row -> b * seq_len + t of each real token
  std::vector<int> starts;  // first packed row of each sequence, plus the end
};

class BertModel {
 public:
  // Finds the tensors (with an optional "bert." or "model." prefix; LayerNorm gamma/beta
  // accepted for weight/bias), checks every shape against `config` and keeps `file` alive.
  static Status Load(std::shared_ptr<const SafetensorsFile> file, const BertConfig& config,
                     std::unique_ptr<BertModel>* out);

  const BertConfig& config() const { return config_; }
  // FNV-1a (64-bit, over 8-byte little-endian words, tail bytewise) of the used tensors' names,
  // dtypes, shapes and raw bytes, in a fixed order.
  uint64_t weights_hash() const { return weights_hash_; }

  // Runs `batch` sequences padded to `seq_len` (ids and mask are batch*seq_len, mask 1 for real
  // tokens, 0 for padding; seq_len <= max_position_embeddings; ids < vocab_size, checked by the
  // caller). Writes the last hidden state (batch*seq_len*hidden) to `hidden`; padded positions
  // are not computed (real tokens are packed; masked keys have exactly zero weight in HF's
  // attention) and come out as zeros. When `layer_outputs` is set it receives the embedding
  // output and each layer's output, laid out like `hidden`.
  void Forward(const int32_t* ids, const uint8_t* mask, int batch, int seq_len, BertWorkspace* ws,
               float* hidden, std::vector<std::vector<float>>* layer_outputs = nullptr) const;

 private:
  struct Layer {
    const float *qkv_w, *qkv_b;  // fused [3H, H] and [3H]
    const float *out_w, *out_b, *ln1_g, *ln1_b;
    const float *inter_w, *inter_b, *ffn_out_w, *ffn_out_b, *ln2_g, *ln2_b;
  };
  BertModel() = default;
  Status Take(const std::string& name, std::vector<uint64_t> shape, const float** out);

  BertConfig config_;
  std::shared_ptr<const SafetensorsFile> file_;
  std::string prefix_;
  std::vector<std::unique_ptr<std::vector<float>>> owned_;  // upcast or fused tensors
  const float *word_ = nullptr, *position_ = nullptr, *token_type_ = nullptr;
  const float *emb_ln_g_ = nullptr, *emb_ln_b_ = nullptr;
  std::vector<Layer> layers_;
  uint64_t weights_hash_ = 0;
};

}  // namespace emberdb::embedder
