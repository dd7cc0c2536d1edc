#pragma once

// Included first in every test (reelfarm_add_test in tests/CMakeLists.txt):
// a failed `REQUIRE(r)` on a reelfarm::result prints the error's text, so a
// setup step that fails says why instead of Catch2's "{?}".

#include <catch2/catch.hpp>
#include <string>

#include "reelfarm/common/result.hpp"

namespace Catch {

/// "a value", or "error <category>.<code>: <message>".
template <class T>
struct StringMaker<reelfarm::result<T>> {
  static std::string convert(const reelfarm::result<T>& r) {
    return r ? std::string("a value") : "error " + r.error().full_text();
  }
};

}  // namespace Catch
