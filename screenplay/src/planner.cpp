#include <algorithm>
#include <array>
#include <memory>
#include <span>
#include <unordered_map>

#include "mention_finder.hpp"
#include "reelfarm/screenplay/cost.hpp"
#include "reelfarm/screenplay/emphasis.hpp"
#include "reelfarm/screenplay/errc.hpp"
#include "reelfarm/screenplay/plan.hpp"
#include "text.hpp"

namespace reelfarm::screenplay {
namespace {

using std::chrono::milliseconds;

// Action lines that are really transitions: they make no shot.
constexpr std::array<std::string_view, 12> transition_lines = {
    "FADE IN:",       "FADE IN.",      "FADE IN",       "FADE OUT.",    "FADE OUT", "FADE OUT:",
    "FADE TO BLACK.", "FADE TO BLACK", "CUT TO BLACK.", "CUT TO BLACK", "THE END",  "THE END."};

// The text of the first parenthesised extension of a character line.
std::string_view extension_of(std::string_view character_line) {
  const std::size_t open = character_line.find('(');
  const std::size_t close = character_line.find(')', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos) {
    return {};
  }
  return text::trim(character_line.substr(open + 1, close - open - 1));
}

// Voice-over and off-screen speakers are heard, not seen.
bool is_off_screen(std::string_view extension) {
  std::string letters;
  for (char c : extension) {
    if (c != '.' && c != ' ') {
      letters.push_back(text::ascii_upper(c));
    }
  }
  return letters == "VO" || letters == "OS" || letters == "OC";
}

bool is_transition_line(std::string_view plain) {
  const std::string_view t = text::trim(plain);
  if (t.size() > 16) {
    return false;
  }
  const std::string upper = text::to_upper(t);
  return std::find(transition_lines.begin(), transition_lines.end(), upper) !=
         transition_lines.end();
}

// Splits on whitespace.
std::vector<std::string_view> split_whitespace(std::string_view s) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && text::is_space(s[i])) {
      ++i;
    }
    const std::size_t start = i;
    while (i < s.size() && !text::is_space(s[i])) {
      ++i;
    }
    if (i > start) {
      words.push_back(s.substr(start, i - start));
    }
  }
  return words;
}

// Joins words[from, to) with single spaces into `out`.
void join(const std::vector<std::string_view>& words, std::size_t from, std::size_t to,
          std::string& out) {
  out.clear();
  for (std::size_t k = from; k < to; ++k) {
    if (k > from) {
      out.push_back(' ');
    }
    out.append(words[k]);
  }
}

class planner {
 public:
  // Shots view the document's texts where they need no change, so the plan's
  // arena keeps the document's arena alive; new texts go into the plan's arena.
  planner(const document& doc, const planner_settings& settings, std::string_view project_key)
      : doc_(doc),
        settings_(settings),
        project_key_(project_key),
        arena_(std::make_shared<text_arena>()) {
    arena_->keep_alive(doc.texts);
  }

  result<plan> run() {
    if (auto valid = validate(); !valid) {
      return std::move(valid).error();
    }
    out_.title = doc_.title();
    register_characters();
    seen_in_scene_.assign(out_.characters.size(), 0);
    reserve_scenes();
    for (std::size_t i = 0; i < doc_.elements.size();) {
      i = step(i);
    }
    return finish();
  }

 private:
  result<void> validate() const {
    if (settings_.speaking_rate_wpm <= 0 || settings_.reading_rate_wpm <= 0) {
      return error(screenplay_errc::invalid_argument,
                   "the planner's speaking and reading rates must be positive words per minute");
    }
    if (settings_.min_shot.count() <= 0 || settings_.min_shot > settings_.max_shot) {
      return error(screenplay_errc::invalid_argument,
                   "the planner's min_shot must be positive and no longer than max_shot");
    }
    return ok();
  }

  // Sizes the scene list and each scene's shot list up front: growing them
  // one shot at a time reallocates (and moves) every shot of a scene several times.
  void reserve_scenes() {
    shot_capacity_.push_back(1);  // a prologue before the first heading
    for (const element& e : doc_.elements) {
      if (e.kind == element_kind::scene_heading) {
        shot_capacity_.push_back(1);
      } else if (!e.in_dialogue) {
        ++shot_capacity_.back();
      }
    }
    out_.scenes.reserve(shot_capacity_.size());
  }

  void register_characters() {
    for (const element& e : doc_.elements) {
      if (e.kind != element_kind::character) {
        continue;
      }
      speaker_of(e.text, e.line);
    }
  }

  // What a character line says, cached by the line as written: the same few
  // names head thousands of dialogue blocks.
  struct speaker_info {
    std::string_view name;           ///< normalised, in arena_
    std::string_view extension;      ///< as written, in the document's texts
    bool off_screen = false;         ///< V.O., O.S., O.C.
    std::size_t index = npos_index;  ///< into out_.characters; npos for an empty name
  };
  // `written` views the document's texts, which outlive the planner: a fine key.
  const speaker_info& speaker_of(std::string_view written, std::uint32_t line) {
    auto it = names_.find(written);
    if (it == names_.end()) {
      speaker_info info;
      info.name = arena_->store(normalize_character_name(written));
      info.extension = extension_of(written);
      info.off_screen = is_off_screen(info.extension);
      if (!info.name.empty()) {
        info.index = character_index(info.name, line);
      }
      it = names_.emplace(written, std::move(info)).first;
    }
    return it->second;
  }

  // `name` is in arena_; character_names_ keeps it for shots and scenes to view
  // (the references' own strings move when out_.characters grows).
  std::size_t character_index(std::string_view name, std::uint32_t line) {
    auto [it, added] = characters_.try_emplace(name, out_.characters.size());
    if (added) {
      out_.characters.push_back(make_reference(reference_kind::character, project_key_, name,
                                               settings_.speaking_rate_wpm));
      out_.characters.back().first_line = line;
      character_names_.push_back(name);
      mentions_.add(name, it->second);
    }
    return it->second;
  }

  std::size_t location_index(std::string_view name, std::uint32_t line) {
    auto [it, added] = locations_.try_emplace(name, out_.locations.size());
    if (added) {
      out_.locations.push_back(make_reference(reference_kind::location, project_key_, name));
      out_.locations.back().first_line = line;
    }
    return it->second;
  }

  std::size_t step(std::size_t i) {
    const element& e = doc_.elements[i];
    switch (e.kind) {
      case element_kind::scene_heading:
        open_scene(e);
        return i + 1;
      case element_kind::action:
        action(e);
        return i + 1;
      case element_kind::character:
        return dialogue(i);
      case element_kind::centered:
        card(e);
        return i + 1;
      case element_kind::lyrics:
        if (!e.in_dialogue) {
          unattributed_lyrics(e);
        }
        return i + 1;
      default:
        return i + 1;  // transitions, sections, synopses, page breaks: no shot
    }
  }

  // What a heading says, cached by its text: screenplays return to the same
  // few places again and again. Texts are in arena_.
  struct heading_info {
    std::string_view plain;
    scene_setting setting = scene_setting::unspecified;
    std::string_view location;
    std::string_view time_of_day;
    std::string_view caption;        ///< the establishing shot's text
    std::size_t location_index = 0;  ///< into out_.locations; npos without a location
  };
  const heading_info& heading_of(std::string_view written, std::uint32_t line) {
    auto it = headings_.find(written);
    if (it == headings_.end()) {
      const std::string plain = text::collapse_spaces(strip_emphasis(written));
      scene_place place = parse_scene_heading(written);
      if (place.location.empty()) {
        place.location = text::to_upper(plain);
      }
      heading_info info;
      info.plain = arena_->store(plain);
      info.setting = place.setting;
      info.location = arena_->store(place.location);
      info.time_of_day = arena_->store(place.time_of_day);
      info.caption = info.time_of_day.empty()
                         ? info.location
                         : arena_->store({info.location, " \xE2\x80\x94 ", info.time_of_day});
      // The first heading naming a location is where the location first appears.
      info.location_index =
          info.location.empty() ? npos_index : location_index(info.location, line);
      it = headings_.emplace(written, info).first;
    }
    return it->second;
  }

  // The plain text of an element and its word count: the element's own text
  // (in the document's texts) unless there is markup to strip.
  std::string_view plain_of(const element& e, std::size_t& words) {
    bool has_markup = false;
    words = text::count_words(e.text, has_markup);
    if (has_markup) {
      return arena_->store(strip_emphasis(e.text));
    }
    return e.text;
  }

  void open_scene(const element& e) {
    close_scene();
    const heading_info& info = heading_of(e.text, e.line);
    scene s;
    s.heading = info.plain;
    s.scene_number = e.scene_number;
    s.setting = info.setting;
    s.location = info.location;
    s.time_of_day = info.time_of_day;
    s.line = e.line;
    s.shots.reserve(shot_capacity_[++scene_index_]);
    out_.scenes.push_back(std::move(s));
    scene_location_ = info.location_index;
    shot establishing;
    establishing.kind = shot_kind::establishing;
    establishing.line = e.line;
    establishing.duration = clamp(settings_.establishing_shot);
    establishing.text = info.caption;
    add_shot(std::move(establishing), no_one_);
  }

  scene& current_scene() {
    if (out_.scenes.empty()) {
      scene prologue;  // material before the first scene heading
      prologue.line = doc_.elements.empty() ? 0 : doc_.elements.front().line;
      prologue.shots.reserve(shot_capacity_.front());
      out_.scenes.push_back(std::move(prologue));
    }
    return out_.scenes.back();
  }

  void action(const element& e) {
    std::size_t words = 0;
    const std::string_view plain = plain_of(e, words);
    if (words == 0 && text::is_blank(plain)) {
      return;
    }
    if (is_transition_line(plain)) {
      return;
    }
    std::vector<std::size_t>& present = present_;  // reused: one allocation per plan, not per shot
    present.clear();
    mentions_.find(plain, present);
    const milliseconds needed = words_duration(words, settings_.reading_rate_wpm);
    const std::size_t parts = parts_for(needed);
    if (parts == 1) {
      shot s = make_shot(shot_kind::action, e.line, std::string_view(), present,
                         settings_.reading_rate_wpm);
      s.duration = clamp(needed);
      s.text = plain;
      add_shot(std::move(s), present);
      return;
    }
    const auto tokens = split_whitespace(plain);
    for (std::size_t p = 0; p < parts; ++p) {
      const std::size_t from = tokens.size() * p / parts;
      const std::size_t to = tokens.size() * (p + 1) / parts;
      join(tokens, from, to, scratch_);
      shot s = make_shot(shot_kind::action, e.line, arena_->store(scratch_), present,
                         settings_.reading_rate_wpm);
      s.part = static_cast<std::uint32_t>(p + 1);
      s.parts = static_cast<std::uint32_t>(parts);
      add_shot(std::move(s), present);
    }
  }

  shot make_shot(shot_kind kind, std::uint32_t line, std::string_view text_,
                 const std::vector<std::size_t>& present, int wpm) {
    shot s;
    s.kind = kind;
    s.line = line;
    s.duration = clamp(words_duration(text::count_words(text_), wpm));
    s.text = text_;
    s.characters = names_of(present);
    return s;
  }

  // The names of the characters at `present`, stored once in arena_.
  std::span<const std::string_view> names_of(const std::vector<std::size_t>& present) {
    names_scratch_.clear();
    for (std::size_t index : present) {
      names_scratch_.push_back(character_names_[index]);
    }
    return arena_->store_array(std::span<const std::string_view>(names_scratch_));
  }

  std::span<const spoken_line> store_speech(const std::vector<spoken_line>& lines) {
    return arena_->store_array(std::span<const spoken_line>(lines));
  }

  void card(const element& e) {
    const std::string stripped = strip_emphasis(e.text);
    if (text::is_blank(stripped)) {
      return;
    }
    add_shot(make_shot(shot_kind::card, e.line, arena_->store(stripped), no_one_,
                       settings_.reading_rate_wpm),
             no_one_);
  }

  void unattributed_lyrics(const element& e) {
    const std::string stripped = strip_emphasis(e.text);
    if (text::is_blank(stripped)) {
      return;
    }
    const std::string_view plain = arena_->store(stripped);
    shot s = make_shot(shot_kind::action, e.line, plain, no_one_, settings_.speaking_rate_wpm);
    const spoken_line sung{"", "", "", plain, true};
    s.speech = arena_->store_array(std::span<const spoken_line>(&sung, 1));
    add_shot(std::move(s), no_one_);
  }

  // Appends the spoken lines of the dialogue block whose character element is
  // at `i` to `lines`; returns the index after the block and its speaker in `who_out`.
  std::size_t read_block(std::size_t i, std::vector<spoken_line>& lines, std::size_t& words,
                         const speaker_info*& who_out) {
    const speaker_info& who = speaker_of(doc_.elements[i].text, doc_.elements[i].line);
    who_out = &who;
    std::string_view parenthetical;
    std::size_t k = i + 1;
    std::size_t end = k;
    while (end < doc_.elements.size() && doc_.elements[end].in_dialogue) {
      ++end;
    }
    lines.reserve(lines.size() + (end - k));
    for (; k < doc_.elements.size() && doc_.elements[k].in_dialogue; ++k) {
      const element& e = doc_.elements[k];
      if (e.kind == element_kind::parenthetical) {
        parenthetical = e.text;
        continue;
      }
      std::size_t line_words = 0;
      const std::string_view plain = plain_of(e, line_words);
      if (line_words == 0 && text::is_blank(plain)) {
        continue;
      }
      words += line_words;
      lines.push_back(
          {who.name, who.extension, parenthetical, plain, e.kind == element_kind::lyrics});
      parenthetical = {};
    }
    return k;
  }

  static std::size_t spoken_words(std::span<const spoken_line> lines) {
    std::size_t words = 0;
    for (const auto& l : lines) {
      words += text::count_words(l.text);
    }
    return words;
  }

  // Whether a speaker is seen: voice-over and off-screen speakers are only heard.
  static bool seen(const speaker_info& who) { return !who.name.empty() && !who.off_screen; }

  std::size_t dialogue(std::size_t i) {
    const element& who = doc_.elements[i];
    std::vector<spoken_line>& lines = lines_;  // reused: one allocation per plan
    lines.clear();
    std::size_t words = 0;
    const speaker_info* speaker = nullptr;
    std::size_t next = read_block(i, lines, words, speaker);
    const bool pair = who.dual == dual_side::left && next < doc_.elements.size() &&
                      doc_.elements[next].kind == element_kind::character &&
                      doc_.elements[next].dual == dual_side::right;
    if (pair) {
      // Both speeches go into one list: the left block's lines, then the right's.
      const std::size_t left_lines = lines.size();
      std::size_t other_words = 0;
      const speaker_info* other = nullptr;
      const std::size_t after = read_block(next, lines, other_words, other);
      two_shot(who.line, lines, left_lines > 0 ? speaker : nullptr,
               lines.size() > left_lines ? other : nullptr, std::max(words, other_words));
      return after;
    }
    if (!lines.empty()) {
      dialogue_shots(who.line, lines, words, *speaker);
    }
    return next;
  }

  // `left` and `right` are the speakers of the two sides, null for a side without lines.
  void two_shot(std::uint32_t line, const std::vector<spoken_line>& speech,
                const speaker_info* left, const speaker_info* right, std::size_t words) {
    if (speech.empty()) {
      return;
    }
    shot s;
    s.kind = shot_kind::two_shot;
    s.line = line;
    s.duration = clamp(words_duration(words, settings_.speaking_rate_wpm));
    std::vector<std::size_t>& present = present_;
    present.clear();
    for (const speaker_info* side : {left, right}) {
      if (side != nullptr && seen(*side) &&
          std::find(present.begin(), present.end(), side->index) == present.end()) {
        present.push_back(side->index);
      }
    }
    s.characters = names_of(present);
    s.speech = store_speech(speech);
    add_shot(std::move(s), present);
  }

  void dialogue_shots(std::uint32_t line, const std::vector<spoken_line>& lines, std::size_t words,
                      const speaker_info& who) {
    std::vector<std::size_t>& present = present_;
    present.clear();
    if (seen(who)) {
      present.push_back(who.index);
    }
    const milliseconds needed = words_duration(words, settings_.speaking_rate_wpm);
    const std::size_t parts = parts_for(needed);
    if (parts == 1) {
      shot s;
      s.kind = shot_kind::dialogue;
      s.line = line;
      s.duration = clamp(needed);
      s.characters = names_of(present);
      s.speech = store_speech(lines);
      add_shot(std::move(s), present);
      return;
    }
    // Split at word boundaries into equal parts; each part keeps the
    // parenthetical of a line only where that line starts.
    struct word_ref {
      std::size_t line;
      std::string_view word;
    };
    std::vector<word_ref> all_words;
    for (std::size_t l = 0; l < lines.size(); ++l) {
      for (std::string_view w : split_whitespace(lines[l].text)) {
        all_words.push_back({l, w});
      }
    }
    for (std::size_t p = 0; p < parts; ++p) {
      const std::size_t from = all_words.size() * p / parts;
      const std::size_t to = all_words.size() * (p + 1) / parts;
      shot s;
      s.kind = shot_kind::dialogue;
      s.line = line;
      s.characters = names_of(present);
      s.part = static_cast<std::uint32_t>(p + 1);
      s.parts = static_cast<std::uint32_t>(parts);
      std::vector<spoken_line>& speech = split_lines_;
      speech.clear();
      for (std::size_t k = from; k < to; ++k) {
        const spoken_line& source = lines[all_words[k].line];
        if (k == from || all_words[k].line != all_words[k - 1].line) {
          finish_split_line(speech);
          const bool starts_line = k == 0 || all_words[k - 1].line != all_words[k].line;
          speech.push_back({source.character, source.extension,
                            starts_line ? source.parenthetical : std::string_view(),
                            std::string_view(), source.sung});
        } else {
          scratch_.push_back(' ');
        }
        scratch_.append(all_words[k].word);
      }
      finish_split_line(speech);
      s.speech = store_speech(speech);
      s.duration = clamp(words_duration(spoken_words(s.speech), settings_.speaking_rate_wpm));
      add_shot(std::move(s), present);
    }
  }

  // Gives the latest spoken line of a split shot the words gathered in scratch_.
  void finish_split_line(std::vector<spoken_line>& speech) {
    if (!speech.empty() && speech.back().text.empty()) {
      speech.back().text = arena_->store(scratch_);
    }
    scratch_.clear();
  }

  // Adds a shot to the current scene; `present` are the indices (into
  // out_.characters) of s.characters, in the same order.
  void add_shot(shot s, const std::vector<std::size_t>& present) {
    scene& current = current_scene();
    s.number = static_cast<std::uint32_t>(current.shots.size() + 1);
    for (std::size_t index : present) {
      ++out_.characters[index].shots;
      if (seen_in_scene_[index] != scene_stamp_) {
        seen_in_scene_[index] = scene_stamp_;
        scene_characters_.push_back(index);
      }
    }
    if (scene_location_ != npos_index) {
      ++out_.locations[scene_location_].shots;
    }
    current.duration += s.duration;
    out_.duration += s.duration;
    current.shots.push_back(std::move(s));
  }

  // Gives the scene being filled its characters, stored once in arena_.
  void close_scene() {
    // Each scene is closed once: when the next opens, or at the end.
    if (!out_.scenes.empty() && !scene_characters_.empty()) {
      out_.scenes.back().characters = names_of(scene_characters_);
    }
    scene_characters_.clear();
    ++scene_stamp_;
  }

  result<plan> finish() {
    close_scene();
    std::erase_if(out_.scenes, [](const scene& s) { return s.shots.empty(); });
    for (std::size_t k = 0; k < out_.scenes.size(); ++k) {
      out_.scenes[k].number = static_cast<std::uint32_t>(k + 1);
    }
    if (out_.scenes.empty()) {
      return error(screenplay_errc::empty,
                   "the screenplay has no scene headings, action or dialogue to film");
    }
    out_.cost_credits = cost_credits(out_.duration);
    out_.texts = std::move(arena_);
    return std::move(out_);
  }

  milliseconds words_duration(std::size_t words, int wpm) const {
    // Rounded up to the millisecond: a word takes 60000 / wpm ms.
    const auto total = static_cast<std::int64_t>(words) * 60'000;
    return milliseconds((total + wpm - 1) / wpm);
  }

  milliseconds clamp(milliseconds d) const {
    return std::clamp(d, settings_.min_shot, settings_.max_shot);
  }

  std::size_t parts_for(milliseconds needed) const {
    if (needed <= settings_.max_shot) {
      return 1;
    }
    const auto max = settings_.max_shot.count();
    return static_cast<std::size_t>((needed.count() + max - 1) / max);
  }

  const document& doc_;
  const planner_settings& settings_;
  std::string_view project_key_;
  std::shared_ptr<text_arena> arena_;  ///< texts the plan makes; out_.texts at the end
  plan out_;
  // Keyed by views into arena_ or the document's texts, which outlive the maps.
  std::unordered_map<std::string_view, std::size_t> characters_;
  std::unordered_map<std::string_view, std::size_t> locations_;
  std::unordered_map<std::string_view, speaker_info> names_;
  std::unordered_map<std::string_view, heading_info> headings_;
  std::vector<std::string_view> character_names_;  ///< per out_.characters: its name in arena_
  std::string scratch_;                            ///< text being joined for a split shot
  std::vector<std::string_view> names_scratch_;    ///< names being gathered for names_of
  std::vector<spoken_line> lines_;                 ///< the dialogue block(s) being read
  std::vector<spoken_line> split_lines_;           ///< the speech of one part of a split block
  std::vector<std::size_t> shot_capacity_;  ///< upper bound of shots per scene; [0] the prologue
  std::size_t scene_index_ = 0;
  std::vector<std::size_t> present_;
  const std::vector<std::size_t> no_one_;
  std::vector<std::size_t> scene_characters_;  ///< indices present in the scene being filled
  std::vector<std::uint32_t>
      seen_in_scene_;  ///< per character: the stamp of the last scene it was seen in
  std::uint32_t scene_stamp_ = 1;
  static constexpr std::size_t npos_index = static_cast<std::size_t>(-1);
  std::size_t scene_location_ = npos_index;  ///< the current scene's location reference
  detail::mention_finder mentions_;
};

}  // namespace

std::size_t plan::shot_count() const {
  std::size_t n = 0;
  for (const auto& s : scenes) {
    n += s.shots.size();
  }
  return n;
}

result<plan> plan_screenplay(const document& doc, const planner_settings& settings,
                             std::string_view project_key) {
  return planner(doc, settings, project_key).run();
}

result<plan> plan_screenplay(document&& doc, const planner_settings& settings,
                             std::string_view project_key) {
  return planner(doc, settings, project_key).run();
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
      return "two_shot";
    case shot_kind::card:
      return "card";
  }
  return "unknown";
}

}  // namespace reelfarm::screenplay
