// Embedders turn text into vectors. A spec string selects one:
//
//   hash                      the built-in, weight-free lexical embedder (384 dimensions)
//   hash:dim=768              the same with another dimension
//   hf:/path/to/model-folder  a BERT-family sentence-transformers model (safetensors), on OpenBLAS
//   ollama:MODEL@http://127.0.0.1:11434          an Ollama server (POST /api/embed)
//   openai:MODEL@http://host:port[/v1]          an OpenAI-compatible server (POST /v1/embeddings);
//                                                the API key comes from $OPENAI_API_KEY, or the
//                                                variable named by EmbedderOptions::api_key_env
//   host:NAME                 a function the application registered in EmbedderOptions
//
// Collections persist their embedder spec and identity; see CollectionOptions::embedder.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emberdb/status.h"

namespace emberdb {

// Who made a vector. Two embedders with equal identities produce the same vector space.
struct EmbedderIdentity {
  std::string kind;   // "hash", "hf", "ollama", "openai", "host"
  std::string model;  // model name or folder name; "" for hash
  uint32_t dimension = 0;
  std::string fingerprint;  // e.g. a hash of the weights or of the hashing parameters
};

// Per-call details that a caller may want to report.
struct EmbedReport {
  // For each input text, how many tokens were dropped by truncation at max_seq_length
  // (always 0 for embedders without a token limit).
  std::vector<uint32_t> dropped_tokens;
};

class Embedder {
 public:
  virtual ~Embedder() = default;

  virtual uint32_t dimension() const = 0;
  virtual EmbedderIdentity identity() const = 0;

  // Embeds passages for storage: applies the model's document prompt, if any.
  // On success `out` holds texts.size() * dimension() floats, row-major.
  virtual Status EmbedDocuments(const std::vector<std::string>& texts, std::vector<float>* out,
                                EmbedReport* report = nullptr) = 0;

  // Embeds a search query: applies the model's query prompt, if any.
  virtual Status EmbedQuery(const std::vector<std::string>& texts, std::vector<float>* out,
                            EmbedReport* report = nullptr) = 0;

  // Embeds texts as they are, as documents.
  Status Embed(const std::vector<std::string>& texts, std::vector<float>* out) {
    return EmbedDocuments(texts, out, nullptr);
  }
};

// An embedding function provided by the application (spec "host:NAME").
// It must fill `out` with texts.size() * dimension floats.
struct HostEmbedFunction {
  uint32_t dimension = 0;
  std::function<Status(const std::vector<std::string>& texts, std::vector<float>* out)> embed;
};

struct EmbedderOptions {
  // Threads for local models; 0 means the process budget (Options::threads).
  int threads = 0;
  // Functions that "host:NAME" specs resolve to.
  std::map<std::string, HostEmbedFunction> host_functions;
  // Override the model's own query/document prompts (e.g. E5's "query: ").
  std::optional<std::string> query_prompt;
  std::optional<std::string> document_prompt;
  // When true, a text longer than the model's max_seq_length is an error instead of truncated.
  bool truncation_is_error = false;
  // Remote services: texts per request, per-request timeout, retries on 429/5xx.
  size_t max_batch = 64;
  int timeout_ms = 30000;
  int max_retries = 4;
  // Name of the environment variable holding the API key for openai: specs.
  std::string api_key_env = "OPENAI_API_KEY";
};

// Creates the embedder a spec names. Unknown specs are InvalidArgument; a malformed model
// folder is InvalidArgument or Corruption naming the file at fault.
Status NewEmbedder(std::string_view spec, const EmbedderOptions& options,
                   std::unique_ptr<Embedder>* out);

}  // namespace emberdb
