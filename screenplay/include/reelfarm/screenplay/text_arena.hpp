#pragma once

#include <cstddef>
#include <deque>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace reelfarm::screenplay {

/// Stable storage for the texts of a document or a plan. Element, scene and
/// shot texts are std::string_view into an arena, so that a 10 MB screenplay
/// costs a handful of large allocations instead of one per element and shot.
/// Bytes once stored never move. Documents and plans share their arena through
/// a std::shared_ptr, so copies stay valid and cheap.
class text_arena {
 public:
  text_arena() = default;
  text_arena(const text_arena&) = delete;
  text_arena& operator=(const text_arena&) = delete;

  /// Copies `s` into the arena; the view lives as long as the arena.
  std::string_view store(std::string_view s);

  /// Stores the concatenation of `parts` as one text.
  std::string_view store(std::initializer_list<std::string_view> parts);

  /// Copies `items` into the arena: for the small lists of a plan (the names
  /// present in a shot, its spoken lines), which would otherwise each cost a
  /// vector of their own. Only for types without resources of their own.
  template <class T>
  std::span<const T> store_array(std::span<const T> items) {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);
    if (items.empty()) {
      return {};
    }
    T* first = static_cast<T*>(allocate(items.size_bytes(), alignof(T)));
    for (std::size_t k = 0; k < items.size(); ++k) {
      ::new (static_cast<void*>(first + k)) T(items[k]);
    }
    return {first, items.size()};
  }

  /// Takes `s` over without copying its bytes; returns a view of all of them.
  std::string_view adopt(std::string&& s);

  /// Keeps `other` alive as long as this arena: a plan keeps the texts of the
  /// document it was planned from, whose element texts its shots view.
  void keep_alive(std::shared_ptr<const text_arena> other);

 private:
  // Reserves room for `bytes` more in the last block, opening a new block when
  // the last is full: appending within capacity never reallocates.
  std::string& room_for(std::size_t bytes);
  // Uninitialised room for `bytes` at an address aligned to `alignment`.
  void* allocate(std::size_t bytes, std::size_t alignment);

  static constexpr std::size_t block_bytes = std::size_t{256} * 1024;
  std::deque<std::string> blocks_;  // a deque never relocates its elements
  std::vector<std::shared_ptr<const text_arena>> kept_;
};

}  // namespace reelfarm::screenplay
