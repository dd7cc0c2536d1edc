#include "reelfarm/media/shot_spec.hpp"

#include <cmath>
#include <cstdio>
#include <set>
#include <string>

#include "reelfarm/media/errc.hpp"
#include "reelfarm/media/film_spec.hpp"
#include "utf8.hpp"

namespace reelfarm::media {
namespace {

error invalid(std::string message) {
  return error(media_errc::invalid_spec, std::move(message));
}

result<void> check_text(std::string_view field, std::string_view text, std::size_t max_bytes) {
  if (text.size() > max_bytes) {
    return invalid(std::string(field) + " is " + std::to_string(text.size()) +
                   " bytes long; at most " + std::to_string(max_bytes) + " are allowed");
  }
  if (!detail::decode_utf8(text)) {
    return invalid(std::string(field) + " is not valid UTF-8");
  }
  return ok();
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

result<void> check_range(std::string_view field, double value, double lo, double hi) {
  if (!std::isfinite(value) || value < lo || value > hi) {
    return invalid(std::string(field) + " is " + number(value) + "; expected " + number(lo) +
                   " to " + number(hi));
  }
  return ok();
}

result<void> check_id(std::string_view field, std::string_view id) {
  if (id.empty() || id.size() > spec_limits::max_id || id == "." || id == "..") {
    return invalid(std::string(field) + " must be 1 to " + std::to_string(spec_limits::max_id) +
                   " characters");
  }
  for (char c : id) {
    bool fine = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.';
    if (!fine) {
      return invalid(std::string(field) + " '" + std::string(id) +
                     "' may contain only letters, digits, '-', '_' and '.'");
    }
  }
  return ok();
}

result<void> check_voice(std::string_view who, const voice_ref& voice) {
  if (voice.name.empty() || voice.name.size() > 40 ||
      voice.name.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+_") !=
          std::string::npos) {
    return invalid(std::string(who) + ": voice name '" + voice.name +
                   "' must be an espeak-ng voice such as 'en-us' or 'en+f3'");
  }
  if (auto r = check_range(std::string(who) + ": voice pitch", voice.pitch, 0, 99); !r) {
    return r;
  }
  return check_range(std::string(who) + ": voice speed", voice.speed, 80, 400);
}

result<void> check_characters(const shot_spec& spec) {
  if (spec.characters.size() > spec_limits::max_characters) {
    return invalid("a shot may show at most " + std::to_string(spec_limits::max_characters) +
                   " characters; this one has " + std::to_string(spec.characters.size()));
  }
  std::set<std::string> names;
  for (const auto& c : spec.characters) {
    if (c.name.empty()) {
      return invalid("every character needs a name");
    }
    if (auto r = check_text("character name", c.name, spec_limits::max_name); !r) {
      return r;
    }
    if (!names.insert(c.name).second) {
      return invalid("character '" + c.name + "' appears twice in the shot");
    }
    if (c.palette.size() > spec_limits::max_palette) {
      return invalid("character '" + c.name + "' has more than 8 palette colours");
    }
    if (auto r = check_voice("character '" + c.name + "'", c.voice); !r) {
      return r;
    }
  }
  return ok();
}

result<void> check_dialogue(const shot_spec& spec) {
  if (spec.dialogue.size() > spec_limits::max_lines) {
    return invalid("a shot may hold at most " + std::to_string(spec_limits::max_lines) +
                   " dialogue lines; this one has " + std::to_string(spec.dialogue.size()));
  }
  for (std::size_t i = 0; i < spec.dialogue.size(); ++i) {
    const auto& line = spec.dialogue[i];
    std::string where = "dialogue line " + std::to_string(i + 1);
    bool known = false;
    for (const auto& c : spec.characters) {
      known = known || c.name == line.character;
    }
    if (!known) {
      return invalid(where + " is spoken by '" + line.character +
                     "', who is not among the shot's characters");
    }
    if (line.text.find_first_not_of(" \t\r\n") == std::string::npos) {
      return invalid(where + " has no text");
    }
    if (auto r = check_text(where, line.text, spec_limits::max_line); !r) {
      return r;
    }
    if (auto r = check_text(where + " parenthetical", line.parenthetical,
                            spec_limits::max_parenthetical);
        !r) {
      return r;
    }
  }
  return ok();
}

result<void> check_frame(const shot_spec& spec) {
  if (auto r = check_range("width", spec.width, spec_limits::min_width, spec_limits::max_width);
      !r) {
    return r;
  }
  if (auto r = check_range("height", spec.height, spec_limits::min_height, spec_limits::max_height);
      !r) {
    return r;
  }
  if (spec.width % 2 != 0 || spec.height % 2 != 0) {
    return invalid("width and height must be even for yuv420p; got " + std::to_string(spec.width) +
                   "x" + std::to_string(spec.height));
  }
  if (auto r = check_range("fps", spec.fps, spec_limits::min_fps, spec_limits::max_fps); !r) {
    return r;
  }
  return check_range("duration", spec.duration_s, spec_limits::min_duration_s,
                     spec_limits::max_duration_s);
}

}  // namespace

result<shot_kind> parse_shot_kind(std::string_view text) {
  if (text == "establishing") {
    return shot_kind::establishing;
  }
  if (text == "action") {
    return shot_kind::action;
  }
  if (text == "dialogue") {
    return shot_kind::dialogue;
  }
  if (text == "two-shot" || text == "two_shot") {
    return shot_kind::two_shot;
  }
  return invalid("shot kind '" + std::string(text) +
                 "' is not one of establishing, action, dialogue, two-shot");
}

std::string_view to_string(shot_kind kind) noexcept {
  switch (kind) {
    case shot_kind::establishing:
      return "establishing";
    case shot_kind::action:
      return "action";
    case shot_kind::dialogue:
      return "dialogue";
    case shot_kind::two_shot:
      return "two-shot";
  }
  return "action";
}

result<rgb> parse_rgb(std::string_view text) {
  if (text.starts_with('#')) {
    text.remove_prefix(1);
  }
  if (text.size() != 6 || text.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    return invalid("colour '" + std::string(text) + "' is not of the form #RRGGBB");
  }
  auto value = std::stoul(std::string(text), nullptr, 16);
  return rgb{static_cast<std::uint8_t>(value >> 16), static_cast<std::uint8_t>(value >> 8),
             static_cast<std::uint8_t>(value)};
}

result<void> validate(const shot_spec& spec) {
  if (auto r = check_id("shot id", spec.id); !r) {
    return r;
  }
  auto in_shot = [&](result<void> r) -> result<void> {
    if (r) {
      return r;
    }
    return invalid("shot '" + spec.id + "': " + r.error().message());
  };
  for (auto* r : {&check_frame, &check_characters, &check_dialogue}) {
    if (auto checked = in_shot(r(spec)); !checked) {
      return checked;
    }
  }
  if (spec.location.palette.size() > spec_limits::max_palette) {
    return in_shot(invalid("the location has more than 8 palette colours"));
  }
  if (auto r = in_shot(check_text("location name", spec.location.name, spec_limits::max_name));
      !r) {
    return r;
  }
  if (auto r = in_shot(check_text("heading", spec.heading, spec_limits::max_heading)); !r) {
    return r;
  }
  return in_shot(check_text("action", spec.action, spec_limits::max_action));
}

result<void> validate(const film_spec& film) {
  if (film.scenes.empty()) {
    return invalid("a film needs at least one scene");
  }
  std::set<std::string> ids;
  const shot_spec* first = nullptr;
  for (const auto& scene : film.scenes) {
    if (auto r = check_id("scene id", scene.id); !r) {
      return r;
    }
    if (scene.shots.empty()) {
      return invalid("scene '" + scene.id + "' has no shots");
    }
    for (const auto& shot : scene.shots) {
      if (auto r = validate(shot); !r) {
        return r;
      }
      if (!ids.insert(shot.id).second) {
        return invalid("shot id '" + shot.id + "' is used twice in the film");
      }
      first = first ? first : &shot;
      if (shot.width != first->width || shot.height != first->height || shot.fps != first->fps) {
        return invalid("shot '" + shot.id +
                       "' differs in resolution or fps from the first shot; a film has one");
      }
    }
  }
  return ok();
}

}  // namespace reelfarm::media
