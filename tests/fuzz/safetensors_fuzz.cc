// libFuzzer harness for the safetensors header parser (embedder/safetensors.cc); not part of the
// default build. Any input must parse or fail with a Status, never crash; an accepted file may
// only describe bytes inside the input, with sizes that match dtype x shape.
//
// Build and run (from the repository root; apt-get install -y clang-14 libfuzzer-14-dev):
//   clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. -Iinclude \
//     tests/fuzz/safetensors_fuzz.cc embedder/safetensors.cc -o /tmp/safetensors_fuzz
//   mkdir -p /tmp/st_corpus && cp tests/data/embedder/models/*/model.safetensors /tmp/st_corpus/
//   /tmp/safetensors_fuzz -max_total_time=60 -max_len=4096 /tmp/st_corpus
// The real model files make a good seed corpus (their headers come first; -max_len keeps the
// header and a little data).
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "embedder/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using emberdb::embedder::SafetensorsDtypeSize;
  using emberdb::embedder::SafetensorsFile;
  std::unique_ptr<SafetensorsFile> file;
  if (!SafetensorsFile::Parse(data, size, "fuzz", &file).ok()) return 0;
  for (const auto& t : file->tensors()) {
    if (t.data < data || t.num_bytes > size || t.data + t.num_bytes > data + size) std::abort();
    if (t.num_bytes != t.num_elements * SafetensorsDtypeSize(t.dtype)) std::abort();
    if (file->Find(t.name) != &t) std::abort();
    std::vector<float> values;
    (void)file->ReadAsFloat(t, &values);  // touches every byte of F32/F16/BF16 tensors
  }
  return 0;
}
