// Expands the ingest command's PATH arguments into the list of files to read.
//
// A file argument is taken as is. A directory is walked recursively, in sorted order, keeping
// files of a known format (see document_reader.h) that pass the --include / --exclude globs;
// hidden entries (".git", ".cache") are skipped and symbolic links to directories are not
// followed (no cycles). Globs use fnmatch(3): a pattern with a '/' is matched against the path
// relative to the directory argument, else against the file name. --exclude also prunes
// directories. "-" stands for standard input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace emberdb::cli {

struct WalkOptions {
  std::vector<std::string> include;  // empty: every file of a known format
  std::vector<std::string> exclude;
};

struct WalkedFile {
  std::string path;   // absolute, lexically normal; "-" for stdin. Used as the `source`.
  uint64_t size = 0;  // bytes (0 for stdin), for progress and ETA
};

struct WalkResult {
  std::vector<WalkedFile> files;
  std::vector<std::string> roots;   // the directory arguments, absolute, for --prune
  std::vector<std::string> errors;  // one sentence per unusable argument or unreadable folder
};

// True when `relative` (path below a walked directory) or its file name matches `pattern`.
bool GlobMatches(const std::string& pattern, const std::string& relative);

// Absolute, lexically normal form of `path` (no trailing slash).
std::string NormalizePath(const std::string& path);

WalkResult WalkPaths(const std::vector<std::string>& paths, const WalkOptions& options);

}  // namespace emberdb::cli
