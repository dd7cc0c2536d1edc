#include "font.hpp"

#include <ft2build.h>
#include FT_FREETYPE_H

#include <algorithm>
#include <vector>

#include "reelfarm/media/errc.hpp"
#include "utf8.hpp"

namespace reelfarm::media::detail {

struct font::impl {
  FT_Library library = nullptr;
  FT_Face face = nullptr;
  ~impl() {
    if (face != nullptr) {
      FT_Done_Face(face);
    }
    if (library != nullptr) {
      FT_Done_FreeType(library);
    }
  }
};

namespace {

using line = std::vector<char32_t>;

int advance_of(FT_Face face, char32_t cp) {
  if (FT_Load_Char(face, cp, FT_LOAD_DEFAULT) != 0) {
    return 0;
  }
  return static_cast<int>(face->glyph->advance.x >> 6);
}

int width_of(FT_Face face, const line& text) {
  int width = 0;
  for (char32_t cp : text) {
    width += advance_of(face, cp);
  }
  return width;
}

std::vector<line> split_words(const std::vector<char32_t>& text) {
  std::vector<line> words(1);
  for (char32_t cp : text) {
    bool space = cp == U' ' || cp == U'\t' || cp == U'\n' || cp == U'\r';
    if (space) {
      if (!words.back().empty()) {
        words.emplace_back();
      }
    } else {
      words.back().push_back(cp);
    }
  }
  if (words.back().empty()) {
    words.pop_back();
  }
  return words;
}

// Cuts the last line so that it ends with an ellipsis and fits.
void end_with_ellipsis(FT_Face face, line& last, int max_width) {
  while (!last.empty() && width_of(face, last) + advance_of(face, U'…') > max_width) {
    last.pop_back();
  }
  last.push_back(U'…');
}

// Greedy word wrap; words wider than a line are broken between characters.
std::vector<line> wrap(FT_Face face, const std::vector<char32_t>& text, const text_layout& layout) {
  std::vector<line> lines;
  line current;
  bool cut = false;
  auto push_line = [&] {
    if (static_cast<int>(lines.size()) == layout.max_lines) {
      cut = true;
    } else {
      lines.push_back(current);
    }
    current.clear();
  };
  for (const auto& word : split_words(text)) {
    line candidate = current;
    if (!candidate.empty()) {
      candidate.push_back(U' ');
    }
    candidate.insert(candidate.end(), word.begin(), word.end());
    if (width_of(face, candidate) <= layout.max_width) {
      current = std::move(candidate);
      continue;
    }
    if (!current.empty()) {
      push_line();
    }
    for (char32_t cp : word) {
      current.push_back(cp);
      if (width_of(face, current) > layout.max_width && current.size() > 1) {
        current.pop_back();
        push_line();
        current.push_back(cp);
      }
    }
  }
  if (!current.empty()) {
    push_line();
  }
  if (cut && !lines.empty()) {
    end_with_ellipsis(face, lines.back(), layout.max_width);
  }
  return lines;
}

void blit_glyph(FT_Face face, alpha_mask& mask, int pen_x, int baseline) {
  const FT_Bitmap& bitmap = face->glyph->bitmap;
  for (unsigned row = 0; row < bitmap.rows; ++row) {
    int y = baseline - face->glyph->bitmap_top + static_cast<int>(row);
    if (y < 0 || y >= mask.height) {
      continue;
    }
    for (unsigned col = 0; col < bitmap.width; ++col) {
      int x = pen_x + face->glyph->bitmap_left + static_cast<int>(col);
      if (x < 0 || x >= mask.width) {
        continue;
      }
      auto& cell = mask.coverage[static_cast<std::size_t>(y) * mask.width + x];
      cell = std::max(cell, bitmap.buffer[row * bitmap.pitch + col]);
    }
  }
}

}  // namespace

font::font(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
font::font(font&&) noexcept = default;
font& font::operator=(font&&) noexcept = default;
font::~font() = default;

result<font> font::load(const std::filesystem::path& file) {
  auto state = std::make_unique<impl>();
  if (FT_Init_FreeType(&state->library) != 0) {
    return error(media_errc::font, "FreeType could not be initialised");
  }
  if (FT_New_Face(state->library, file.c_str(), 0, &state->face) != 0) {
    return error(media_errc::font, "cannot load the font " + file.string() +
                                       " (install fonts-dejavu-core or set the font path)");
  }
  return font(std::move(state));
}

alpha_mask font::render(std::string_view utf8, const text_layout& layout) {
  FT_Face face = impl_->face;
  FT_Set_Pixel_Sizes(face, 0, static_cast<FT_UInt>(std::max(4, layout.pixel_size)));
  auto decoded = decode_utf8(utf8);
  auto lines = wrap(face, decoded ? *decoded : std::vector<char32_t>{}, layout);
  alpha_mask mask;
  if (lines.empty()) {
    return mask;
  }
  int ascender = static_cast<int>(face->size->metrics.ascender >> 6);
  int line_height = static_cast<int>(face->size->metrics.height >> 6);
  int descender = static_cast<int>(-face->size->metrics.descender >> 6);
  mask.width = 0;
  for (const auto& l : lines) {
    mask.width = std::max(mask.width, width_of(face, l));
  }
  mask.width = std::min(mask.width + 2, layout.max_width + 2);
  mask.height = line_height * static_cast<int>(lines.size() - 1) + ascender + descender;
  mask.coverage.assign(static_cast<std::size_t>(mask.width) * mask.height, 0);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    int pen_x = layout.centred ? (mask.width - width_of(face, lines[i])) / 2 : 0;
    int baseline = ascender + static_cast<int>(i) * line_height;
    for (char32_t cp : lines[i]) {
      if (FT_Load_Char(face, cp, FT_LOAD_RENDER) != 0) {
        continue;
      }
      blit_glyph(face, mask, pen_x, baseline);
      pen_x += static_cast<int>(face->glyph->advance.x >> 6);
    }
  }
  return mask;
}

}  // namespace reelfarm::media::detail
