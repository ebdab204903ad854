// Placeholder until the ann module lands.
