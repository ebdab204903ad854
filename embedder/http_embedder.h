// Remote embedding services over HTTP(S): "ollama:MODEL@URL" (POST /api/embed) and
// "openai:MODEL@URL" (an OpenAI-compatible POST /v1/embeddings). Requests are batched by
// EmbedderOptions::max_batch, retried with exponential back-off on 429, 5xx and connection
// errors, and every response is checked (count, dimension, finite values).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "emberdb/embedder.h"

namespace emberdb::embedder {

struct HttpEmbedderSpec {
  std::string kind;  // "ollama" or "openai"
  std::string model;
  std::string url;  // as given, e.g. "http://127.0.0.1:11434" or "https://host/v1"
};

// Parses "MODEL@URL" (the part after "ollama:" or "openai:").
Status ParseHttpSpec(std::string_view kind, std::string_view model_at_url, HttpEmbedderSpec* out);

// Connects and sends one probe request ("dimension probe") to learn the dimension.
Status NewHttpEmbedder(const HttpEmbedderSpec& spec, const EmbedderOptions& options,
                       std::unique_ptr<Embedder>* out);

}  // namespace emberdb::embedder
