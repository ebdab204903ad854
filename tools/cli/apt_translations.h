// Debian package descriptions from apt's Translation-en lists, the corpus of `emberdb demo`.
//
// A list is a sequence of stanzas separated by blank lines:
//   Package: vim
//   Description-md5: 59e8b8f7757db8b53566d5d119872de8
//   Description-en: Vi IMproved - enhanced vi editor
//    Vim is an almost compatible version of the UNIX editor Vi.
//    .
//    Many new features have been added...
// Continuation lines start with a space; " ." is an empty line (a paragraph break).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace emberdb::cli {

struct PackageDescription {
  std::string package;
  std::string description_md5;
  std::string synopsis;          // the first line of Description-en
  std::string long_description;  // the continuation lines, paragraphs separated by blank lines
};

// Parses one list. Stanzas without a Package or Description-en field are skipped.
std::vector<PackageDescription> ParseTranslationList(std::string_view content);

// The document text for a package: "NAME: SYNOPSIS", a blank line, then the long description.
std::string PackageDocumentText(const PackageDescription& description);

// The Translation-en lists in `dir` (plain or compressed), sorted; empty when there are none.
std::vector<std::string> FindTranslationLists(const std::string& dir);

// Reads a list, decompressing .lz4/.gz/.xz/.zst/.bz2 with apt's own helper (which reads every
// format apt writes), falling back to lz4cat/zcat/xzcat. False with `*error` on failure.
bool ReadAptList(const std::string& path, std::string* content, std::string* error);

}  // namespace emberdb::cli
