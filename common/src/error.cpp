#include "reelfarm/common/error.hpp"

namespace reelfarm {

std::string error::full_text() const {
  std::string out;
  out.reserve(category_.size() + code_name_.size() + message_.size() + 3);
  out.append(category_).append(".").append(code_name_).append(": ").append(message_);
  return out;
}

}  // namespace reelfarm
