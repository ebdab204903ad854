// Placeholder until the embedder module lands.
