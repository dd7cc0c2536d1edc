#include "reelfarm/screenplay/fountain.hpp"

#include <array>
#include <string>

#include "reelfarm/screenplay/errc.hpp"
#include "source_cleaner.hpp"
#include "text.hpp"

namespace reelfarm::screenplay {
namespace {

using detail::cleaned_source;

constexpr std::size_t npos = static_cast<std::size_t>(-1);

// Title page keys that may open a title page. Later keys of the page may be
// anything ("Key: value"), but the first must be one of these so that a
// script opening with "FADE IN:" is not read as a title page.
constexpr std::array<std::string_view, 22> known_title_keys = {
    "title",        "credit",    "author", "authors",  "source",    "draft date", "date", "contact",
    "contact info", "copyright", "notes",  "revision", "watermark", "font",       "tl",   "tc",
    "tr",           "cc",        "bl",     "br",       "header",    "footer"};

bool is_alnum_or_utf8(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         static_cast<unsigned char>(c) >= 0x80;
}

// The key of a "Key: value" line, or empty.
std::string_view title_key(std::string_view line) {
  if (line.empty() || text::is_space(line[0])) {
    return {};
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return {};
  }
  const std::string_view key = line.substr(0, colon);
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ' ' || c == '_' ||
                    c == '-' || (c >= '0' && c <= '9');
    if (!ok) {
      return {};
    }
  }
  return text::trim(key);
}

bool is_known_title_key(std::string_view key) {
  std::string lower;
  for (char c : key) {
    lower.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
  }
  for (auto known : known_title_keys) {
    if (lower == known) {
      return true;
    }
  }
  return false;
}

// "INT. HOUSE", "ext house", "INT./EXT. CAR", "I/E TRAIN", "EST. CITY".
bool is_scene_heading(std::string_view t) {
  static constexpr std::array<std::string_view, 8> prefixes = {
      "INT./EXT", "INT/EXT", "I./E", "I/E", "INT", "EXT", "EST", "E/I"};
  // Every prefix starts with I or E: most lines are ruled out by one byte.
  if (t.empty() || (text::ascii_upper(t[0]) != 'I' && text::ascii_upper(t[0]) != 'E')) {
    return false;
  }
  for (auto prefix : prefixes) {
    if (!text::starts_with_icase(t, prefix) || t.size() <= prefix.size()) {
      continue;
    }
    const char after = t[prefix.size()];
    if (after == '.' || after == ' ' || after == '\t') {
      return !text::is_blank(t.substr(prefix.size() + 1));
    }
  }
  return false;
}

bool is_forced_heading(std::string_view t) {
  return t.size() > 1 && t[0] == '.' && t[1] != '.' && is_alnum_or_utf8(t[1]);
}

bool is_page_break(std::string_view t) {
  if (t.size() < 3) {
    return false;
  }
  for (char c : t) {
    if (c != '=') {
      return false;
    }
  }
  return true;
}

bool is_uppercase_line(std::string_view t) {
  const auto c = text::census(t);
  return c.any_letter && !c.any_lower;
}

// The name part of a character line: before its first extension "(".
std::string_view character_name_part(std::string_view t) {
  const std::size_t paren = t.find('(');
  return text::trim(paren == std::string_view::npos ? t : t.substr(0, paren));
}

bool is_two_space_line(std::string_view line) {
  if (line.size() < 2) {
    return false;
  }
  for (char c : line) {
    if (c != ' ') {
      return false;
    }
  }
  return true;
}

// Appends `line` to `out` with every tab as four spaces.
void append_expanding_tabs(std::string& out, std::string_view line) {
  std::size_t tab = line.find('\t');
  while (tab != std::string_view::npos) {
    out.append(line.substr(0, tab));
    out.append("    ");
    line.remove_prefix(tab + 1);
    tab = line.find('\t');
  }
  out.append(line);
}

// Element texts are written one after the other into one buffer: only the
// latest element ever grows, so its text is always the buffer's tail. The
// elements get their views once the buffer is complete and can no longer move.
class parser {
 public:
  parser(const cleaned_source& src, document& doc) : src_(src), doc_(doc) {
    buffer_.reserve(src.input.size() + 64);
    spans_.reserve(doc.elements.capacity());
  }

  void run() {
    std::size_t i = skip_blank(0);
    i = title_page(i);
    prev_blank_ = true;
    for (; i < src_.lines.size(); ++i) {
      body_line(i);
    }
    publish_texts();
  }

 private:
  std::string_view line(std::size_t i) const { return src_.line(i); }
  std::uint32_t number(std::size_t i) const { return src_.lines[i].number; }

  bool next_is_blank(std::size_t i) const {
    return i + 1 >= src_.lines.size() || text::is_blank(line(i + 1));
  }

  std::size_t skip_blank(std::size_t i) const {
    while (i < src_.lines.size() && text::is_blank(line(i))) {
      ++i;
    }
    return i;
  }

  // Reads the title page if the first line opens one; returns the first body line.
  std::size_t title_page(std::size_t i) {
    if (i >= src_.lines.size() || !is_known_title_key(title_key(line(i)))) {
      return i;
    }
    for (; i < src_.lines.size() && !text::is_blank(line(i)); ++i) {
      const std::string_view l = line(i);
      const std::string_view key = title_key(l);
      if (!key.empty()) {
        const std::string_view value = text::trim(l.substr(l.find(':') + 1));
        doc_.title_page.push_back({std::string(key), std::string(value), number(i)});
        continue;
      }
      auto& field = doc_.title_page.back();  // the first line always opened a field
      if (!field.value.empty()) {
        field.value.push_back('\n');
      }
      field.value.append(text::trim(l));
    }
    return i;
  }

  void body_line(std::size_t i) {
    const std::string_view raw = line(i);
    if (text::is_blank(raw)) {
      blank_line(i, raw);
      return;
    }
    const std::string_view t = text::trim(raw);
    if (in_dialogue_) {
      dialogue_line(i, t);
    } else if (!marked_line(i, raw, t) && !(prev_blank_ && block_start_line(i, t))) {
      action_line(i, raw);
    }
    prev_blank_ = false;
  }

  void blank_line(std::size_t i, std::string_view raw) {
    // Two spaces keep dialogue or action together across an empty line.
    if (is_two_space_line(raw) && !next_is_blank(i) &&
        (in_dialogue_ || open_ == open_kind::action)) {
      extend_last("\n");
      return;
    }
    in_dialogue_ = false;
    open_ = open_kind::none;
    prev_blank_ = true;
  }

  // Lines whose first character says what they are, wherever they stand.
  bool marked_line(std::size_t i, std::string_view raw, std::string_view t) {
    const char c = t[0];
    if (c == '!') {
      const std::size_t bang = raw.find('!');
      scratch_.assign(raw.substr(0, bang));
      scratch_.append(raw.substr(bang + 1));
      action_line(i, scratch_, true);
      return true;
    }
    if (c == '=' && is_page_break(t)) {
      add(element_kind::page_break, i, std::string_view{});
    } else if (c == '=') {
      add(element_kind::synopsis, i, text::trim(t.substr(1)));
    } else if (c == '#') {
      std::size_t depth = t.find_first_not_of('#');
      depth = depth == std::string_view::npos ? t.size() : depth;
      add(element_kind::section, i, text::trim(t.substr(depth)));
      doc_.elements.back().depth = static_cast<std::uint8_t>(depth > 255 ? 255 : depth);
    } else if (c == '~') {
      lyrics_line(i, t, false);
    } else if (c == '>' && t.size() >= 2 && t.back() == '<') {
      add(element_kind::centered, i, text::trim(t.substr(1, t.size() - 2)));
    } else if (c == '>') {
      add(element_kind::transition, i, text::trim(t.substr(1)), true);
    } else {
      return false;
    }
    return true;
  }

  // Elements that need an empty line before them.
  bool block_start_line(std::size_t i, std::string_view t) {
    if (is_forced_heading(t)) {
      heading(i, t.substr(1), true);
      return true;
    }
    if (is_scene_heading(t)) {
      heading(i, t, false);
      return true;
    }
    if (next_is_blank(i)) {
      // Transitions stand alone; a character line needs dialogue after it.
      if (is_uppercase_line(t) && t.size() >= 3 && t.ends_with("TO:")) {
        add(element_kind::transition, i, t);
        return true;
      }
      return false;
    }
    if (t[0] == '@' && t.size() > 1) {
      character(i, t.substr(1), true);
      return true;
    }
    std::string_view name = t;
    if (name.back() == '^') {
      name = text::trim_right(name.substr(0, name.size() - 1));
    }
    if (!name.empty() && is_uppercase_line(character_name_part(name))) {
      character(i, t, false);
      return true;
    }
    return false;
  }

  void heading(std::size_t i, std::string_view t, bool forced) {
    std::string_view body = text::trim(t);
    std::string_view number;
    if (body.size() >= 3 && body.back() == '#') {
      const std::size_t open = body.find_last_of('#', body.size() - 2);
      if (open != std::string_view::npos && open + 1 < body.size() - 1) {
        number = body.substr(open + 1, body.size() - open - 2);
        body = text::trim_right(body.substr(0, open));
      }
    }
    // The number goes into the buffer first: the element's text must stay its tail.
    const text_span scene_number = append(text::trim(number));
    add(element_kind::scene_heading, i, body, forced);
    spans_.back().scene_number = scene_number;
  }

  void character(std::size_t i, std::string_view t, bool forced) {
    std::string_view name = t;
    bool dual = false;
    if (name.back() == '^') {
      dual = true;
      name = text::trim_right(name.substr(0, name.size() - 1));
    }
    const std::size_t previous_block = last_block_;
    add(element_kind::character, i, text::trim(name), forced);
    last_block_ = doc_.elements.size() - 1;
    in_dialogue_ = true;
    if (dual && previous_block != npos && doc_.elements[previous_block].dual == dual_side::none) {
      for (std::size_t k = previous_block; k < last_block_; ++k) {
        doc_.elements[k].dual = dual_side::left;
      }
      doc_.elements.back().dual = dual_side::right;
    }
  }

  void dialogue_line(std::size_t i, std::string_view t) {
    const dual_side side = doc_.elements[last_block_].dual;
    if (t.front() == '(' && t.back() == ')') {
      add(element_kind::parenthetical, i, t, false, true);
    } else if (t.front() == '~') {
      lyrics_line(i, t, true);
    } else if (open_ == open_kind::dialogue) {
      extend_last("\n");
      extend_last(t);
    } else {
      add(element_kind::dialogue, i, t, false, true);
      open_ = open_kind::dialogue;
    }
    doc_.elements.back().dual = side;
  }

  void lyrics_line(std::size_t i, std::string_view t, bool in_dialogue) {
    const std::string_view words = text::trim(t.substr(1));
    if (open_ == open_kind::lyrics) {
      extend_last("\n");
      extend_last(words);
      return;
    }
    add(element_kind::lyrics, i, words, true, in_dialogue);
    open_ = open_kind::lyrics;
  }

  void action_line(std::size_t i, std::string_view raw, bool forced = false) {
    const std::string_view kept = text::trim_right(raw);
    if (open_ == open_kind::action) {
      extend_last("\n");
    } else {
      add(element_kind::action, i, std::string_view{}, forced);
      open_ = open_kind::action;
    }
    const std::size_t before = buffer_.size();
    append_expanding_tabs(buffer_, kept);
    spans_.back().text.length += buffer_.size() - before;
  }

  void add(element_kind kind, std::size_t i, std::string_view text, bool forced = false,
           bool in_dialogue = false) {
    element& e = doc_.elements.emplace_back();
    e.kind = kind;
    e.line = number(i);
    e.forced = forced;
    e.in_dialogue = in_dialogue;
    spans_.push_back({append(text), {}});
    open_ = open_kind::none;
    if (!in_dialogue && kind != element_kind::character) {
      last_block_ = npos;  // anything else between two blocks breaks a dual pair
    }
  }

  // Where a text lies in buffer_ until the buffer is complete.
  struct text_span {
    std::size_t offset = 0;
    std::size_t length = 0;
  };
  struct element_spans {
    text_span text;
    text_span scene_number;
  };

  text_span append(std::string_view s) {
    const text_span span{buffer_.size(), s.size()};
    buffer_.append(s);
    return span;
  }

  // Grows the latest element's text, which is the tail of the buffer.
  void extend_last(std::string_view s) {
    buffer_.append(s);
    spans_.back().text.length += s.size();
  }

  // Hands the buffer to the document's arena and points the elements into it.
  void publish_texts() {
    auto arena = std::make_shared<text_arena>();
    const std::string_view all = arena->adopt(std::move(buffer_));
    for (std::size_t k = 0; k < spans_.size(); ++k) {
      doc_.elements[k].text = all.substr(spans_[k].text.offset, spans_[k].text.length);
      doc_.elements[k].scene_number =
          all.substr(spans_[k].scene_number.offset, spans_[k].scene_number.length);
    }
    doc_.texts = std::move(arena);
  }

  enum class open_kind { none, action, dialogue, lyrics };

  const cleaned_source& src_;
  document& doc_;
  bool prev_blank_ = true;
  bool in_dialogue_ = false;
  open_kind open_ = open_kind::none;
  std::size_t last_block_ = npos;     ///< the character element of the latest dialogue block
  std::string buffer_;                ///< every element text, in element order
  std::vector<element_spans> spans_;  ///< per element: where its texts lie in buffer_
  std::string scratch_;               ///< a forced action line without its `!`
};

// Rejects UTF-16 and UTF-32 by their byte order marks or NUL patterns.
bool looks_like_utf16_or_32(std::string_view s) {
  if (s.size() >= 2) {
    const auto b0 = static_cast<unsigned char>(s[0]);
    const auto b1 = static_cast<unsigned char>(s[1]);
    if ((b0 == 0xFF && b1 == 0xFE) || (b0 == 0xFE && b1 == 0xFF)) {
      return true;
    }
  }
  if (s.size() >= 4 && s[0] == '\0' && s[1] == '\0' && s[2] == '\xFE' && s[3] == '\xFF') {
    return true;
  }
  return false;
}

}  // namespace

result<document> parse_fountain(std::string_view input, const parse_options& options) {
  if (input.size() > options.max_bytes) {
    return error(screenplay_errc::too_large, "the screenplay is " + std::to_string(input.size()) +
                                                 " bytes, more than the limit of " +
                                                 std::to_string(options.max_bytes) + " bytes");
  }
  if (looks_like_utf16_or_32(input)) {
    return error(screenplay_errc::encoding,
                 "the screenplay is UTF-16 or UTF-32 text; save it as UTF-8");
  }
  if (input.starts_with("\xEF\xBB\xBF")) {
    input.remove_prefix(3);
  }
  std::string sanitized;
  if (!text::valid_utf8(input)) {
    sanitized.reserve(input.size() + 16);
    text::append_sanitized_utf8(sanitized, input);
    input = sanitized;
  }
  detail::cleaned_source src = detail::clean_source(input);
  document doc;
  doc.elements.reserve(src.lines.size() / 2 + 4);
  parser(src, doc).run();
  doc.notes = std::move(src.notes);
  doc.boneyard = std::move(src.boneyard);
  doc.line_count = src.line_count;
  return doc;
}

}  // namespace reelfarm::screenplay
