#include "markdown_reader.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "html_reader.h"

namespace emberdb::cli {
namespace {

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || (c & 0x80); }

std::string_view TrimLeft(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

std::string_view Trim(std::string_view s) {
  s = TrimLeft(s);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "```", "~~~" (3 or more) opening or closing a fenced code block.
bool IsFence(std::string_view line, std::string_view* marker) {
  line = TrimLeft(line);
  if (line.size() < 3) return false;
  const char c = line[0];
  if (c != '`' && c != '~') return false;
  size_t n = 0;
  while (n < line.size() && line[n] == c) ++n;
  if (n < 3) return false;
  *marker = line.substr(0, n);
  return true;
}

// A line of only -, * or _ (3+, spaces allowed): a thematic break, or a Setext underline.
bool IsRule(std::string_view line, char* kind) {
  line = Trim(line);
  if (line.size() < 3) return false;
  const char c = line[0];
  if (c != '-' && c != '*' && c != '_' && c != '=') return false;
  size_t count = 0;
  for (char ch : line) {
    if (ch == c) {
      ++count;
    } else if (ch != ' ') {
      return false;
    }
  }
  *kind = c;
  return count >= 3;
}

// "[ref]: http://..." link reference definitions carry no prose.
bool IsReferenceDefinition(std::string_view line) {
  line = TrimLeft(line);
  if (line.empty() || line[0] != '[') return false;
  const size_t close = line.find("]:");
  return close != std::string_view::npos && close > 1 && line.find(']') == close;
}

// Removes block markers (#, >, list bullets) from the start of a line.
std::string_view StripBlockMarkers(std::string_view line) {
  line = TrimLeft(line);
  while (!line.empty() && line[0] == '>') line = TrimLeft(line.substr(1));
  if (!line.empty() && line[0] == '#') {
    size_t n = 0;
    while (n < line.size() && line[n] == '#') ++n;
    if (n <= 6 && (n == line.size() || line[n] == ' ' || line[n] == '\t')) {
      line = Trim(line.substr(n));
      while (!line.empty() && line.back() == '#') line.remove_suffix(1);  // closing hashes
      return Trim(line);
    }
  }
  if (line.size() >= 2 && (line[0] == '-' || line[0] == '*' || line[0] == '+') &&
      (line[1] == ' ' || line[1] == '\t')) {
    line = TrimLeft(line.substr(2));
    // Task list boxes.
    if (line.starts_with("[ ] ") || line.starts_with("[x] ") || line.starts_with("[X] ")) {
      line.remove_prefix(4);
    }
  }
  return line;
}

// Inline constructs (links, code spans, tags) are searched for within this many bytes, so that
// text full of unmatched '[', '`' or '<' stays linear instead of quadratic.
constexpr size_t kInlineReach = 2048;

size_t FindWithin(std::string_view s, std::string_view needle, size_t from) {
  if (from >= s.size()) return std::string_view::npos;
  const size_t found = s.substr(from, kInlineReach).find(needle);
  return found == std::string_view::npos ? found : from + found;
}

// Index of the ']' matching the '[' at `open`, or npos.
size_t MatchingBracket(std::string_view s, size_t open) {
  int depth = 0;
  const size_t limit = std::min(s.size(), open + kInlineReach);
  for (size_t i = open; i < limit; ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '[') {
      ++depth;
    } else if (s[i] == ']' && --depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::string StripInlineMarkdown(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '\\' && i + 1 < s.size() && std::ispunct(static_cast<unsigned char>(s[i + 1]))) {
      out.push_back(s[i + 1]);
      i += 2;
      continue;
    }
    if (c == '`') {
      size_t ticks = 0;
      while (i + ticks < s.size() && s[i + ticks] == '`') ++ticks;
      const size_t close = FindWithin(s, std::string(ticks, '`'), i + ticks);
      if (close != std::string_view::npos) {
        out.append(Trim(s.substr(i + ticks, close - i - ticks)));
        i = close + ticks;
        continue;
      }
      out.append(s.substr(i, ticks));
      i += ticks;
      continue;
    }
    const bool image = c == '!' && i + 1 < s.size() && s[i + 1] == '[';
    if (c == '[' || image) {
      const size_t open = image ? i + 1 : i;
      const size_t close = MatchingBracket(s, open);
      if (close != std::string_view::npos) {
        const std::string label = StripInlineMarkdown(s.substr(open + 1, close - open - 1));
        size_t next = close + 1;
        if (next < s.size() && s[next] == '(') {
          const size_t end = FindWithin(s, ")", next);
          if (end != std::string_view::npos) {
            out.append(label);
            i = end + 1;
            continue;
          }
        } else if (next < s.size() && s[next] == '[') {
          const size_t end = FindWithin(s, "]", next);
          if (end != std::string_view::npos) {
            out.append(label);
            i = end + 1;
            continue;
          }
        }
      }
    }
    if (c == '<') {
      // Autolinks <http://x> keep their address; other tags go.
      const size_t end = FindWithin(s, ">", i);
      if (end != std::string_view::npos) {
        const std::string_view inner = s.substr(i + 1, end - i - 1);
        if (inner.find("://") != std::string_view::npos || inner.starts_with("mailto:")) {
          out.append(inner);
          i = end + 1;
          continue;
        }
        const std::string stripped = StripHtmlTags(s.substr(i, end - i + 1));
        if (stripped.size() < end - i + 1) {
          out.append(stripped.empty() ? "" : " ");
          i = end + 1;
          continue;
        }
      }
    }
    if (c == '*' || c == '~' || c == '_') {
      size_t run = 0;
      while (i + run < s.size() && s[i + run] == c) ++run;
      const bool space_before = i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t';
      const bool space_after = i + run == s.size() || s[i + run] == ' ' || s[i + run] == '\t';
      // Delimiters inside words (snake_case, 5*3), between spaces ("a * b"), a lone "~" or
      // long runs are text, not emphasis.
      const bool intraword =
          i > 0 && i + run < s.size() && IsWordChar(s[i - 1]) && IsWordChar(s[i + run]) && c != '~';
      if (intraword || (space_before && space_after) || (c == '~' && run < 2) || run > 3) {
        out.append(s.substr(i, run));
      }
      i += run;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return DecodeHtmlEntities(out);
}

std::string MarkdownToText(std::string_view markdown) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos <= markdown.size()) {
    const size_t nl = markdown.find('\n', pos);
    if (nl == std::string_view::npos) {
      lines.push_back(markdown.substr(pos));
      break;
    }
    lines.push_back(markdown.substr(pos, nl - pos));
    pos = nl + 1;
  }
  std::string out;
  out.reserve(markdown.size());
  std::string_view fence;
  bool in_fence = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view marker;
    if (in_fence) {
      if (IsFence(line, &marker) && marker.size() >= fence.size() && marker[0] == fence[0] &&
          Trim(line).size() == marker.size()) {
        in_fence = false;
        continue;
      }
      out.append(line);  // code is kept as written
      out.push_back('\n');
      continue;
    }
    if (IsFence(line, &marker)) {
      in_fence = true;
      fence = marker;
      continue;
    }
    char rule = 0;
    if (IsRule(line, &rule)) {
      // A rule or a Setext underline: either way the line itself is markup.
      out.push_back('\n');
      continue;
    }
    if (IsReferenceDefinition(line)) continue;
    out.append(StripInlineMarkdown(StripBlockMarkers(line)));
    out.push_back('\n');
  }
  // Trim trailing blank lines the markup left behind.
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace emberdb::cli
