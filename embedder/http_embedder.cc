// cpp-httplib client for embedding services. Only this file includes httplib.h, so the rest of
// the module does not depend on it.
#include "embedder/http_embedder.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

namespace emberdb::embedder {
namespace {

using nlohmann::json;

constexpr char kProbeText[] = "dimension probe";
constexpr size_t kMaxQuotedBody = 300;

std::string HexFnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  char hex[17];
  snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

// The server's own words, for error messages: {"error": "..."}, {"error": {"message": ...}},
// {"message": ...} or else the start of the body.
std::string ServerMessage(const std::string& body) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_discarded() && doc.is_object()) {
    const json* error = doc.contains("error") ? &doc["error"] : nullptr;
    if (error != nullptr && error->is_string()) return error->get<std::string>();
    if (error != nullptr && error->is_object() && error->contains("message") &&
        (*error)["message"].is_string()) {
      return (*error)["message"].get<std::string>();
    }
    if (doc.contains("message") && doc["message"].is_string()) {
      return doc["message"].get<std::string>();
    }
  }
  std::string quoted = body.substr(0, kMaxQuotedBody);
  if (body.size() > kMaxQuotedBody) quoted += "...";
  return quoted.empty() ? "(empty body)" : quoted;
}

// Reads one embedding row, checking its length and values.
Status ReadRow(const json& row, size_t expected_dim, size_t index, std::vector<float>* out) {
  if (!row.is_array()) {
    return Status::Corruption("embedding " + std::to_string(index) + " is not an array");
  }
  if (expected_dim != 0 && row.size() != expected_dim) {
    return Status::Corruption("embedding " + std::to_string(index) + " has dimension " +
                              std::to_string(row.size()) + ", expected " +
                              std::to_string(expected_dim));
  }
  for (const json& v : row) {
    if (!v.is_number()) {
      return Status::Corruption("embedding " + std::to_string(index) + " holds a non-number");
    }
    const double d = v.get<double>();
    if (!std::isfinite(d) || std::fabs(d) > 3.4e38) {
      return Status::Corruption("embedding " + std::to_string(index) + " holds a non-finite value");
    }
    out->push_back(static_cast<float>(d));
  }
  return Status::OK();
}

class HttpEmbedder final : public Embedder {
 public:
  HttpEmbedder(HttpEmbedderSpec spec, const EmbedderOptions& options, std::string base,
               std::string path)
      : spec_(std::move(spec)), options_(options), base_(std::move(base)), path_(std::move(path)) {}

  // Sends the probe request that fixes the dimension.
  Status Probe() {
    std::vector<float> row;
    EMBERDB_RETURN_IF_ERROR(Request({kProbeText}, 0, &row));
    if (row.empty()) return Status::Corruption("the probe embedding is empty");
    dimension_ = static_cast<uint32_t>(row.size());
    return Status::OK();
  }

  uint32_t dimension() const override { return dimension_; }

  EmbedderIdentity identity() const override {
    return EmbedderIdentity{spec_.kind, spec_.model, dimension_,
                            HexFnv1a64(spec_.kind + "\n" + spec_.model + "\n" + spec_.url)};
  }

  Status EmbedDocuments(const std::vector<std::string>& texts, std::vector<float>* out,
                        EmbedReport* report) override {
    return EmbedAll(texts, options_.document_prompt, out, report);
  }
  Status EmbedQuery(const std::vector<std::string>& texts, std::vector<float>* out,
                    EmbedReport* report) override {
    return EmbedAll(texts, options_.query_prompt, out, report);
  }

 private:
  Status EmbedAll(const std::vector<std::string>& texts, const std::optional<std::string>& prompt,
                  std::vector<float>* out, EmbedReport* report) {
    if (out == nullptr) return Status::InvalidArgument("output vector is null");
    out->clear();
    if (report != nullptr) report->dropped_tokens.assign(texts.size(), 0);
    out->reserve(texts.size() * dimension_);
    for (size_t begin = 0; begin < texts.size(); begin += options_.max_batch) {
      const size_t end = std::min(texts.size(), begin + options_.max_batch);
      std::vector<std::string> batch(texts.begin() + static_cast<ptrdiff_t>(begin),
                                     texts.begin() + static_cast<ptrdiff_t>(end));
      if (prompt.has_value()) {
        for (std::string& t : batch) t = *prompt + t;
      }
      Status s = Request(batch, dimension_, out);
      if (!s.ok()) {
        out->clear();
        return s.WithContext("texts " + std::to_string(begin) + ".." + std::to_string(end - 1));
      }
    }
    return Status::OK();
  }

  // One batch, with retries; appends batch.size() rows of `dim` floats (any dim when 0).
  Status Request(const std::vector<std::string>& batch, size_t dim, std::vector<float>* out) {
    std::string body;
    try {
      body = json{{"model", spec_.model}, {"input", batch}}.dump();
    } catch (const json::exception&) {
      return Status::InvalidArgument("a text is not valid UTF-8");
    }
    httplib::Headers headers;
    if (spec_.kind == "openai" && !options_.api_key_env.empty()) {
      const char* key = std::getenv(options_.api_key_env.c_str());
      if (key != nullptr && *key != '\0') {
        headers.emplace("Authorization", std::string("Bearer ") + key);
      }
    }
    httplib::Client client(base_);
    const auto timeout = std::chrono::milliseconds(std::max(1, options_.timeout_ms));
    client.set_connection_timeout(timeout);
    client.set_read_timeout(timeout);
    client.set_write_timeout(timeout);
    // Back-off starts at a twentieth of the timeout (10 ms .. 500 ms) and doubles per retry,
    // so a short timeout_ms also keeps the retries short.
    auto backoff = std::chrono::milliseconds(std::clamp(options_.timeout_ms / 20, 10, 500));
    const int attempts = 1 + std::max(0, options_.max_retries);
    std::string last_error;
    for (int attempt = 0; attempt < attempts; ++attempt) {
      if (attempt > 0) {
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(8000));
      }
      httplib::Result res = client.Post(path_.c_str(), headers, body, "application/json");
      if (!res) {
        last_error = "cannot reach " + base_ + path_ + ": " + httplib::to_string(res.error());
        continue;
      }
      if (res->status == 429 || res->status >= 500) {
        last_error = "HTTP " + std::to_string(res->status) + ": " + ServerMessage(res->body);
        continue;
      }
      if (res->status < 200 || res->status >= 300) {
        return Status::IOError(spec_.kind + " server " + base_ + path_ + " answered HTTP " +
                               std::to_string(res->status) + ": " + ServerMessage(res->body));
      }
      const size_t before = out->size();
      Status s = ParseResponse(res->body, batch.size(), dim, out);
      if (!s.ok()) {
        out->resize(before);
        return s.WithContext(spec_.kind + " server " + base_ + path_);
      }
      return Status::OK();
    }
    return Status::IOError(spec_.kind + " server " + base_ + path_ + " failed after " +
                           std::to_string(attempts) + " attempts; last error: " + last_error);
  }

  Status ParseResponse(const std::string& body, size_t count, size_t dim,
                       std::vector<float>* out) const {
    json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
      return Status::Corruption("malformed JSON response: " + ServerMessage(body));
    }
    std::vector<const json*> rows;
    if (spec_.kind == "ollama") {
      if (!doc.contains("embeddings") || !doc["embeddings"].is_array()) {
        return Status::Corruption("response has no \"embeddings\" array");
      }
      for (const json& row : doc["embeddings"]) rows.push_back(&row);
    } else {
      if (!doc.contains("data") || !doc["data"].is_array()) {
        return Status::Corruption("response has no \"data\" array");
      }
      rows.assign(doc["data"].size(), nullptr);
      for (const json& item : doc["data"]) {
        if (!item.is_object() || !item.contains("index") || !item["index"].is_number_integer() ||
            !item.contains("embedding")) {
          return Status::Corruption("a \"data\" item lacks an integer \"index\" or \"embedding\"");
        }
        const int64_t index = item["index"].get<int64_t>();
        if (index < 0 || static_cast<size_t>(index) >= rows.size() ||
            rows[static_cast<size_t>(index)] != nullptr) {
          return Status::Corruption("\"data\" indexes are not exactly 0.." +
                                    std::to_string(rows.size() - 1));
        }
        rows[static_cast<size_t>(index)] = &item["embedding"];
      }
    }
    if (rows.size() != count) {
      return Status::Corruption("response holds " + std::to_string(rows.size()) +
                                " embeddings for " + std::to_string(count) + " texts");
    }
    const size_t first_dim = rows.empty() ? 0 : (rows[0]->is_array() ? rows[0]->size() : 0);
    for (size_t i = 0; i < rows.size(); ++i) {
      EMBERDB_RETURN_IF_ERROR(ReadRow(*rows[i], dim != 0 ? dim : first_dim, i, out));
    }
    return Status::OK();
  }

  HttpEmbedderSpec spec_;
  EmbedderOptions options_;
  std::string base_;  // scheme://host:port
  std::string path_;  // the endpoint's path
  uint32_t dimension_ = 0;
};

}  // namespace

Status ParseHttpSpec(std::string_view kind, std::string_view model_at_url, HttpEmbedderSpec* out) {
  // The URL starts at the last '@' followed by a scheme, so model names may contain '@'.
  size_t at = std::string_view::npos;
  for (size_t i = model_at_url.size(); i-- > 0;) {
    if (model_at_url[i] == '@' && (model_at_url.substr(i + 1).starts_with("http://") ||
                                   model_at_url.substr(i + 1).starts_with("https://"))) {
      at = i;
      break;
    }
  }
  const std::string form = std::string(kind) + ":MODEL@http://host:port";
  if (at == std::string_view::npos) {
    return Status::InvalidArgument("embedder spec '" + std::string(kind) + ":" +
                                   std::string(model_at_url) + "' must look like " + form);
  }
  if (at == 0) return Status::InvalidArgument("embedder spec has an empty model name: " + form);
  out->kind = std::string(kind);
  out->model = std::string(model_at_url.substr(0, at));
  out->url = std::string(model_at_url.substr(at + 1));
  return Status::OK();
}

Status NewHttpEmbedder(const HttpEmbedderSpec& spec, const EmbedderOptions& options,
                       std::unique_ptr<Embedder>* out) {
  if (spec.kind != "ollama" && spec.kind != "openai") {
    return Status::InvalidArgument("unknown HTTP embedder kind '" + spec.kind + "'");
  }
  if (options.max_batch == 0) return Status::InvalidArgument("max_batch must be at least 1");
  const size_t scheme_end = spec.url.find("://");
  if (scheme_end == std::string::npos) {
    return Status::InvalidArgument("URL '" + spec.url + "' has no http:// or https:// scheme");
  }
  const std::string scheme = spec.url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return Status::InvalidArgument("URL '" + spec.url + "' must be http:// or https://");
  }
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
  if (scheme == "https") {
    return Status::NotSupported("this build has no OpenSSL, so https:// URLs cannot be used");
  }
#endif
  const size_t path_start = spec.url.find('/', scheme_end + 3);
  const std::string authority = spec.url.substr(scheme_end + 3, path_start == std::string::npos
                                                                    ? std::string::npos
                                                                    : path_start - scheme_end - 3);
  if (authority.empty() || authority.find('@') != std::string::npos ||
      authority.find_first_of(" ?#") != std::string::npos) {
    return Status::InvalidArgument("URL '" + spec.url +
                                   "' needs a plain host[:port] (credentials belong in the "
                                   "environment variable, not the URL)");
  }
  std::string prefix = path_start == std::string::npos ? "" : spec.url.substr(path_start);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  std::string path;
  if (spec.kind == "ollama") {
    path = prefix + "/api/embed";
  } else {
    path = prefix.ends_with("/v1") ? prefix + "/embeddings" : prefix + "/v1/embeddings";
  }
  auto embedder = std::make_unique<HttpEmbedder>(spec, options, scheme + "://" + authority, path);
  EMBERDB_RETURN_IF_ERROR(embedder->Probe());
  *out = std::move(embedder);
  return Status::OK();
}

}  // namespace emberdb::embedder
