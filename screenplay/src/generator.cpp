#include "reelfarm/screenplay/generator.hpp"

#include <array>
#include <string_view>

#include "reelfarm/screenplay/hash.hpp"

namespace reelfarm::screenplay {
namespace {

constexpr std::array<std::string_view, 12> characters = {
    "MAYA",  "JOHN", "DR. OKAFOR",   "LENA", "OLD MAN",     "SERGEANT BRIGGS",
    "TOMAS", "ADA",  "THE STRANGER", "KAI",  "NURSE PATEL", "RUTH"};
constexpr std::array<std::string_view, 10> locations = {"TEMPLE",
                                                        "MAYA'S APARTMENT - KITCHEN",
                                                        "POLICE STATION",
                                                        "HARBOUR",
                                                        "HOSPITAL CORRIDOR",
                                                        "DESERT ROAD",
                                                        "ROOFTOP",
                                                        "TRAIN STATION",
                                                        "FOREST CLEARING",
                                                        "DINER"};
constexpr std::array<std::string_view, 6> settings = {"INT.", "EXT.", "INT./EXT.",
                                                      "int.", "EXT",  "I/E"};
constexpr std::array<std::string_view, 7> times = {"DAY",        "NIGHT", "MORNING", "EVENING",
                                                   "CONTINUOUS", "LATER", "DAWN"};
constexpr std::array<std::string_view, 5> extensions = {"", "", " (V.O.)", " (O.S.)", " (CONT'D)"};
constexpr std::array<std::string_view, 5> parentheticals = {"(beat)", "(quietly)", "(to Lena)",
                                                            "(laughing)", "(without looking up)"};
constexpr std::array<std::string_view, 8> transitions = {
    "CUT TO:", "SMASH CUT TO:", "DISSOLVE TO:", "MATCH CUT TO:",
    "CUT TO:", "CUT TO:",       "CUT TO:",      "> FADE OUT."};
constexpr std::array<std::string_view, 24> nouns = {
    "door",  "window", "lantern",    "letter", "engine",    "crowd",  "silence", "rain",
    "phone", "coffee", "map",        "radio",  "candle",    "ledger", "train",   "gull",
    "knife", "mirror", "photograph", "key",    "stairwell", "coat",   "dust",    "clock"};
constexpr std::array<std::string_view, 16> verbs = {
    "studies", "pushes",  "ignores", "circles", "grabs",   "drops",      "watches", "opens",
    "folds",   "pockets", "follows", "shakes",  "answers", "listens to", "hides",   "lifts"};
constexpr std::array<std::string_view, 12> adjectives = {
    "cold",  "*broken*",  "old",   "**flickering**", "narrow",  "wet",
    "empty", "_distant_", "heavy", "quiet",          "crooked", "bright"};
constexpr std::array<std::string_view, 20> spoken = {
    "I told you we should have left before the tide turned.",
    "You don't get to decide that. Not anymore.",
    "Where were you at midnight?",
    "It's the same key. Look at the teeth.",
    "We have maybe ten minutes before they notice.",
    "Sit down. Please.",
    "I never asked for *any* of this.",
    "Then why are you still here?",
    "Because somebody has to finish it.",
    "The train leaves at six. Be on it.",
    "Do you hear that? Listen.",
    "That's not how I remember it.",
    "Give me the map.",
    "No. Not until you tell me the truth.",
    "He was my brother, Maya.",
    "Everything burns eventually.",
    "Coffee's cold again.",
    "We can still fix this... if you let me.",
    "Don't. Just don't.",
    "You look like you haven't slept in a week."};

class writer {
 public:
  writer(std::size_t target, std::uint64_t seed) : target_(target), state_(seed) {
    out_.reserve(target + 4096);
  }

  std::string run() {
    out_ +=
        "Title: _**THE HARBOUR KEY**_\nCredit: Written by\nAuthor: Reelfarm Generator\n"
        "Draft date: 2026-11-21\nContact:\n    Reelfarm Productions\n    1 Dock Street\n\n";
    std::size_t scene_no = 1;
    while (out_.size() < target_) {
      scene(scene_no++);
    }
    out_ += "> THE END <\n";
    return std::move(out_);
  }

 private:
  std::uint64_t next() { return splitmix64(state_++); }
  std::size_t pick(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  template <class A>
  std::string_view any(const A& items) {
    return items[pick(items.size())];
  }

  void scene(std::size_t number) {
    if (number % 40 == 1) {
      out_ += "# Act " + std::to_string(number / 40 + 1) + "\n\n";
    }
    out_ += any(settings);
    out_ += ' ';
    out_ += any(locations);
    out_ += " - ";
    out_ += any(times);
    if (number % 3 == 0) {
      out_ += " #" + std::to_string(number) + "#";
    }
    out_ += "\n\n";
    if (number % 7 == 0) {
      out_ += "= The stakes rise.\n\n";
    }
    const std::size_t beats = 4 + pick(6);
    for (std::size_t b = 0; b < beats; ++b) {
      const std::size_t r = pick(10);
      if (r < 4) {
        action();
      } else if (r < 9) {
        dialogue(false);
      } else {
        dialogue(false);
        dialogue(true);
      }
    }
    if (number % 11 == 0) {
      out_ += "/* An alternative ending for this scene,\n\nkept for the next draft. */\n\n";
    }
    out_ += any(transitions);
    out_ += "\n\n";
  }

  void action() {
    const std::size_t sentences = 1 + pick(4);
    for (std::size_t s = 0; s < sentences; ++s) {
      std::string_view who = any(characters);
      out_ += who == "MAYA" ? "Maya" : who;
      out_ += ' ';
      out_ += any(verbs);
      out_ += " the ";
      out_ += any(adjectives);
      out_ += ' ';
      out_ += any(nouns);
      if (pick(3) == 0) {
        out_ += " while the ";
        out_ += any(nouns);
        out_ += " hums somewhere behind the ";
        out_ += any(nouns);
      }
      out_ += pick(5) == 0 ? ".\n" : ". ";
    }
    if (pick(8) == 0) {
      out_ += "[[Check continuity with the previous scene.]]";
    }
    out_ += "\n\n";
  }

  void dialogue(bool dual) {
    out_ += any(characters);
    out_ += any(extensions);
    out_ += dual ? " ^\n" : "\n";
    if (pick(4) == 0) {
      out_ += any(parentheticals);
      out_ += '\n';
    }
    const std::size_t lines = 1 + pick(3);
    for (std::size_t l = 0; l < lines; ++l) {
      out_ += any(spoken);
      out_ += l + 1 == lines ? "\n" : " ";
    }
    if (pick(6) == 0) {
      out_ += any(parentheticals);
      out_ += '\n';
      out_ += any(spoken);
      out_ += '\n';
    }
    out_ += '\n';
  }

  std::size_t target_;
  std::uint64_t state_;
  std::string out_;
};

}  // namespace

std::string generate_screenplay(std::size_t target_bytes, std::uint64_t seed) {
  return writer(target_bytes, seed).run();
}

}  // namespace reelfarm::screenplay
