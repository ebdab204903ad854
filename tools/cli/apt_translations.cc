#include "apt_translations.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace emberdb::cli {
namespace {

std::string_view TrimFieldValue(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Single-quotes `s` for /bin/sh.
std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

bool RunAndCapture(const std::string& command, std::string* out) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return false;
  out->clear();
  char buffer[1 << 16];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out->append(buffer, n);
  return pclose(pipe) == 0;
}

}  // namespace

std::vector<PackageDescription> ParseTranslationList(std::string_view content) {
  std::vector<PackageDescription> out;
  PackageDescription current;
  bool in_description = false;
  auto finish = [&] {
    if (!current.package.empty() && !current.synopsis.empty()) {
      while (!current.long_description.empty() && current.long_description.back() == '\n') {
        current.long_description.pop_back();
      }
      out.push_back(std::move(current));
    }
    current = PackageDescription();
    in_description = false;
  };
  size_t pos = 0;
  while (pos <= content.size()) {
    size_t nl = content.find('\n', pos);
    if (nl == std::string_view::npos) nl = content.size();
    std::string_view line = content.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (TrimFieldValue(line).empty()) {
      finish();
      if (nl == content.size()) break;
      continue;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (!in_description) continue;  // continuation of a field we do not keep
      std::string_view body = line.substr(1);
      if (TrimFieldValue(body) == ".") {
        current.long_description += "\n";
      } else {
        current.long_description.append(body);
        current.long_description += "\n";
      }
      continue;
    }
    in_description = false;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, colon);
    const std::string_view value = TrimFieldValue(line.substr(colon + 1));
    if (key == "Package") {
      if (!current.package.empty()) finish();  // a stanza without its blank separator
      current.package = value;
    } else if (key == "Description-md5") {
      current.description_md5 = value;
    } else if (key == "Description-en") {
      current.synopsis = value;
      in_description = true;
    }
    if (nl == content.size()) break;
  }
  finish();
  return out;
}

std::string PackageDocumentText(const PackageDescription& d) {
  std::string text = d.package + ": " + d.synopsis;
  if (!d.long_description.empty()) text += "\n\n" + d.long_description;
  return text;
}

std::vector<std::string> FindTranslationLists(const std::string& dir) {
  std::vector<std::string> lists;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.find("_i18n_Translation-en") == std::string::npos) continue;
    // Partial downloads and signatures are not lists.
    if (EndsWith(name, ".gpg") || EndsWith(name, ".diff") ||
        name.find(".diff") != std::string::npos)
      continue;
    lists.push_back(it->path().string());
  }
  std::sort(lists.begin(), lists.end());
  return lists;
}

bool ReadAptList(const std::string& path, std::string* content, std::string* error) {
  const bool compressed = EndsWith(path, ".lz4") || EndsWith(path, ".gz") ||
                          EndsWith(path, ".xz") || EndsWith(path, ".zst") ||
                          EndsWith(path, ".bz2") || EndsWith(path, ".lzma");
  if (!compressed) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      *error = "cannot open " + path;
      return false;
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    *content = buffer.str();
    return true;
  }
  const std::string quoted = ShellQuote(path);
  std::vector<std::string> commands;
  if (access("/usr/lib/apt/apt-helper", X_OK) == 0) {
    commands.push_back("/usr/lib/apt/apt-helper cat-file " + quoted + " 2>/dev/null");
  }
  if (EndsWith(path, ".lz4")) commands.push_back("lz4cat " + quoted + " 2>/dev/null");
  if (EndsWith(path, ".gz")) commands.push_back("zcat " + quoted + " 2>/dev/null");
  if (EndsWith(path, ".xz") || EndsWith(path, ".lzma")) {
    commands.push_back("xzcat " + quoted + " 2>/dev/null");
  }
  for (const auto& command : commands) {
    if (RunAndCapture(command, content) && !content->empty()) return true;
  }
  *error = "cannot decompress " + path +
           " (needs /usr/lib/apt/apt-helper, or lz4cat/zcat/xzcat on the PATH)";
  return false;
}

}  // namespace emberdb::cli
