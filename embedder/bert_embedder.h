// BERT-family sentence-transformers models from a Hugging Face folder ("hf:/path" specs).
#pragma once

#include <memory>
#include <string>

#include "emberdb/embedder.h"

namespace emberdb::embedder {

// Loads config.json, model.safetensors, the tokenizer and the sentence-transformers module
// files from `folder`. Every size, offset and shape is checked before use.
Status NewBertEmbedder(const std::string& folder, const EmbedderOptions& options,
                       std::unique_ptr<Embedder>* out);

}  // namespace emberdb::embedder
