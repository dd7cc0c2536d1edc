#include "reelfarm/testing/temp_dir.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace reelfarm::testing {

temp_dir::temp_dir() {
  std::string pattern = "/tmp/reelfarm-test-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("cannot create a temporary folder");
  }
  chmod(pattern.c_str(), 0755);
  path_ = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace reelfarm::testing
