#include "reelfarm/screenplay/text_arena.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace reelfarm::screenplay {

std::string& text_arena::room_for(std::size_t bytes) {
  if (blocks_.empty() || blocks_.back().capacity() - blocks_.back().size() < bytes) {
    std::string& block = blocks_.emplace_back();
    block.reserve(std::max(block_bytes, bytes));
  }
  return blocks_.back();
}

void* text_arena::allocate(std::size_t bytes, std::size_t alignment) {
  std::string& block = room_for(bytes + alignment - 1);
  const auto end = reinterpret_cast<std::uintptr_t>(block.data() + block.size());
  const std::size_t padding = (alignment - end % alignment) % alignment;
  const std::size_t at = block.size() + padding;
  block.append(padding + bytes, '\0');  // within capacity: the block does not move
  return block.data() + at;
}

std::string_view text_arena::store(std::string_view s) {
  if (s.empty()) {
    return {};
  }
  std::string& block = room_for(s.size());
  const std::size_t at = block.size();
  block.append(s);
  return std::string_view(block).substr(at, s.size());
}

std::string_view text_arena::store(std::initializer_list<std::string_view> parts) {
  std::size_t bytes = 0;
  for (std::string_view part : parts) {
    bytes += part.size();
  }
  if (bytes == 0) {
    return {};
  }
  std::string& block = room_for(bytes);
  const std::size_t at = block.size();
  for (std::string_view part : parts) {
    block.append(part);
  }
  return std::string_view(block).substr(at, bytes);
}

std::string_view text_arena::adopt(std::string&& s) {
  // The adopted string goes in front of the open block so that the block
  // keeps taking small texts; its bytes (even short, inline ones) stay where
  // the deque put them.
  if (blocks_.empty()) {
    return blocks_.emplace_back(std::move(s));
  }
  return blocks_.emplace_front(std::move(s));
}

void text_arena::keep_alive(std::shared_ptr<const text_arena> other) {
  if (other != nullptr) {
    kept_.push_back(std::move(other));
  }
}

}  // namespace reelfarm::screenplay
