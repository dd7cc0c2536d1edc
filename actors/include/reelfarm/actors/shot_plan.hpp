#pragma once

#include <map>
#include <string>
#include <vector>

#include "reelfarm/actors/media_layout.hpp"
#include "reelfarm/common/result.hpp"
#include "reelfarm/media/shot_spec.hpp"
#include "reelfarm/screenplay/plan.hpp"
#include "reelfarm/store/job_repository.hpp"

/// From a planned screenplay to what the farm renders. Plain C++ (no CAF).
namespace reelfarm::actors {

/// A character's reference image as shots carry it.
struct reference_image {
  std::string path;    ///< relative to the media folder
  std::string sha256;  ///< hex of its bytes; empty until stored
};

/// How a project renders (the project's settings JSON, all optional):
/// {"resolution": "1280x720", "fps": 24, "backend": "comfyui",
///  "shots": {"sc1-sh2": {"backend": "replicate"}},
///  "characters": {"MARA": {"image": "users/U/projects/P/images/mara.png"}},
///  "seed": "a1b2c3"}.
/// The plan decides the watermark. The seed fixes the casting (every
/// character's and location's look and voice, and so the timing): two
/// projects with the same seed and screenplay render the same film; without
/// one, the project id is the seed. Backends: animatic (default), comfyui,
/// replicate, runpod. A character image is a file in the media folder under
/// users/{owner}/ (an upload) or references/.
struct render_settings {
  int width = 1280;
  int height = 720;
  int fps = 24;
  bool watermark = false;
  std::string backend = "animatic";
  std::map<std::string, std::string> shot_backends;         ///< shot id -> backend
  std::map<std::string, reference_image> character_images;  ///< character name -> image
  std::string seed;  ///< the casting seed; empty: the project id
};

/// The casting seed of a job: its settings' seed, else its project id.
std::string casting_seed(const render_settings& settings, const std::string& project_id);

/// The seed `reelfarm render` casts a screenplay with ("script-" and 96 bits
/// of its SHA-256), so the same file renders the same film every time.
std::string screenplay_seed(const std::string& script);

/// Adds the reference images the screenplay names for its characters to
/// `settings` (an image given in the settings wins).
void add_screenplay_images(render_settings& settings, const screenplay::plan& plan);

/// The backends a project may choose.
bool known_backend(const std::string& name);

/// The backend of a lease spec ({"backend": ...}; "animatic" when absent).
std::string lease_backend(const std::string& spec_json);

/// Parses the render settings of a project or job; errors name the field.
result<render_settings> parse_render_settings(const std::string& settings_json);
/// The JSON form `parse_render_settings` reads.
std::string to_json(const render_settings& settings);

/// The renderer's spec of one planned shot: texts cut to the renderer's
/// limits, speakers heard but not seen (V.O.) added to the shot so their
/// lines can be drawn, references' seeds, palettes and voices.
media::shot_spec make_shot_spec(const screenplay::plan& plan, const screenplay::scene& scene,
                                const screenplay::shot& shot, const render_settings& settings);

/// The spec's JSON in the form media::parse_shot_spec reads.
std::string shot_spec_json(const media::shot_spec& spec);

/// "sha256:<hex>"-free hex SHA-256 of everything that decides a segment's
/// bytes: the spec and the renderer/encoder version.
std::string input_hash(const std::string& shot_spec_json);

/// The shots of a planned film, in order, as queued render_shots rows whose
/// spec is the lease spec {"shot": ..., "output": clip path}, plus for a
/// shot on another backend than the animatic "backend" and the reference
/// images of its characters ("references": [{"name","image","sha256"}]).
std::vector<shot_record> plan_shots(const screenplay::plan& plan, const render_settings& settings,
                                    const media_layout& layout);

/// The plan's consistency references as rows to register.
std::vector<reference_record> plan_references(const screenplay::plan& plan);

/// Credits one generation of a paid provider backend (comfyui, replicate,
/// runpod) costs, by kind (the work log's table; planner.t2v_credits and
/// planner.i2v_credits).
struct generation_prices {
  std::int64_t t2v = 5;  ///< a shot generated from its text alone
  std::int64_t i2v = 8;  ///< a shot generated from its characters' reference images
};

/// What the shots that must render cost, and of what: the animatic's shots
/// together at 3 credits per started minute of their planned length, each
/// provider shot per generation. Reused shots are not charged twice.
struct render_price {
  int animatic_shots = 0;
  std::int64_t animatic_ms = 0;
  std::int64_t animatic_credits = 0;
  int t2v_shots = 0;
  int i2v_shots = 0;
  std::int64_t generation_credits = 0;

  std::int64_t total() const noexcept { return animatic_credits + generation_credits; }
};

/// Prices the shots without a segment (see render_price).
render_price price_render(const std::vector<shot_record>& shots,
                          const generation_prices& prices = {});

/// price_render(shots, prices).total().
std::int64_t render_cost(const std::vector<shot_record>& shots,
                         const generation_prices& prices = {});

}  // namespace reelfarm::actors
