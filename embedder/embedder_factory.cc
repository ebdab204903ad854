// NewEmbedder: parses a spec string and hands it to the embedder it names. This is the only
// place that knows every kind of embedder.
#include <string>

#include "embedder/bert_embedder.h"
#include "embedder/hash_embedder.h"
#include "embedder/host_embedder.h"
#include "embedder/http_embedder.h"
#include "emberdb/embedder.h"

namespace emberdb {
namespace {

constexpr char kValidForms[] =
    "valid forms: 'hash', 'hash:dim=N', 'hf:/path/to/model-folder', "
    "'ollama:MODEL@http://host:port', 'openai:MODEL@http://host:port[/v1]', 'host:NAME'";

Status Unknown(std::string_view spec, std::string_view why) {
  return Status::InvalidArgument("embedder spec '" + std::string(spec) + "' " + std::string(why) +
                                 "; " + kValidForms);
}

}  // namespace

Status NewEmbedder(std::string_view spec, const EmbedderOptions& options,
                   std::unique_ptr<Embedder>* out) {
  if (out == nullptr) return Status::InvalidArgument("NewEmbedder: output pointer is null");
  out->reset();
  const size_t colon = spec.find(':');
  const std::string_view kind = spec.substr(0, colon);
  const std::string_view rest =
      colon == std::string_view::npos ? std::string_view() : spec.substr(colon + 1);
  const bool has_rest = colon != std::string_view::npos;

  if (kind == "hash") {
    if (has_rest && rest.empty()) return Unknown(spec, "has an empty parameter list");
    embedder::HashEmbedderParams params;
    EMBERDB_RETURN_IF_ERROR(embedder::ParseHashParams(rest, &params));
    return embedder::NewHashEmbedder(params, options, out);
  }
  if (kind == "hf") {
    if (rest.empty()) return Unknown(spec, "names no model folder");
    return embedder::NewBertEmbedder(std::string(rest), options, out);
  }
  if (kind == "ollama" || kind == "openai") {
    embedder::HttpEmbedderSpec http;
    EMBERDB_RETURN_IF_ERROR(embedder::ParseHttpSpec(kind, rest, &http));
    return embedder::NewHttpEmbedder(http, options, out);
  }
  if (kind == "host") {
    if (rest.empty()) return Unknown(spec, "names no host function");
    return embedder::NewHostEmbedder(std::string(rest), options, out);
  }
  return Unknown(spec, "is not recognised");
}

}  // namespace emberdb
