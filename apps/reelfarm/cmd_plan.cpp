// `reelfarm plan FILE.fountain [--json]`: parses a screenplay, plans its
// shots and prints scenes, shots, references and cost.
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "commands.hpp"
#include "reelfarm/screenplay/cost.hpp"
#include "reelfarm/screenplay/fountain.hpp"
#include "reelfarm/screenplay/plan.hpp"

namespace reelfarm::app {
namespace {

namespace sp = reelfarm::screenplay;
using json = nlohmann::ordered_json;  // keys in the documented order: title first

struct plan_options {
  std::string file;
  bool json_output = false;
  std::optional<int> max_minutes;
  std::optional<std::string> project_key;
};

void print_usage(std::FILE* out) {
  std::fputs(
      "usage: reelfarm plan FILE.fountain [--json] [--max-minutes N] [--project KEY]\n"
      "\n"
      "Splits a Fountain screenplay into scenes and shots, estimates every shot's\n"
      "duration (section `planner` of the configuration), derives the consistency\n"
      "references of its characters and locations, and prices it (3 credits per\n"
      "started minute). FILE may be - for standard input.\n"
      "\n"
      "  --json            print JSON for programs instead of a table\n"
      "  --max-minutes N   fail (exit 1) when the film is longer than N minutes\n"
      "  --project KEY     the project the references are derived for\n"
      "                    (default: the screenplay's title)\n",
      out);
}

// Parses the subcommand's flags; returns nullopt (after printing why) on a usage error.
std::optional<plan_options> parse_args(const std::vector<std::string>& args, bool& help) {
  plan_options opts;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> const std::string* {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "reelfarm plan: %s needs a value\n", arg.c_str());
        return nullptr;
      }
      return &args[++i];
    };
    if (arg == "--help" || arg == "-h") {
      help = true;
      return opts;
    }
    if (arg == "--json") {
      opts.json_output = true;
    } else if (arg == "--max-minutes") {
      const std::string* v = value();
      int minutes = 0;
      if (v == nullptr) {
        return std::nullopt;
      }
      const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), minutes);
      if (ec != std::errc() || end != v->data() + v->size() || minutes <= 0) {
        std::fprintf(stderr,
                     "reelfarm plan: --max-minutes needs a positive whole number, not '%s'\n",
                     v->c_str());
        return std::nullopt;
      }
      opts.max_minutes = minutes;
    } else if (arg == "--project") {
      const std::string* v = value();
      if (v == nullptr) {
        return std::nullopt;
      }
      opts.project_key = *v;
    } else if (arg.size() > 1 && arg[0] == '-') {
      std::fprintf(stderr, "reelfarm plan: unknown flag %s\n", arg.c_str());
      return std::nullopt;
    } else if (opts.file.empty()) {
      opts.file = arg;
    } else {
      std::fprintf(stderr, "reelfarm plan: one screenplay at a time (got '%s' and '%s')\n",
                   opts.file.c_str(), arg.c_str());
      return std::nullopt;
    }
  }
  if (opts.file.empty()) {
    std::fputs("reelfarm plan: which screenplay? Give a FILE.fountain\n", stderr);
    return std::nullopt;
  }
  return opts;
}

// Reads at most `limit` + 1 bytes, so an oversized input is refused by the
// parser without being read whole.
std::optional<std::string> read_input(const std::string& file, std::size_t limit) {
  std::string data;
  if (file == "-") {
    std::istreambuf_iterator<char> it(std::cin);
    for (std::istreambuf_iterator<char> end; it != end && data.size() <= limit; ++it) {
      data.push_back(*it);
    }
    return data;
  }
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    std::fprintf(stderr, "reelfarm plan: cannot read %s: it is a directory\n", file.c_str());
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "reelfarm plan: cannot read %s: %s\n", file.c_str(), std::strerror(errno));
    return std::nullopt;
  }
  data.resize(limit + 1);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (in.bad()) {
    std::fprintf(stderr, "reelfarm plan: cannot read %s: %s\n", file.c_str(), std::strerror(errno));
    return std::nullopt;
  }
  data.resize(static_cast<std::size_t>(in.gcount()));
  return data;
}

double seconds(std::chrono::milliseconds d) {
  return static_cast<double>(d.count()) / 1000.0;
}

json reference_json(const sp::consistency_reference& ref) {
  json palette = json::array();
  for (const auto& colour : ref.palette) {
    palette.push_back(colour.hex());
  }
  json out = {{"id", ref.id},
              {"name", ref.name},
              {"seed", ref.seed},
              {"palette", palette},
              {"first_line", ref.first_line},
              {"shots", ref.shots}};
  if (ref.kind == sp::reference_kind::character) {
    out["voice"] = {
        {"name", ref.voice.name}, {"pitch", ref.voice.pitch}, {"speed_wpm", ref.voice.speed_wpm}};
  }
  return out;
}

// Plan texts are views into the plan; JSON wants owned strings.
std::string str(std::string_view text) {
  return std::string(text);
}

json names_json(std::span<const std::string_view> names) {
  json out = json::array();
  for (std::string_view name : names) {
    out.push_back(str(name));
  }
  return out;
}

json shot_json(const sp::shot& s, const sp::scene& sc) {
  json speech = json::array();
  for (const auto& line : s.speech) {
    speech.push_back({{"character", str(line.character)},
                      {"extension", str(line.extension)},
                      {"parenthetical", str(line.parenthetical)},
                      {"text", str(line.text)},
                      {"sung", line.sung}});
  }
  return {{"number", s.number},
          {"kind", sp::to_string(s.kind)},
          {"line", s.line},
          {"duration_seconds", seconds(s.duration)},
          {"characters", names_json(s.characters)},
          {"location", str(sc.location)},
          {"time_of_day", str(sc.time_of_day)},
          {"text", str(s.text)},
          {"speech", speech},
          {"part", s.part},
          {"parts", s.parts}};
}

json plan_json(const sp::plan& p) {
  json scenes = json::array();
  for (const auto& sc : p.scenes) {
    json shots = json::array();
    for (const auto& s : sc.shots) {
      shots.push_back(shot_json(s, sc));
    }
    scenes.push_back({{"number", sc.number},
                      {"heading", str(sc.heading)},
                      {"scene_number", str(sc.scene_number)},
                      {"setting", sp::to_string(sc.setting)},
                      {"location", str(sc.location)},
                      {"time_of_day", str(sc.time_of_day)},
                      {"line", sc.line},
                      {"characters", names_json(sc.characters)},
                      {"duration_seconds", seconds(sc.duration)},
                      {"shots", shots}});
  }
  json characters = json::array();
  for (const auto& ref : p.characters) {
    characters.push_back(reference_json(ref));
  }
  json locations = json::array();
  for (const auto& ref : p.locations) {
    locations.push_back(reference_json(ref));
  }
  return {{"title", p.title},
          {"scenes", scenes},
          {"characters", characters},
          {"locations", locations},
          {"duration_seconds", seconds(p.duration)},
          {"cost_credits", p.cost_credits}};
}

// The first line of `text`, cut to `width` columns on a UTF-8 boundary.
std::string excerpt(std::string_view text, std::size_t width) {
  const std::size_t newline = text.find('\n');
  const bool more_lines = newline != std::string_view::npos;
  std::string_view first = text.substr(0, newline);
  std::string out;
  std::size_t columns = 0;
  for (std::size_t i = 0; i < first.size(); ++i) {
    const bool starts_char = (static_cast<unsigned char>(first[i]) & 0xC0) != 0x80;
    if (starts_char && ++columns > width - 1) {
      return out + "\xE2\x80\xA6";  // …
    }
    out.push_back(first[i]);
  }
  return more_lines ? out + " \xE2\x80\xA6" : out;
}

// What a table row shows of a shot: its text, or for dialogue its speech.
std::string shown_text(const sp::shot& s) {
  if (!s.text.empty()) {
    return str(s.text);
  }
  std::string out;
  for (const auto& line : s.speech) {
    out += out.empty() ? "" : " / ";
    out += line.text;
  }
  return out;
}

std::string join_names(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view n : names) {
    out += out.empty() ? "" : ", ";
    out += n;
  }
  return out;
}

void print_table(const sp::plan& p) {
  std::printf("%s\n", p.title.empty() ? "(untitled)" : p.title.c_str());
  std::printf("%zu scenes, %zu shots, %s, %lld credits\n\n", p.scenes.size(), p.shot_count(),
              sp::format_minutes_seconds(p.duration).c_str(),
              static_cast<long long>(p.cost_credits));
  for (const auto& sc : p.scenes) {
    const std::string heading = sc.heading.empty() ? "(before the first heading)" : str(sc.heading);
    std::printf("SCENE %u%s%s  %s  [%s]  line %u\n", sc.number, sc.scene_number.empty() ? "" : " #",
                str(sc.scene_number).c_str(), heading.c_str(),
                sp::format_minutes_seconds(sc.duration).c_str(), sc.line);
    for (const auto& s : sc.shots) {
      std::string characters = join_names(s.characters);
      std::printf("  %3u  %-12s %6.1fs  %-22s %s\n", s.number,
                  std::string(sp::to_string(s.kind)).c_str(), seconds(s.duration),
                  excerpt(characters, 22).c_str(), excerpt(shown_text(s), 60).c_str());
    }
    std::printf("\n");
  }
  std::printf("CHARACTERS\n");
  for (const auto& ref : p.characters) {
    std::printf("  %-20s %s  voice %s pitch %d %d wpm  %u shots\n", excerpt(ref.name, 20).c_str(),
                ref.id.c_str(), ref.voice.name.c_str(), ref.voice.pitch, ref.voice.speed_wpm,
                ref.shots);
  }
  std::printf("\nLOCATIONS\n");
  for (const auto& ref : p.locations) {
    std::printf("  %-30s %s  palette %s %s %s %s  %u shots\n", excerpt(ref.name, 30).c_str(),
                ref.id.c_str(), ref.palette[0].hex().c_str(), ref.palette[1].hex().c_str(),
                ref.palette[2].hex().c_str(), ref.palette[3].hex().c_str(), ref.shots);
  }
  std::printf("\nTotal: %s (%.1f s), cost %lld credits\n",
              sp::format_minutes_seconds(p.duration).c_str(), seconds(p.duration),
              static_cast<long long>(p.cost_credits));
}

}  // namespace

int cmd_plan(const std::vector<std::string>& args, const global_options& options) {
  bool help = false;
  const auto opts = parse_args(args, help);
  if (help) {
    print_usage(stdout);
    return exit_ok;
  }
  if (!opts) {
    print_usage(stderr);
    return exit_usage;
  }
  const auto cfg = load_configuration(options);
  if (!cfg) {
    return exit_usage;
  }
  const sp::parse_options limits;
  const auto input = read_input(opts->file, limits.max_bytes);
  if (!input) {
    return exit_failure;
  }
  if (input->size() > limits.max_bytes) {  // read only up to one byte past the limit
    std::fprintf(stderr, "reelfarm plan: %s is larger than the limit of %zu bytes (%zu MiB)\n",
                 opts->file.c_str(), limits.max_bytes, limits.max_bytes / (1024 * 1024));
    return exit_failure;
  }
  auto doc = sp::parse_fountain(*input, limits);
  if (!doc) {
    std::fprintf(stderr, "reelfarm plan: %s: %s\n", opts->file.c_str(),
                 doc.error().message().c_str());
    return exit_failure;
  }
  const std::string project = opts->project_key.value_or(doc->title());
  auto planned = sp::plan_screenplay(std::move(*doc), cfg->planner, project);
  if (!planned) {
    std::fprintf(stderr, "reelfarm plan: %s: %s\n", opts->file.c_str(),
                 planned.error().message().c_str());
    return exit_failure;
  }
  if (opts->json_output) {
    std::puts(plan_json(*planned).dump(2, ' ', false, json::error_handler_t::replace).c_str());
  } else {
    print_table(*planned);
  }
  if (opts->max_minutes) {
    const auto limit = std::chrono::minutes(*opts->max_minutes);
    if (auto fits = sp::check_max_length(planned->duration, limit); !fits) {
      std::fprintf(stderr, "reelfarm plan: %s\n", fits.error().message().c_str());
      return exit_failure;
    }
  }
  return exit_ok;
}

}  // namespace reelfarm::app
