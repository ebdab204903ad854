// The "hf:/path" embedder: BertEncoder behind the public Embedder interface, with the
// model's (or the caller's) query/document prompts and the model's identity.
#include "embedder/bert_embedder.h"

#include <cstdio>

#include "embedder/bert_encoder.h"

namespace emberdb::embedder {
namespace {

class BertEmbedder final : public Embedder {
 public:
  BertEmbedder(std::unique_ptr<BertEncoder> encoder, const EmbedderOptions& options)
      : encoder_(std::move(encoder)), truncation_is_error_(options.truncation_is_error) {
    const ModelFolder& f = encoder_->folder();
    query_prompt_ = options.query_prompt ? *options.query_prompt : f.query_prompt.value_or("");
    document_prompt_ =
        options.document_prompt ? *options.document_prompt : f.document_prompt.value_or("");
    identity_.kind = "hf";
    identity_.model = f.model_name;
    identity_.dimension = encoder_->dimension();
    // The weights' hash, folded with what else shapes the vector space (pooling, Normalize,
    // max_seq_length); prompts are per call and not part of it.
    uint64_t h = encoder_->model().weights_hash();
    const std::string extra = f.pooling.Describe() + (f.normalize ? "/normalize/" : "/raw/") +
                              std::to_string(f.max_seq_length);
    for (unsigned char ch : extra) h = (h ^ ch) * 0x100000001b3ull;
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
    identity_.fingerprint = std::string("fnv1a64w:") + hex;
  }

  uint32_t dimension() const override { return identity_.dimension; }
  EmbedderIdentity identity() const override { return identity_; }

  Status EmbedDocuments(const std::vector<std::string>& texts, std::vector<float>* out,
                        EmbedReport* report) override {
    return Run(texts, document_prompt_, out, report);
  }
  Status EmbedQuery(const std::vector<std::string>& texts, std::vector<float>* out,
                    EmbedReport* report) override {
    return Run(texts, query_prompt_, out, report);
  }

 private:
  Status Run(const std::vector<std::string>& texts, const std::string& prompt,
             std::vector<float>* out, EmbedReport* report) {
    std::vector<uint32_t> dropped;
    EMBERDB_RETURN_IF_ERROR(
        encoder_->EmbedTexts(texts, prompt, truncation_is_error_, out, &dropped));
    if (report != nullptr) report->dropped_tokens = std::move(dropped);
    return Status::OK();
  }

  std::unique_ptr<BertEncoder> encoder_;
  bool truncation_is_error_;
  std::string query_prompt_, document_prompt_;
  EmbedderIdentity identity_;
};

}  // namespace

Status NewBertEmbedder(const std::string& folder, const EmbedderOptions& options,
                       std::unique_ptr<Embedder>* out) {
  std::unique_ptr<BertEncoder> encoder;
  EMBERDB_RETURN_IF_ERROR(BertEncoder::Open(folder, options.threads, &encoder));
  *out = std::make_unique<BertEmbedder>(std::move(encoder), options);
  return Status::OK();
}

}  // namespace emberdb::embedder
