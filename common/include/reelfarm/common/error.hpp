#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace reelfarm {

/// An error as a value: which module it comes from, the module's error code
/// (its `errc` enum, by name and number) and a message written for people.
/// Errors cross module and actor boundaries as values; exceptions stay inside
/// the module that throws them.
class error {
 public:
  error() = default;

  /// Builds an error from a module's `errc` value. The module provides
  /// `std::string_view category_of(errc)` and `std::string_view to_string(errc)`.
  template <class Errc>
  requires std::is_enum_v<Errc> error(Errc code, std::string message)
      : category_(category_of(code)),
        code_name_(to_string(code)),
        code_(static_cast<int>(code)),
        message_(std::move(message)) {}

  /// The module the error comes from, e.g. "config" or "store".
  std::string_view category() const noexcept { return category_; }
  /// The symbolic name of the code, e.g. "unknown_key".
  std::string_view code_name() const noexcept { return code_name_; }
  /// The numeric code within the category.
  int code() const noexcept { return code_; }
  /// A complete sentence for people: what failed, where, and what was expected.
  const std::string& message() const noexcept { return message_; }

  /// True when this error carries `code`.
  template <class Errc>
  requires std::is_enum_v<Errc>
  bool is(Errc code) const noexcept {
    return category_ == category_of(code) && code_ == static_cast<int>(code);
  }

  /// "category.code_name: message", for logs.
  std::string full_text() const;

 private:
  std::string_view category_;
  std::string_view code_name_;
  int code_ = 0;
  std::string message_;
};

}  // namespace reelfarm
