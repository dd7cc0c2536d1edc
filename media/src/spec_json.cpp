#include "reelfarm/media/spec_json.hpp"

#include <nlohmann/json.hpp>
#include <string>

#include "reelfarm/media/errc.hpp"

namespace reelfarm::media {
namespace {

using json = nlohmann::json;

// Reading goes through exceptions inside this file only: nlohmann throws on
// wrong types, and each throw becomes one invalid_spec error naming the field.
struct spec_error {
  std::string message;
};

template <class T>
T get_or(const json& object, const char* key, T fallback) {
  if (!object.contains(key) || object.at(key).is_null()) {
    return fallback;
  }
  try {
    return object.at(key).get<T>();
  } catch (const json::exception&) {
    throw spec_error{std::string("field '") + key + "' has the wrong type"};
  }
}

// Integers are read through double so that 1e30 or 2.5 give an error, not UB.
template <>
int get_or<int>(const json& object, const char* key, int fallback) {
  double value = get_or<double>(object, key, fallback);
  if (!(value >= -1e9 && value <= 1e9) || value != static_cast<double>(static_cast<long>(value))) {
    throw spec_error{std::string("field '") + key + "' must be a whole number"};
  }
  return static_cast<int>(value);
}

void require_object(const json& value, const std::string& what) {
  if (!value.is_object()) {
    throw spec_error{what + " must be a JSON object"};
  }
}

std::vector<rgb> read_palette(const json& object, const std::string& what) {
  std::vector<rgb> palette;
  if (!object.contains("palette")) {
    return palette;
  }
  const auto& list = object.at("palette");
  if (!list.is_array() || list.size() > spec_limits::max_palette) {
    throw spec_error{what + ": palette must be an array of at most 8 \"#RRGGBB\" strings"};
  }
  for (const auto& item : list) {
    auto colour = item.is_string() ? parse_rgb(item.get<std::string>()) : parse_rgb("");
    if (!colour) {
      throw spec_error{what + ": " + colour.error().message()};
    }
    palette.push_back(*colour);
  }
  return palette;
}

std::uint64_t read_seed(const json& object) {
  if (!object.contains("seed")) {
    return 0;
  }
  const auto& seed = object.at("seed");
  if (!seed.is_number_integer()) {
    throw spec_error{"field 'seed' must be an integer"};
  }
  return seed.is_number_unsigned() ? seed.get<std::uint64_t>()
                                   : static_cast<std::uint64_t>(seed.get<std::int64_t>());
}

character_ref read_character(const json& value) {
  require_object(value, "a character");
  character_ref c;
  c.name = get_or<std::string>(value, "name", "");
  c.palette = read_palette(value, "character '" + c.name + "'");
  c.seed = read_seed(value);
  if (value.contains("voice")) {
    const auto& voice = value.at("voice");
    require_object(voice, "character '" + c.name + "': voice");
    c.voice.name = get_or<std::string>(voice, "name", c.voice.name);
    c.voice.pitch = get_or<int>(voice, "pitch", c.voice.pitch);
    c.voice.speed = get_or<int>(voice, "speed", c.voice.speed);
  }
  return c;
}

dialogue_line read_line(const json& value) {
  require_object(value, "a dialogue line");
  return {get_or<std::string>(value, "character", ""), get_or<std::string>(value, "text", ""),
          get_or<std::string>(value, "parenthetical", "")};
}

template <class T, class Reader>
std::vector<T> read_list(const json& object, const char* key, Reader reader) {
  std::vector<T> out;
  if (!object.contains(key)) {
    return out;
  }
  if (!object.at(key).is_array()) {
    throw spec_error{std::string("field '") + key + "' must be an array"};
  }
  for (const auto& item : object.at(key)) {
    out.push_back(reader(item));
  }
  return out;
}

shot_spec read_shot(const json& value, const shot_spec& defaults) {
  require_object(value, "a shot");
  shot_spec s = defaults;
  s.id = get_or<std::string>(value, "id", "");
  auto kind = parse_shot_kind(get_or<std::string>(value, "kind", "action"));
  if (!kind) {
    throw spec_error{kind.error().message()};
  }
  s.kind = *kind;
  s.duration_s = get_or<double>(value, "duration", s.duration_s);
  s.width = get_or<int>(value, "width", s.width);
  s.height = get_or<int>(value, "height", s.height);
  s.fps = get_or<int>(value, "fps", s.fps);
  if (value.contains("location")) {
    const auto& loc = value.at("location");
    require_object(loc, "location");
    s.location.name = get_or<std::string>(loc, "name", "");
    s.location.palette = read_palette(loc, "location");
    s.location.seed = read_seed(loc);
  }
  s.characters = read_list<character_ref>(value, "characters", read_character);
  s.heading = get_or<std::string>(value, "heading", "");
  s.action = get_or<std::string>(value, "action", "");
  s.dialogue = read_list<dialogue_line>(value, "dialogue", read_line);
  s.watermark = get_or<bool>(value, "watermark", s.watermark);
  return s;
}

template <class T, class Body>
result<T> guarded(std::string_view text, Body body) {
  try {
    auto document = json::parse(text);
    return body(document);
  } catch (const json::parse_error& e) {
    return error(media_errc::invalid_spec, std::string("the spec is not valid JSON: ") + e.what());
  } catch (const spec_error& e) {
    return error(media_errc::invalid_spec, e.message);
  } catch (const json::exception& e) {
    return error(media_errc::invalid_spec, std::string("the spec has a wrong field: ") + e.what());
  }
}

}  // namespace

result<shot_spec> parse_shot_spec(std::string_view json_text) {
  return guarded<shot_spec>(json_text, [](const json& document) -> result<shot_spec> {
    auto shot = read_shot(document, shot_spec{});
    if (auto r = validate(shot); !r) {
      return r.error();
    }
    return shot;
  });
}

result<film_spec> parse_film_spec(std::string_view json_text) {
  return guarded<film_spec>(json_text, [](const json& document) -> result<film_spec> {
    require_object(document, "a film");
    film_spec film;
    film.title = get_or<std::string>(document, "title", "");
    shot_spec defaults;
    defaults.width = get_or<int>(document, "width", defaults.width);
    defaults.height = get_or<int>(document, "height", defaults.height);
    defaults.fps = get_or<int>(document, "fps", defaults.fps);
    defaults.watermark = get_or<bool>(document, "watermark", false);
    film.scenes = read_list<scene_spec>(document, "scenes", [&](const json& value) {
      require_object(value, "a scene");
      scene_spec scene;
      scene.id = get_or<std::string>(value, "id", "");
      scene.shots = read_list<shot_spec>(
          value, "shots", [&](const json& shot) { return read_shot(shot, defaults); });
      return scene;
    });
    if (auto r = validate(film); !r) {
      return r.error();
    }
    return film;
  });
}

}  // namespace reelfarm::media
