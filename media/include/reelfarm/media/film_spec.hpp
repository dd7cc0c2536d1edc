#pragma once

#include <string>
#include <vector>

#include "reelfarm/common/result.hpp"
#include "reelfarm/media/shot_spec.hpp"

namespace reelfarm::media {

/// One scene: its shots in order.
struct scene_spec {
  std::string id;
  std::vector<shot_spec> shots;
};

/// A whole film: scenes in order. All shots share resolution and frame rate.
struct film_spec {
  std::string title;
  std::vector<scene_spec> scenes;
};

/// Validates every shot, unique ids, and one resolution/fps for the whole film.
result<void> validate(const film_spec& film);

}  // namespace reelfarm::media
