#pragma once

#include <string_view>

namespace reelfarm {

/// Errors of the actors module: render jobs as a whole.
enum class actors_errc {
  invalid_settings = 1,  ///< the project's render settings cannot be used
  plan_limit,            ///< the film is longer than the user's plan allows
  shot_failed,           ///< a shot could not be rendered (after the farm's retries)
  assembly,              ///< the film could not be assembled from its segments
  cancelled,             ///< the job was cancelled
  crashed,               ///< an actor of the job stopped unexpectedly too often
  not_running,           ///< no supervisor runs this job here
};

std::string_view category_of(actors_errc) noexcept;
std::string_view to_string(actors_errc code) noexcept;

}  // namespace reelfarm
