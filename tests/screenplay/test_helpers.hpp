#pragma once

#include <catch2/catch.hpp>
#include <fstream>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "reelfarm/screenplay/fountain.hpp"

namespace reelfarm::screenplay::testing {

/// Parses text that must parse.
inline document parse(std::string_view text) {
  auto doc = parse_fountain(text);
  REQUIRE(doc.has_value());
  return std::move(doc).value();
}

/// The kinds of the body elements, in order.
inline std::vector<element_kind> kinds(const document& doc) {
  std::vector<element_kind> out;
  for (const auto& e : doc.elements) {
    out.push_back(e.kind);
  }
  return out;
}

/// The names of a shot or scene as a vector, for comparisons.
inline std::vector<std::string> names(std::span<const std::string_view> list) {
  return {list.begin(), list.end()};
}

/// Element `i` of a plan's list, failing the test when there is none.
template <class T>
const T& at(std::span<const T> list, std::size_t i) {
  REQUIRE(i < list.size());
  return list[i];
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string data_file(const std::string& name) {
  return read_file(std::string(REELFARM_SCREENPLAY_TEST_DATA) + "/" + name);
}

}  // namespace reelfarm::screenplay::testing
