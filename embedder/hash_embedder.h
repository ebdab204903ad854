// The built-in, weight-free embedder ("hash", "hash:dim=768"): signed feature hashing of word
// unigrams, word bigrams and character n-grams into a dense, L2-normalised vector. It needs no
// files, is deterministic across runs and machines, and captures lexical and morphological
// similarity only (see embedder/README.md for what it can and cannot do).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "emberdb/embedder.h"

namespace emberdb::embedder {

struct HashEmbedderParams {
  uint32_t dimension = 384;
};

// Parses the part of a spec after "hash:" ("" or "dim=768"). Unknown keys and out-of-range
// values are InvalidArgument.
Status ParseHashParams(std::string_view params, HashEmbedderParams* out);

Status NewHashEmbedder(const HashEmbedderParams& params, const EmbedderOptions& options,
                       std::unique_ptr<Embedder>* out);

// The normalised words the embedder sees (case-folded, accents stripped, NFKC, light plural
// stemming not applied); exposed for tests and for baselines that must tokenise the same way.
std::vector<std::string> HashEmbedderWords(std::string_view text);

}  // namespace emberdb::embedder
