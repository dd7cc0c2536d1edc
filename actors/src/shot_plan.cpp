#include "reelfarm/actors/shot_plan.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "reelfarm/actors/errc.hpp"
#include "reelfarm/screenplay/cost.hpp"

namespace reelfarm::actors {
namespace {

using json = nlohmann::json;

// Bumped whenever the renderer or encoder would draw different bytes for the
// same spec, so that regenerate does not reuse segments of an older look.
constexpr const char* renderer_version = "animatic/1 h264-veryfast-crf23 aac-96k";

// Cuts `text` to at most `max` bytes without splitting a UTF-8 sequence.
std::string clip_utf8(std::string_view text, std::size_t max) {
  if (text.size() <= max) {
    return std::string(text);
  }
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  return std::string(text.substr(0, cut));
}

std::string hex_of(const screenplay::rgb& c) {
  return c.hex();
}

media::rgb to_media(const screenplay::rgb& c) {
  return media::rgb{c.r, c.g, c.b};
}

const screenplay::consistency_reference* find_reference(
    const std::vector<screenplay::consistency_reference>& refs, std::string_view name) {
  auto it = std::find_if(refs.begin(), refs.end(), [&](const auto& r) { return r.name == name; });
  return it == refs.end() ? nullptr : &*it;
}

media::shot_kind to_media(screenplay::shot_kind kind) {
  switch (kind) {
    case screenplay::shot_kind::establishing:
      return media::shot_kind::establishing;
    case screenplay::shot_kind::dialogue:
      return media::shot_kind::dialogue;
    case screenplay::shot_kind::two_shot:
      return media::shot_kind::two_shot;
    case screenplay::shot_kind::action:
    case screenplay::shot_kind::card:  // the renderer draws a card as action text
      return media::shot_kind::action;
  }
  return media::shot_kind::action;
}

media::character_ref character_of(const screenplay::plan& plan, std::string_view name) {
  media::character_ref c;
  c.name = clip_utf8(name, media::spec_limits::max_name);
  if (const auto* ref = find_reference(plan.characters, name)) {
    c.seed = ref->seed;
    for (const auto& colour : ref->palette) {
      c.palette.push_back(to_media(colour));
    }
    if (!ref->voice.name.empty()) {
      c.voice.name = ref->voice.name;
      c.voice.pitch = std::clamp(ref->voice.pitch, 0, 99);
      c.voice.speed = std::clamp(ref->voice.speed_wpm, 80, 400);
    }
  }
  return c;
}

std::string location_name(const screenplay::scene& scene) {
  // The heading, not the bare location: the painter tells EXT. from INT. by it.
  const std::string_view name = !scene.heading.empty()    ? scene.heading
                                : !scene.location.empty() ? scene.location
                                                          : "PROLOGUE";
  return clip_utf8(name, media::spec_limits::max_name);
}

std::string strip_parens(std::string_view text) {
  if (text.size() >= 2 && text.front() == '(' && text.back() == ')') {
    text = text.substr(1, text.size() - 2);
  }
  return clip_utf8(text, media::spec_limits::max_parenthetical);
}

void add_character(const screenplay::plan& plan, media::shot_spec& spec, std::string_view name) {
  if (name.empty() || spec.characters.size() >= media::spec_limits::max_characters) {
    return;
  }
  auto clipped = clip_utf8(name, media::spec_limits::max_name);
  for (const auto& c : spec.characters) {
    if (c.name == clipped) {
      return;
    }
  }
  spec.characters.push_back(character_of(plan, name));
}

bool in_shot(const media::shot_spec& spec, std::string_view name) {
  auto clipped = clip_utf8(name, media::spec_limits::max_name);
  return std::any_of(spec.characters.begin(), spec.characters.end(),
                     [&](const auto& c) { return c.name == clipped; });
}

void add_speech(const screenplay::plan& plan, const screenplay::shot& shot,
                media::shot_spec& spec) {
  for (const auto& line : shot.speech) {
    add_character(plan, spec, line.character);  // voices heard off screen are drawn too
  }
  for (const auto& line : shot.speech) {
    if (spec.dialogue.size() >= media::spec_limits::max_lines) {
      break;
    }
    std::string text = line.sung ? "\u266a " : "";
    text += line.text;
    if (line.character.empty() || !in_shot(spec, line.character)) {
      // An unattributed lyric (or a ninth speaker): shown, not spoken. The
      // planner's shot for a lyric outside dialogue has the lyric as its
      // action as well: it is shown once, as sung.
      const bool lyric_shot = spec.action == clip_utf8(line.text, media::spec_limits::max_action);
      spec.action =
          clip_utf8(lyric_shot ? text : spec.action + (spec.action.empty() ? "" : "\n") + text,
                    media::spec_limits::max_action);
      continue;
    }
    spec.dialogue.push_back({clip_utf8(line.character, media::spec_limits::max_name),
                             clip_utf8(text, media::spec_limits::max_line),
                             strip_parens(line.parenthetical)});
  }
}

result<void> parse_backends(const json& doc, render_settings& s) {
  auto check = [](const json& v, const std::string& where) -> result<std::string> {
    auto name = v.is_string() ? v.get<std::string>() : "";
    if (!known_backend(name)) {
      return error(actors_errc::invalid_settings,
                   where + " must be one of animatic, comfyui, replicate, runpod; got " + v.dump());
    }
    return name;
  };
  if (doc.contains("backend")) {
    auto b = check(doc["backend"], "backend");
    if (!b) {
      return b.error();
    }
    s.backend = *b;
  }
  if (doc.contains("shots")) {
    if (!doc["shots"].is_object() || doc["shots"].size() > 10000) {
      return error(actors_errc::invalid_settings,
                   "shots must be an object of shot id -> {\"backend\": ...}");
    }
    for (const auto& [id, shot] : doc["shots"].items()) {
      if (!shot.is_object() || !shot.contains("backend")) {
        return error(actors_errc::invalid_settings, "shots." + id + " must be {\"backend\": ...}");
      }
      auto b = check(shot["backend"], "shots." + id + ".backend");
      if (!b) {
        return b.error();
      }
      s.shot_backends[id] = *b;
    }
  }
  return ok();
}

// A seed is a short token (a client's random draw, or the CLI's hash of the
// screenplay), so it is safe in logs and file names alike.
result<void> parse_seed(const json& doc, render_settings& s) {
  if (!doc.contains("seed")) {
    return ok();
  }
  const json& v = doc["seed"];
  auto text = v.is_string() ? v.get<std::string>() : std::string();
  bool valid =
      !text.empty() && text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
               c == ':';
      });
  if (!valid) {
    return error(actors_errc::invalid_settings,
                 "seed must be 1 to 64 letters, digits or - _ . : ; got " + v.dump());
  }
  s.seed = std::move(text);
  return ok();
}

result<void> parse_characters(const json& doc, render_settings& s) {
  if (!doc.contains("characters")) {
    return ok();
  }
  if (!doc["characters"].is_object() || doc["characters"].size() > 1000) {
    return error(actors_errc::invalid_settings,
                 "characters must be an object of name -> {\"image\": path}");
  }
  for (const auto& [name, c] : doc["characters"].items()) {
    auto image = c.is_object() && c.value("image", json()).is_string()
                     ? c["image"].get<std::string>()
                     : std::string();
    std::filesystem::path p = image;
    bool safe = !image.empty() && image.size() <= 1024 && p.is_relative();
    for (const auto& part : p) {
      safe = safe && part != "..";
    }
    if (!safe) {
      return error(actors_errc::invalid_settings,
                   "characters." + name + ".image must be a relative path in the media folder");
    }
    if (c.contains("sha256") && !c["sha256"].is_string()) {
      return error(actors_errc::invalid_settings,
                   "characters." + name + ".sha256 must be a string");
    }
    s.character_images[name] = {image, c.contains("sha256") ? c["sha256"].get<std::string>() : ""};
  }
  return ok();
}

}  // namespace

bool known_backend(const std::string& name) {
  return name == "animatic" || name == "comfyui" || name == "replicate" || name == "runpod";
}

std::string casting_seed(const render_settings& settings, const std::string& project_id) {
  return settings.seed.empty() ? project_id : settings.seed;
}

void add_screenplay_images(render_settings& settings, const screenplay::plan& plan) {
  for (const auto& c : plan.characters) {
    if (!c.image.empty() && !settings.character_images.contains(c.name)) {
      settings.character_images[c.name] = {c.image, ""};
    }
  }
}

std::string lease_backend(const std::string& spec_json) {
  json doc = json::parse(spec_json, nullptr, false);
  if (doc.is_object() && doc.value("backend", json()).is_string()) {
    return doc["backend"].get<std::string>();
  }
  return "animatic";
}

result<render_settings> parse_render_settings(const std::string& settings_json) {
  json doc = json::parse(settings_json.empty() ? "{}" : settings_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return error(actors_errc::invalid_settings, "render settings must be a JSON object");
  }
  render_settings s;
  if (doc.contains("resolution")) {
    auto text = doc["resolution"].is_string() ? doc["resolution"].get<std::string>() : "";
    if (std::sscanf(text.c_str(), "%dx%d", &s.width, &s.height) != 2 ||
        s.width < media::spec_limits::min_width || s.width > media::spec_limits::max_width ||
        s.height < media::spec_limits::min_height || s.height > media::spec_limits::max_height ||
        s.width % 2 != 0 || s.height % 2 != 0) {
      return error(
          actors_errc::invalid_settings,
          "resolution must be WIDTHxHEIGHT, even, 160x90 to 3840x2160; got \"" + text + "\"");
    }
  }
  if (doc.contains("fps")) {
    s.fps = doc["fps"].is_number_integer() ? doc["fps"].get<int>() : 0;
    if (s.fps < media::spec_limits::min_fps || s.fps > media::spec_limits::max_fps) {
      return error(actors_errc::invalid_settings, "fps must be a whole number from 1 to 60");
    }
  }
  if (doc.contains("watermark")) {
    if (!doc["watermark"].is_boolean()) {
      return error(actors_errc::invalid_settings, "watermark must be true or false");
    }
    s.watermark = doc["watermark"].get<bool>();
  }
  if (auto seed = parse_seed(doc, s); !seed) {
    return seed.error();
  }
  if (auto b = parse_backends(doc, s); !b) {
    return b.error();
  }
  if (auto c = parse_characters(doc, s); !c) {
    return c.error();
  }
  return s;
}

std::string to_json(const render_settings& s) {
  json out = {{"resolution", std::to_string(s.width) + "x" + std::to_string(s.height)},
              {"fps", s.fps},
              {"watermark", s.watermark},
              {"backend", s.backend}};
  for (const auto& [id, backend] : s.shot_backends) {
    out["shots"][id] = {{"backend", backend}};
  }
  if (!s.seed.empty()) {
    out["seed"] = s.seed;
  }
  for (const auto& [name, image] : s.character_images) {
    out["characters"][name] = {{"image", image.path}};
    if (!image.sha256.empty()) {
      out["characters"][name]["sha256"] = image.sha256;
    }
  }
  return out.dump();
}

media::shot_spec make_shot_spec(const screenplay::plan& plan, const screenplay::scene& scene,
                                const screenplay::shot& shot, const render_settings& settings) {
  media::shot_spec spec;
  spec.id = "sc" + std::to_string(scene.number) + "-sh" + std::to_string(shot.number);
  spec.kind = to_media(shot.kind);
  spec.duration_s = std::max(media::spec_limits::min_duration_s,
                             static_cast<double>(shot.duration.count()) / 1000.0);
  spec.width = settings.width;
  spec.height = settings.height;
  spec.fps = settings.fps;
  spec.watermark = settings.watermark;
  spec.location.name = location_name(scene);
  if (const auto* loc = find_reference(plan.locations, scene.location)) {
    spec.location.seed = loc->seed;
    for (const auto& colour : loc->palette) {
      spec.location.palette.push_back(to_media(colour));
    }
  }
  spec.heading = clip_utf8(scene.heading, media::spec_limits::max_heading);
  spec.action = clip_utf8(shot.text, media::spec_limits::max_action);
  for (const auto& name : shot.characters) {
    add_character(plan, spec, name);
  }
  add_speech(plan, shot, spec);
  if (spec.kind == media::shot_kind::two_shot && spec.characters.size() < 2) {
    spec.kind = media::shot_kind::dialogue;
  }
  return spec;
}

std::string shot_spec_json(const media::shot_spec& s) {
  auto palette = [](const std::vector<media::rgb>& colours) {
    json out = json::array();
    for (const auto& c : colours) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c.r, c.g, c.b);
      out.push_back(buf);
    }
    return out;
  };
  json characters = json::array();
  for (const auto& c : s.characters) {
    characters.push_back(
        {{"name", c.name},
         {"seed", c.seed},
         {"palette", palette(c.palette)},
         {"voice", {{"name", c.voice.name}, {"pitch", c.voice.pitch}, {"speed", c.voice.speed}}}});
  }
  json dialogue = json::array();
  for (const auto& d : s.dialogue) {
    dialogue.push_back(
        {{"character", d.character}, {"text", d.text}, {"parenthetical", d.parenthetical}});
  }
  return json{{"id", s.id},
              {"kind", std::string(media::to_string(s.kind))},
              {"duration", s.duration_s},
              {"width", s.width},
              {"height", s.height},
              {"fps", s.fps},
              {"watermark", s.watermark},
              {"location",
               {{"name", s.location.name},
                {"seed", s.location.seed},
                {"palette", palette(s.location.palette)}}},
              {"characters", characters},
              {"heading", s.heading},
              {"action", s.action},
              {"dialogue", dialogue}}
      .dump();
}

namespace {

std::string sha256_hex(const std::string& text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

}  // namespace

std::string input_hash(const std::string& spec_json) {
  return sha256_hex(std::string(renderer_version) + "\n" + spec_json);
}

std::string screenplay_seed(const std::string& script) {
  return "script-" + sha256_hex(script).substr(0, 24);
}

std::vector<shot_record> plan_shots(const screenplay::plan& plan, const render_settings& settings,
                                    const media_layout& layout) {
  std::vector<shot_record> out;
  for (const auto& scene : plan.scenes) {
    for (const auto& shot : scene.shots) {
      auto spec = make_shot_spec(plan, scene, shot, settings);
      auto spec_text = shot_spec_json(spec);
      auto chosen = settings.shot_backends.find(spec.id);
      auto backend = chosen != settings.shot_backends.end() ? chosen->second : settings.backend;
      json references = json::array();
      for (const auto& c : spec.characters) {
        auto image = settings.character_images.find(c.name);
        if (backend != "animatic" && image != settings.character_images.end() &&
            !image->second.sha256.empty()) {
          references.push_back(
              {{"name", c.name}, {"image", image->second.path}, {"sha256", image->second.sha256}});
        }
      }
      // The animatic keeps its hash (and so its reusable segments); another
      // backend or another reference image makes other bytes.
      auto hashed =
          backend == "animatic" ? spec_text : backend + "\n" + references.dump() + "\n" + spec_text;
      shot_record r;
      r.shot_id = spec.id;
      r.scene_id = "sc" + std::to_string(scene.number);
      r.position = static_cast<int>(out.size());
      r.input_hash = input_hash(hashed);
      r.duration_ms = shot.duration.count();
      r.artifact = layout.clip_rel(r.shot_id, r.input_hash).string();
      json lease = {{"shot", json::parse(spec_text)}, {"output", r.artifact}};
      if (backend != "animatic") {
        lease["backend"] = backend;
        if (!references.empty()) {
          lease["references"] = references;
        }
      }
      r.spec_json = lease.dump();
      r.artifact.clear();  // set once rendered
      out.push_back(std::move(r));
    }
  }
  return out;
}

std::vector<reference_record> plan_references(const screenplay::plan& plan) {
  std::vector<reference_record> out;
  for (const auto* refs : {&plan.characters, &plan.locations}) {
    for (const auto& r : *refs) {
      reference_record rec;
      rec.id = r.id;
      rec.kind = std::string(screenplay::to_string(r.kind));
      rec.name = r.name;
      rec.seed = r.seed;
      json palette = json::array();
      for (const auto& c : r.palette) {
        palette.push_back(hex_of(c));
      }
      rec.palette_json = palette.dump();
      if (!r.voice.name.empty()) {
        rec.voice_json =
            json{{"name", r.voice.name}, {"pitch", r.voice.pitch}, {"speed", r.voice.speed_wpm}}
                .dump();
      }
      rec.image = r.image;
      out.push_back(std::move(rec));
    }
  }
  return out;
}

render_price price_render(const std::vector<shot_record>& shots, const generation_prices& prices) {
  render_price out;
  for (const auto& s : shots) {
    if (s.has_segment()) {
      continue;
    }
    json lease = json::parse(s.spec_json, nullptr, false);
    const auto backend = lease_backend(s.spec_json);
    if (backend == "animatic") {
      ++out.animatic_shots;
      out.animatic_ms += s.duration_ms;
    } else if (lease.is_object() && lease.contains("references") &&
               lease["references"].is_array() && !lease["references"].empty()) {
      ++out.i2v_shots;
      out.generation_credits += prices.i2v;
    } else {
      ++out.t2v_shots;
      out.generation_credits += prices.t2v;
    }
  }
  out.animatic_credits = screenplay::cost_credits(std::chrono::milliseconds(out.animatic_ms));
  return out;
}

std::int64_t render_cost(const std::vector<shot_record>& shots, const generation_prices& prices) {
  return price_render(shots, prices).total();
}

}  // namespace reelfarm::actors
