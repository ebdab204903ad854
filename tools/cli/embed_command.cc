// `emberdb embed`: texts to vectors with any embedder spec, without a database.
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "emberdb/embedder.h"
#include "metadata_json.h"

namespace emberdb::cli {
namespace {

struct EmbedArgs {
  std::string embedder = "hash";
  bool json = false;
  bool query = false;
  std::vector<std::string> texts;
};

int RunEmbed(const EmbedArgs& args) {
  std::unique_ptr<Embedder> embedder;
  Status s = NewEmbedder(args.embedder, EmbedderOptions(), &embedder);
  if (!s.ok()) return StatusError(s, "cannot create embedder '" + args.embedder + "'");
  std::vector<float> vectors;
  s = args.query ? embedder->EmbedQuery(args.texts, &vectors)
                 : embedder->EmbedDocuments(args.texts, &vectors);
  if (!s.ok()) return StatusError(s, "embedding failed");
  const size_t dim = embedder->dimension();
  if (vectors.size() != args.texts.size() * dim) {
    return RuntimeError("the embedder returned " + std::to_string(vectors.size()) + " floats for " +
                        std::to_string(args.texts.size()) + " texts of dimension " +
                        std::to_string(dim));
  }
  const EmbedderIdentity identity = embedder->identity();
  for (size_t i = 0; i < args.texts.size(); ++i) {
    const std::vector<float> row(vectors.begin() + i * dim, vectors.begin() + (i + 1) * dim);
    if (!args.json) {
      std::cout << VectorToJson(row) << "\n";
      continue;
    }
    std::string line = nlohmann::json{{"text", args.texts[i]},
                                      {"embedder",
                                       {{"kind", identity.kind},
                                        {"model", identity.model},
                                        {"dimension", identity.dimension},
                                        {"fingerprint", identity.fingerprint}}}}
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::cout << AppendRawField(std::move(line), "vector", VectorToJson(row)) << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddEmbedCommand(CLI::App* root, CommandList* commands) {
  auto args = std::make_shared<EmbedArgs>();
  CLI::App* cmd =
      root->add_subcommand("embed", "Print each TEXT's vector as a JSON array, one per line");
  cmd->add_option("--embedder", args->embedder, "Embedder spec")->capture_default_str();
  cmd->add_flag("--json", args->json, "One JSON object per text: text, embedder identity, vector");
  cmd->add_flag("--query", args->query, "Embed as search queries (the model's query prompt)");
  cmd->add_option("texts", args->texts, "Texts to embed")->required();
  commands->push_back({cmd, [args] { return RunEmbed(*args); }});
}

}  // namespace emberdb::cli
