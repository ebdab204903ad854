// A loaded sentence-transformers BERT model: tokenizer + encoder + pooling + Normalize.
// BertEmbedder (bert_embedder.cc) wraps it behind the public Embedder interface; tests and the
// benchmark use it directly (token ids in, vectors out).
//
// Threads: texts are sorted by token count and cut into batches of similar length (at most 32
// texts and 4096 padded tokens each, padded with the pad id; the encoder packs the real tokens
// and never computes padding); `threads` workers take whole batches, each running the encoder
// single-threaded. OpenBLAS is therefore switched to one thread, once per process
// (openblas_set_num_threads(1)): its own threading would serialise concurrent sgemm calls and
// oversubscribe the cores. Results do not depend on the thread count beyond float rounding.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "embedder/bert_model.h"
#include "embedder/model_folder.h"
#include "embedder/safetensors.h"
#include "embedder/wordpiece_tokenizer.h"
#include "emberdb/status.h"

namespace emberdb::embedder {

// Pools one sequence's hidden states [seq_len, hidden] (mask: 1 for real tokens) into
// `out` (pooling.modes() * hidden floats). The first `skip` tokens are left out of the
// mean/max modes (include_prompt = false).
void PoolSequence(const BertPooling& pooling, const float* hidden, const uint8_t* mask, int seq_len,
                  int hidden_size, int skip, float* out);

// Sentence-transformers truncation: ids[:max_len-1] + [SEP]. Returns the number of dropped ids.
uint32_t TruncateIds(std::vector<int32_t>* ids, int max_len, int32_t sep_id);

class BertEncoder {
 public:
  // Batch limits; the token limit bounds each thread's FFN buffer (tokens x intermediate).
  static constexpr int kMaxBatchTexts = 32;
  static constexpr int kMaxBatchTokens = 4096;

  // Loads everything from a model folder; threads <= 0 means hardware concurrency.
  static Status Open(const std::string& folder, int threads, std::unique_ptr<BertEncoder>* out);
  // Builds an encoder from parts already loaded (the benchmark's random-weight models).
  static Status FromParts(ModelFolder folder, std::unique_ptr<BertModel> model,
                          std::unique_ptr<WordPieceTokenizer> tokenizer, int threads,
                          std::unique_ptr<BertEncoder>* out);

  const ModelFolder& folder() const { return folder_; }
  const BertModel& model() const { return *model_; }
  const WordPieceTokenizer* tokenizer() const { return tokenizer_.get(); }
  int threads() const { return threads_; }
  uint32_t dimension() const {
    return static_cast<uint32_t>(folder_.pooling.modes() * folder_.bert.hidden_size);
  }

  // Embeds token id sequences ([CLS] ... [SEP], each at most max_seq_length long, ids below
  // vocab_size: checked). prompt_lengths (optional, one per sequence) feed include_prompt=false.
  Status EmbedIds(const std::vector<std::vector<int32_t>>& ids, std::vector<float>* out,
                  const std::vector<int>* prompt_lengths = nullptr) const;

  // Tokenizes prompt + text, truncates (or fails when truncation_is_error) and embeds.
  Status EmbedTexts(const std::vector<std::string>& texts, const std::string& prompt,
                    bool truncation_is_error, std::vector<float>* out,
                    std::vector<uint32_t>* dropped_tokens) const;

 private:
  // One worker's buffers. They are kept between calls (a pool, since EmbedIds may run on
  // several threads at once): freshly allocated buffers of this size come back as new pages
  // from the kernel, and zeroing them cost a few percent of every call.
  struct Scratch {
    BertWorkspace ws;
    std::vector<int32_t> batch_ids;
    std::vector<uint8_t> mask;
    ActivationBuffer hidden;
  };
  std::unique_ptr<Scratch> AcquireScratch() const;
  void ReleaseScratch(std::unique_ptr<Scratch> scratch) const;

  BertEncoder() = default;
  mutable std::mutex scratch_mu_;
  mutable std::vector<std::unique_ptr<Scratch>> scratch_pool_;
  ModelFolder folder_;
  std::unique_ptr<BertModel> model_;
  std::unique_ptr<WordPieceTokenizer> tokenizer_;
  int threads_ = 1;
};

}  // namespace emberdb::embedder
