#include "embedder/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace emberdb::embedder {
namespace {

// A header this large is not a model header; refusing it bounds the JSON parser's memory.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;
constexpr size_t kMaxRank = 8;

Status Bad(const std::string& label, const std::string& what) {
  return Status::Corruption(label + ": " + what);
}

}  // namespace

size_t SafetensorsDtypeSize(std::string_view dtype) {
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL" || dtype == "F8_E4M3" || dtype == "F8_E5M2")
    return 1;
  return 0;
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);  // inf / NaN
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {
    // Subnormal half: renormalise into a normal float.
    exponent = 113;
    while ((mantissa & 0x400) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float BFloat16ToFloat(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t FloatToBFloat16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

SafetensorsFile::~SafetensorsFile() {
  if (mapping_ != nullptr) munmap(mapping_, mapping_size_);
}

Status SafetensorsFile::Open(const std::string& path, std::unique_ptr<SafetensorsFile>* out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(path + ": cannot open: " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::IOError(path + ": not a regular file");
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    return Bad(path, "file is " + std::to_string(size) + " bytes, shorter than the 8-byte header");
  }
  void* mapping = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (mapping == MAP_FAILED)
    return Status::IOError(path + ": mmap failed: " + std::strerror(errno));
  std::unique_ptr<SafetensorsFile> file;
  Status s = Parse(static_cast<const uint8_t*>(mapping), size, path, &file);
  if (!s.ok()) {
    munmap(mapping, size);
    return s;
  }
  file->mapping_ = mapping;
  file->mapping_size_ = size;
  *out = std::move(file);
  return Status::OK();
}

Status SafetensorsFile::Parse(const uint8_t* bytes, size_t size, const std::string& label,
                              std::unique_ptr<SafetensorsFile>* out) {
  if (size < 8) return Bad(label, "shorter than the 8-byte header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  if (header_len > size - 8) {
    return Bad(label, "header length " + std::to_string(header_len) + " exceeds the file size " +
                          std::to_string(size));
  }
  if (header_len > kMaxHeaderBytes) return Bad(label, "header length over 100 MiB");
  if (header_len < 2 || bytes[8] != '{') return Bad(label, "header is not a JSON object");
  const char* header_begin = reinterpret_cast<const char*>(bytes + 8);
  nlohmann::json header = nlohmann::json::parse(header_begin, header_begin + header_len, nullptr,
                                                /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) {
    return Bad(label, "header is not valid JSON");
  }
  const uint64_t data_size = size - 8 - header_len;
  const uint8_t* data = bytes + 8 + header_len;

  auto file = std::unique_ptr<SafetensorsFile>(new SafetensorsFile());
  file->label_ = label;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string where = "tensor '" + name + "'";
    if (!entry.is_object()) return Bad(label, where + " is not an object");
    auto dtype_it = entry.find("dtype");
    auto shape_it = entry.find("shape");
    auto offsets_it = entry.find("data_offsets");
    if (dtype_it == entry.end() || !dtype_it->is_string() || shape_it == entry.end() ||
        !shape_it->is_array() || offsets_it == entry.end() || !offsets_it->is_array()) {
      return Bad(label, where + " lacks dtype, shape or data_offsets");
    }
    SafetensorInfo info;
    info.name = name;
    info.dtype = dtype_it->get<std::string>();
    const size_t elem_size = SafetensorsDtypeSize(info.dtype);
    if (elem_size == 0) return Bad(label, where + " has unknown dtype '" + info.dtype + "'");
    if (shape_it->size() > kMaxRank) return Bad(label, where + " has rank over 8");
    uint64_t count = 1;
    for (const auto& dim : *shape_it) {
      if (!dim.is_number_unsigned()) return Bad(label, where + " has a non-integer dimension");
      const uint64_t d = dim.get<uint64_t>();
      if (d != 0 && count > UINT64_MAX / d) return Bad(label, where + " shape overflows");
      count *= d;
      info.shape.push_back(d);
    }
    if (count > UINT64_MAX / elem_size) return Bad(label, where + " shape overflows");
    if (offsets_it->size() != 2 || !(*offsets_it)[0].is_number_unsigned() ||
        !(*offsets_it)[1].is_number_unsigned()) {
      return Bad(label, where + " data_offsets is not [begin, end]");
    }
    const uint64_t begin = (*offsets_it)[0].get<uint64_t>();
    const uint64_t end = (*offsets_it)[1].get<uint64_t>();
    if (begin > end || end > data_size) {
      return Bad(label, where + " data_offsets [" + std::to_string(begin) + ", " +
                            std::to_string(end) + "] out of range of the " +
                            std::to_string(data_size) + "-byte data section");
    }
    if (end - begin != count * elem_size) {
      return Bad(label, where + " holds " + std::to_string(end - begin) + " bytes but dtype " +
                            info.dtype + " and its shape need " +
                            std::to_string(count * elem_size));
    }
    info.num_elements = count;
    info.num_bytes = end - begin;
    info.data_offset = begin;
    info.data = data + begin;
    file->tensors_.push_back(std::move(info));
  }
  // Overlapping byte ranges mean a lying header (two tensors sharing storage).
  std::vector<const SafetensorInfo*> by_offset;
  for (const auto& t : file->tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](const auto* a, const auto* b) {
    return a->data_offset != b->data_offset ? a->data_offset < b->data_offset
                                            : a->num_bytes < b->num_bytes;
  });
  const SafetensorInfo* furthest = nullptr;  // the non-empty tensor reaching furthest so far
  for (const auto* t : by_offset) {
    if (t->num_bytes == 0) continue;
    if (furthest != nullptr && furthest->data_offset + furthest->num_bytes > t->data_offset) {
      return Bad(label, "tensors '" + furthest->name + "' and '" + t->name + "' overlap");
    }
    if (furthest == nullptr ||
        t->data_offset + t->num_bytes > furthest->data_offset + furthest->num_bytes) {
      furthest = t;
    }
  }
  std::sort(file->tensors_.begin(), file->tensors_.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  *out = std::move(file);
  return Status::OK();
}

const SafetensorInfo* SafetensorsFile::Find(std::string_view name) const {
  auto it =
      std::lower_bound(tensors_.begin(), tensors_.end(), name,
                       [](const SafetensorInfo& t, std::string_view n) { return t.name < n; });
  if (it == tensors_.end() || it->name != name) return nullptr;
  return &*it;
}

Status SafetensorsFile::ReadAsFloat(const SafetensorInfo& tensor, std::vector<float>* out) const {
  out->resize(tensor.num_elements);
  const uint8_t* p = tensor.data;
  if (tensor.dtype == "F32") {
    if (tensor.num_bytes > 0) std::memcpy(out->data(), p, tensor.num_bytes);
  } else if (tensor.dtype == "F16" || tensor.dtype == "BF16") {
    const bool half = tensor.dtype == "F16";
    for (uint64_t i = 0; i < tensor.num_elements; ++i) {
      const uint16_t v = static_cast<uint16_t>(p[2 * i] | (p[2 * i + 1] << 8));
      (*out)[i] = half ? HalfToFloat(v) : BFloat16ToFloat(v);
    }
  } else {
    out->clear();
    return Status::InvalidArgument(label_ + ": tensor '" + tensor.name + "' has dtype " +
                                   tensor.dtype + "; only F32, F16 and BF16 are supported");
  }
  return Status::OK();
}

std::string SerializeSafetensors(const std::vector<SafetensorToWrite>& tensors) {
  nlohmann::ordered_json header;
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", t.dtype},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) file[i] = static_cast<char>((json.size() >> (8 * i)) & 0xff);
  file += json;
  for (const auto& t : tensors) file += t.bytes;
  return file;
}

Status WriteSafetensors(const std::string& path, const std::vector<SafetensorToWrite>& tensors) {
  const std::string bytes = SerializeSafetensors(tensors);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) return Status::IOError(path + ": write failed");
  return Status::OK();
}

}  // namespace emberdb::embedder
