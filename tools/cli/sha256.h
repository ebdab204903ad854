// SHA-256, used as the content hash that makes re-ingesting idempotent. A cryptographic hash
// (rather than a fast 64-bit one) so that "unchanged" never means "collided".
#pragma once

#include <string>
#include <string_view>

namespace emberdb::cli {

// Lower-case hex SHA-256 of `data` (64 characters).
std::string Sha256Hex(std::string_view data);

}  // namespace emberdb::cli
