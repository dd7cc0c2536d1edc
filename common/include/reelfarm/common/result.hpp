#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "reelfarm/common/error.hpp"

namespace reelfarm {

/// Either a value or an `error`: the return type of every operation that can
/// fail for reasons outside the program (input, network, servers).
template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : state_(std::in_place_index<0>, std::move(value)) {}            // NOLINT
  result(reelfarm::error err) : state_(std::in_place_index<1>, std::move(err)) {}  // NOLINT

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(state_));
  }
  const reelfarm::error& error() const& {
    assert(!has_value());
    return std::get<1>(state_);
  }
  reelfarm::error&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(state_));
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, reelfarm::error> state_;
};

/// `result<void>`: success, or an error.
template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(reelfarm::error err) : error_(std::move(err)), failed_(true) {}  // NOLINT

  bool has_value() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return has_value(); }
  const reelfarm::error& error() const& {
    assert(failed_);
    return error_;
  }
  reelfarm::error&& error() && {
    assert(failed_);
    return std::move(error_);
  }

 private:
  reelfarm::error error_;
  bool failed_ = false;
};

/// The success value of `result<void>`.
inline result<void> ok() {
  return {};
}

}  // namespace reelfarm
