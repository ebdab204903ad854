// Reading (memory-mapped) and writing Hugging Face safetensors files.
//
// Layout: 8-byte little-endian header length N, N bytes of JSON header
// ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}), then the
// data section; offsets are relative to its start. Nothing in the file is trusted: the parser
// checks the header length against the file size, every dtype, shape (overflow-checked) and
// offset pair (in range, end - begin == element count * dtype size) and rejects tensors whose
// byte ranges overlap. Gaps between tensors are tolerated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "emberdb/status.h"

namespace emberdb::embedder {

struct SafetensorInfo {
  std::string name;
  std::string dtype;            // as written: "F32", "F16", "BF16", "I64", ...
  std::vector<uint64_t> shape;  // empty for a scalar
  uint64_t num_elements = 0;
  const uint8_t* data = nullptr;  // into the mapping; num_bytes long
  uint64_t num_bytes = 0;
  uint64_t data_offset = 0;  // relative to the start of the data section
};

class SafetensorsFile {
 public:
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  // Maps `path` read-only and parses its header. Errors name the path.
  static Status Open(const std::string& path, std::unique_ptr<SafetensorsFile>* out);
  // Parses an in-memory file; `bytes` must outlive the result. `label` names it in errors.
  static Status Parse(const uint8_t* bytes, size_t size, const std::string& label,
                      std::unique_ptr<SafetensorsFile>* out);

  const std::string& label() const { return label_; }
  const std::vector<SafetensorInfo>& tensors() const { return tensors_; }
  // nullptr when absent.
  const SafetensorInfo* Find(std::string_view name) const;

  // Upcasts an F32/F16/BF16 tensor to float32 (exactly; F16 subnormals, inf and NaN included).
  // Any other dtype is InvalidArgument naming the tensor and the file.
  Status ReadAsFloat(const SafetensorInfo& tensor, std::vector<float>* out) const;

 private:
  SafetensorsFile() = default;
  std::string label_;
  void* mapping_ = nullptr;
  size_t mapping_size_ = 0;
  std::vector<SafetensorInfo> tensors_;  // sorted by name
};

// Bytes per element of a safetensors dtype name; 0 for an unknown name.
size_t SafetensorsDtypeSize(std::string_view dtype);

// Converts one IEEE half / bfloat16 value to float32 exactly.
float HalfToFloat(uint16_t h);
float BFloat16ToFloat(uint16_t b);
// Round-to-nearest-even float32 -> bfloat16 (NaN stays NaN).
uint16_t FloatToBFloat16(float f);

// One tensor for WriteSafetensors; `bytes` holds the little-endian data.
struct SafetensorToWrite {
  std::string name;
  std::string dtype;
  std::vector<uint64_t> shape;
  std::string bytes;
};

// Writes a well-formed safetensors file (header padded with spaces to a multiple of 8, tensors
// in the given order). Used by tests and the benchmark to build models.
Status WriteSafetensors(const std::string& path, const std::vector<SafetensorToWrite>& tensors);
// The same, into memory.
std::string SerializeSafetensors(const std::vector<SafetensorToWrite>& tensors);

}  // namespace emberdb::embedder
