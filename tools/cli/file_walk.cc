#include "file_walk.h"

#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "document_reader.h"

namespace emberdb::cli {
namespace fs = std::filesystem;
namespace {

bool AnyMatches(const std::vector<std::string>& patterns, const std::string& relative) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return GlobMatches(p, relative); });
}

void WalkDirectory(const fs::path& root, const WalkOptions& options, WalkResult* result) {
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    result->errors.push_back("cannot read directory " + root.string() + ": " + ec.message());
    return;
  }
  std::vector<WalkedFile> found;
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      // The iterator cannot go on after a failed step; report and keep what was found.
      result->errors.push_back("cannot read below " + root.string() + ": " + ec.message());
      break;
    }
    const fs::path& path = it->path();
    const std::string name = path.filename().string();
    const std::string relative = path.lexically_relative(root).string();
    std::error_code type_ec;
    const bool is_dir = it->is_directory(type_ec);
    if (name.starts_with(".") || AnyMatches(options.exclude, relative)) {
      if (is_dir) it.disable_recursion_pending();
      continue;
    }
    if (is_dir) {
      if (it->is_symlink(type_ec)) it.disable_recursion_pending();
      continue;
    }
    // Dangling links are kept so that reading them reports the problem instead of hiding it.
    if (!it->is_regular_file(type_ec) && !it->is_symlink(type_ec)) continue;
    if (options.include.empty()) {
      if (FormatForPath(name) == Format::kUnknown) continue;
    } else if (!AnyMatches(options.include, relative)) {
      continue;
    }
    std::error_code size_ec;
    const uint64_t size = it->file_size(size_ec);
    found.push_back({path.lexically_normal().string(), size_ec ? 0 : size});
  }
  std::sort(found.begin(), found.end(),
            [](const WalkedFile& a, const WalkedFile& b) { return a.path < b.path; });
  result->files.insert(result->files.end(), found.begin(), found.end());
}

}  // namespace

bool GlobMatches(const std::string& pattern, const std::string& relative) {
  if (pattern.find('/') != std::string::npos) {
    return fnmatch(pattern.c_str(), relative.c_str(), 0) == 0;
  }
  const size_t slash = relative.find_last_of('/');
  const std::string name = slash == std::string::npos ? relative : relative.substr(slash + 1);
  return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

std::string NormalizePath(const std::string& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  if (ec) absolute = path;
  std::string normal = absolute.lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

WalkResult WalkPaths(const std::vector<std::string>& paths, const WalkOptions& options) {
  WalkResult result;
  for (const auto& arg : paths) {
    if (arg == "-") {
      result.files.push_back({"-", 0});
      continue;
    }
    const std::string path = NormalizePath(arg);
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      result.errors.push_back("no such file or directory: " + arg);
      continue;
    }
    if (fs::is_directory(status)) {
      result.roots.push_back(path);
      WalkDirectory(path, options, &result);
    } else {
      const uint64_t size = fs::file_size(path, ec);
      result.files.push_back({path, ec ? 0 : size});
    }
  }
  return result;
}

}  // namespace emberdb::cli
