// libFuzzer harness for the WordPiece tokenizer (not part of the default build; see
// embedder/README.md). Any input must tokenize without crashing, give [CLS] ... [SEP], keep every
// id inside the vocabulary, and give the same ids twice.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "embedder/wordpiece_tokenizer.h"

#ifndef EMBERDB_FUZZ_VOCAB
#define EMBERDB_FUZZ_VOCAB "tests/data/embedder/vocab/bert-base-uncased-vocab.txt"
#endif

namespace {

const emberdb::embedder::WordPieceTokenizer& Tokenizer() {
  static const emberdb::embedder::WordPieceTokenizer* tokenizer = [] {
    const char* path = std::getenv("EMBERDB_FUZZ_VOCAB");
    std::unique_ptr<emberdb::embedder::WordPieceTokenizer> tok;
    emberdb::Status s = emberdb::embedder::WordPieceTokenizer::FromVocabFile(
        path != nullptr ? path : EMBERDB_FUZZ_VOCAB, emberdb::embedder::TokenizerConfig(), &tok);
    if (!s.ok()) {
      std::fprintf(stderr, "cannot load the vocabulary: %s\n", s.ToString().c_str());
      std::abort();
    }
    return tok.release();
  }();
  return *tokenizer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& tok = Tokenizer();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::vector<int32_t> ids = tok.Encode(text);
  if (ids.size() < 2 || ids.front() != tok.cls_id() || ids.back() != tok.sep_id()) std::abort();
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= tok.vocab_size()) std::abort();
  }
  if (tok.Encode(text) != ids) std::abort();
  (void)tok.BasicTokenize(text);
  return 0;
}
