#pragma once

#include <string>

namespace reelfarm::app {

/// The program's version followed by the version of every library it links,
/// one per line, as `reelfarm --version` prints it.
std::string version_report();

}  // namespace reelfarm::app
