#pragma once

#include <filesystem>
#include <memory>
#include <string_view>

#include "alpha_mask.hpp"
#include "reelfarm/common/result.hpp"

namespace reelfarm::media::detail {

/// How a block of text is laid out.
struct text_layout {
  int pixel_size = 24;
  int max_width = 0;  ///< wrap at this width in pixels
  int max_lines = 3;  ///< further text is cut and ends with an ellipsis
  bool centred = false;
};

/// A TrueType face loaded with FreeType; renders wrapped text into alpha masks.
/// Not thread-safe: one per renderer.
class font {
 public:
  /// Loads the font file; the error names the file.
  static result<font> load(const std::filesystem::path& file);

  font(font&&) noexcept;
  font& operator=(font&&) noexcept;
  ~font();

  /// Renders `utf8` (valid UTF-8) word-wrapped into a mask exactly as large as the text.
  alpha_mask render(std::string_view utf8, const text_layout& layout);

 private:
  struct impl;
  explicit font(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

}  // namespace reelfarm::media::detail
