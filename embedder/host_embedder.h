// "host:NAME" specs: an embedding function the application registered in
// EmbedderOptions::host_functions. Its output is checked (size and finiteness) on every call.
#pragma once

#include <memory>
#include <string>

#include "emberdb/embedder.h"

namespace emberdb::embedder {

// Unknown names are NotFound, listing the registered ones.
Status NewHostEmbedder(const std::string& name, const EmbedderOptions& options,
                       std::unique_ptr<Embedder>* out);

}  // namespace emberdb::embedder
