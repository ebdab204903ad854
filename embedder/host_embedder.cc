// Wraps an application-provided function; the application is trusted for nothing but its
// signature, so sizes and values are checked before they reach an index.
#include "embedder/host_embedder.h"

#include <cmath>

namespace emberdb::embedder {
namespace {

class HostEmbedder final : public Embedder {
 public:
  HostEmbedder(std::string name, HostEmbedFunction function)
      : name_(std::move(name)), function_(std::move(function)) {}

  uint32_t dimension() const override { return function_.dimension; }

  EmbedderIdentity identity() const override {
    // The host function is opaque: its name is the only thing that identifies its space.
    return EmbedderIdentity{"host", name_, function_.dimension, "host:" + name_};
  }

  Status EmbedDocuments(const std::vector<std::string>& texts, std::vector<float>* out,
                        EmbedReport* report) override {
    return Run(texts, out, report);
  }
  Status EmbedQuery(const std::vector<std::string>& texts, std::vector<float>* out,
                    EmbedReport* report) override {
    return Run(texts, out, report);
  }

 private:
  Status Run(const std::vector<std::string>& texts, std::vector<float>* out, EmbedReport* report) {
    if (out == nullptr) return Status::InvalidArgument("output vector is null");
    out->clear();
    if (report != nullptr) report->dropped_tokens.assign(texts.size(), 0);
    if (texts.empty()) return Status::OK();
    Status s;
    try {
      s = function_.embed(texts, out);
    } catch (const std::exception& e) {
      return Status::Aborted("host embedder '" + name_ + "' threw: " + e.what());
    } catch (...) {
      return Status::Aborted("host embedder '" + name_ + "' threw an exception");
    }
    if (!s.ok()) return s.WithContext("host embedder '" + name_ + "'");
    const size_t expected = texts.size() * function_.dimension;
    if (out->size() != expected) {
      const size_t got = out->size();
      out->clear();
      return Status::InvalidArgument(
          "host embedder '" + name_ + "' returned " + std::to_string(got) + " floats for " +
          std::to_string(texts.size()) + " texts of dimension " +
          std::to_string(function_.dimension) + " (expected " + std::to_string(expected) + ")");
    }
    for (size_t i = 0; i < out->size(); ++i) {
      if (!std::isfinite((*out)[i])) {
        out->clear();
        return Status::InvalidArgument("host embedder '" + name_ +
                                       "' returned a non-finite value for text " +
                                       std::to_string(i / function_.dimension) + " at component " +
                                       std::to_string(i % function_.dimension));
      }
    }
    return Status::OK();
  }

  std::string name_;
  HostEmbedFunction function_;
};

}  // namespace

Status NewHostEmbedder(const std::string& name, const EmbedderOptions& options,
                       std::unique_ptr<Embedder>* out) {
  auto it = options.host_functions.find(name);
  if (it == options.host_functions.end()) {
    std::string names;
    for (const auto& [registered, unused] : options.host_functions) {
      names += (names.empty() ? "'" : ", '") + registered + "'";
    }
    return Status::NotFound("no host embedding function named '" + name + "' (registered: " +
                            (names.empty() ? std::string("none") : names) + ")");
  }
  if (it->second.dimension == 0) {
    return Status::InvalidArgument("host embedding function '" + name + "' has dimension 0");
  }
  if (!it->second.embed) {
    return Status::InvalidArgument("host embedding function '" + name + "' is empty");
  }
  *out = std::make_unique<HostEmbedder>(name, it->second);
  return Status::OK();
}

}  // namespace emberdb::embedder
