#include "html_reader.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "utf8_text.h"

namespace emberdb::cli {
namespace {

struct NamedEntity {
  const char* name;
  uint32_t code_point;
};

// The entities that occur in real-world pages; others stay verbatim.
constexpr NamedEntity kEntities[] = {
    {"amp", '&'},      {"lt", '<'},        {"gt", '>'},       {"quot", '"'},
    {"apos", '\''},    {"nbsp", 0xA0},     {"copy", 0xA9},    {"reg", 0xAE},
    {"trade", 0x2122}, {"mdash", 0x2014},  {"ndash", 0x2013}, {"hellip", 0x2026},
    {"lsquo", 0x2018}, {"rsquo", 0x2019},  {"ldquo", 0x201C}, {"rdquo", 0x201D},
    {"sbquo", 0x201A}, {"bdquo", 0x201E},  {"laquo", 0xAB},   {"raquo", 0xBB},
    {"bull", 0x2022},  {"middot", 0xB7},   {"deg", 0xB0},     {"plusmn", 0xB1},
    {"times", 0xD7},   {"divide", 0xF7},   {"euro", 0x20AC},  {"pound", 0xA3},
    {"yen", 0xA5},     {"cent", 0xA2},     {"sect", 0xA7},    {"para", 0xB6},
    {"iexcl", 0xA1},   {"iquest", 0xBF},   {"shy", 0xAD},     {"micro", 0xB5},
    {"frac12", 0xBD},  {"frac14", 0xBC},   {"frac34", 0xBE},  {"sup2", 0xB2},
    {"sup3", 0xB3},    {"larr", 0x2190},   {"rarr", 0x2192},  {"uarr", 0x2191},
    {"darr", 0x2193},  {"harr", 0x2194},   {"eacute", 0xE9},  {"egrave", 0xE8},
    {"ecirc", 0xEA},   {"aacute", 0xE1},   {"agrave", 0xE0},  {"acirc", 0xE2},
    {"auml", 0xE4},    {"ouml", 0xF6},     {"uuml", 0xFC},    {"Auml", 0xC4},
    {"Ouml", 0xD6},    {"Uuml", 0xDC},     {"szlig", 0xDF},   {"ccedil", 0xE7},
    {"ntilde", 0xF1},  {"oacute", 0xF3},   {"iacute", 0xED},  {"uacute", 0xFA},
    {"aring", 0xE5},   {"oslash", 0xF8},   {"aelig", 0xE6},   {"thinsp", 0x2009},
    {"ensp", 0x2002},  {"emsp", 0x2003},   {"zwj", 0x200D},   {"zwnj", 0x200C},
    {"alpha", 0x3B1},  {"beta", 0x3B2},    {"gamma", 0x3B3},  {"delta", 0x3B4},
    {"pi", 0x3C0},     {"sigma", 0x3C3},   {"mu", 0x3BC},     {"lambda", 0x3BB},
    {"infin", 0x221E}, {"ne", 0x2260},     {"le", 0x2264},    {"ge", 0x2265},
    {"check", 0x2713}, {"dagger", 0x2020}, {"prime", 0x2032}, {"minus", 0x2212},
};

bool StartsWithNoCase(std::string_view text, size_t pos, std::string_view prefix) {
  if (text.size() - pos < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[pos + i])) != prefix[i]) return false;
  }
  return true;
}

// Finds `needle` (lower case) case-insensitively from `pos`; npos when absent.
size_t FindNoCase(std::string_view text, size_t pos, std::string_view needle) {
  for (size_t i = pos; i + needle.size() <= text.size(); ++i) {
    if (StartsWithNoCase(text, i, needle)) return i;
  }
  return std::string_view::npos;
}

enum class Break { kNone, kLine, kParagraph };

Break BreakFor(std::string_view tag_name) {
  static constexpr std::string_view kParagraph[] = {
      "p",     "div",   "h1",     "h2",         "h3",      "h4",      "h5",     "h6",     "ul",
      "ol",    "table", "pre",    "blockquote", "section", "article", "header", "footer", "nav",
      "aside", "main",  "figure", "hr",         "dl",      "form",    "title"};
  static constexpr std::string_view kLine[] = {"br", "li", "tr",      "dt",    "dd",
                                               "td", "th", "caption", "option"};
  for (auto name : kParagraph) {
    if (tag_name == name) return Break::kParagraph;
  }
  for (auto name : kLine) {
    if (tag_name == name) return Break::kLine;
  }
  return Break::kNone;
}

// Collapses runs of spaces and tabs to one space, trims lines, and keeps at most one blank line.
std::string TidyWhitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pending_newlines = 0;
  bool pending_space = false;
  for (char c : text) {
    if (c == '\n') {
      ++pending_newlines;
      pending_space = false;
    } else if (c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '\r') {
      pending_space = true;
    } else {
      if (!out.empty()) {
        if (pending_newlines > 0) {
          out.append(std::min<size_t>(pending_newlines, 2), '\n');
        } else if (pending_space) {
          out.push_back(' ');
        }
      }
      pending_newlines = 0;
      pending_space = false;
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string DecodeHtmlEntities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '&') {
      out.push_back(text[i++]);
      continue;
    }
    // References are short: look for the ';' nearby only, which keeps "&&&&..." linear.
    const size_t found = text.substr(i + 1, 12).find(';');
    const size_t semi = found == std::string_view::npos ? found : i + 1 + found;
    if (semi == std::string_view::npos) {
      out.push_back(text[i++]);
      continue;
    }
    const std::string_view body = text.substr(i + 1, semi - i - 1);
    bool decoded = false;
    if (body.size() >= 2 && body[0] == '#') {
      const bool hex = body[1] == 'x' || body[1] == 'X';
      const std::string digits(body.substr(hex ? 2 : 1));
      const char* valid = hex ? "0123456789abcdefABCDEF" : "0123456789";
      if (!digits.empty() && digits.size() <= 8 &&
          digits.find_first_not_of(valid) == std::string::npos) {
        AppendUtf8(static_cast<uint32_t>(std::strtoul(digits.c_str(), nullptr, hex ? 16 : 10)),
                   &out);
        decoded = true;
      }
    } else {
      for (const auto& entity : kEntities) {
        if (body == entity.name) {
          AppendUtf8(entity.code_point, &out);
          decoded = true;
          break;
        }
      }
    }
    if (decoded) {
      i = semi + 1;
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

std::string StripHtmlTags(std::string_view html) {
  std::string out;
  out.reserve(html.size());
  size_t i = 0;
  while (i < html.size()) {
    if (html[i] != '<') {
      out.push_back(html[i++]);
      continue;
    }
    if (html.compare(i, 4, "<!--") == 0) {
      const size_t end = html.find("-->", i + 4);
      i = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    // A '<' not followed by a tag name, '/' or '!' is text ("a < b").
    const size_t name_start = i + 1 + (i + 1 < html.size() && html[i + 1] == '/' ? 1 : 0);
    if (name_start >= html.size() || !(std::isalpha(static_cast<unsigned char>(html[name_start])) ||
                                       html[name_start] == '!' || html[name_start] == '?')) {
      out.push_back(html[i++]);
      continue;
    }
    // The tag ends at the first '>' outside a quoted attribute value.
    size_t j = name_start;
    char quote = 0;
    while (j < html.size() && (quote || html[j] != '>')) {
      if (quote && html[j] == quote) {
        quote = 0;
      } else if (!quote && (html[j] == '"' || html[j] == '\'')) {
        quote = html[j];
      }
      ++j;
    }
    std::string name;
    for (size_t k = name_start; k < j && std::isalnum(static_cast<unsigned char>(html[k])); ++k) {
      name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(html[k]))));
    }
    i = j == html.size() ? j : j + 1;
    const bool closing = html[name_start - 1] == '/';
    if (!closing &&
        (name == "script" || name == "style" || name == "noscript" || name == "template")) {
      const size_t end = FindNoCase(html, i, "</" + name);
      if (end == std::string_view::npos) {
        i = html.size();
      } else {
        const size_t close = html.find('>', end);
        i = close == std::string_view::npos ? html.size() : close + 1;
      }
      continue;
    }
    switch (BreakFor(name)) {
      case Break::kParagraph:
        out.append("\n\n");
        break;
      case Break::kLine:
        // "<li>a</li><li>b</li>": one break per item, not two.
        if (!closing) out.push_back('\n');
        break;
      case Break::kNone:
        // Inline elements still separate words when they sit between them ("a<b>c</b>" stays
        // "ac", but "<td>a</td><td>b</td>" was handled above).
        break;
    }
  }
  return out;
}

std::string HtmlToText(std::string_view html) {
  std::string text = DecodeHtmlEntities(StripHtmlTags(html));
  // Non-breaking spaces from &nbsp; are spacing, not content.
  std::string spaced;
  spaced.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "\xC2\xA0") == 0) {
      spaced.push_back(' ');
      ++i;
    } else {
      spaced.push_back(text[i]);
    }
  }
  return TidyWhitespace(spaced);
}

}  // namespace emberdb::cli
