#include "reelfarm/media/speech_engine.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>

#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/process.hpp"
#include "reelfarm/media/errc.hpp"
#include "wav.hpp"

namespace reelfarm::media {
namespace {

// Scratch names unique within the process, so concurrent renders never clash.
std::filesystem::path scratch_name(const std::filesystem::path& dir, std::string_view ext) {
  static std::atomic<unsigned long> counter{0};
  return dir / (".speech-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
                std::string(ext));
}

struct scratch_files {
  std::filesystem::path text, wav, log;
  ~scratch_files() {
    std::error_code ignored;
    for (const auto* p : {&text, &wav, &log}) {
      std::filesystem::remove(*p, ignored);
    }
  }
};

}  // namespace

speech_engine::speech_engine(std::filesystem::path program) : program_(std::move(program)) {}

bool speech_engine::available() const {
  return !program_.empty() && ::access(program_.c_str(), X_OK) == 0 &&
         std::filesystem::is_regular_file(program_);
}

result<std::vector<float>> speech_engine::speak(const voice_ref& voice, std::string_view text,
                                                const std::filesystem::path& scratch_dir) const {
  scratch_files files{scratch_name(scratch_dir, ".txt"), scratch_name(scratch_dir, ".wav"),
                      scratch_name(scratch_dir, ".log")};
  // Text goes through a file: it never becomes a command-line option.
  if (auto written = write_file_atomically(files.text, text, 0600); !written) {
    return error(media_errc::io, written.error().message());
  }
  process_options p;
  p.argv = {program_.string(),
            "-v",
            voice.name,
            "-p",
            std::to_string(voice.pitch),
            "-s",
            std::to_string(voice.speed),
            "-w",
            files.wav.string(),
            "-f",
            files.text.string()};
  p.output_file = files.log.string();
  auto status = run_program(p, std::chrono::seconds(60));
  if (!status || *status != 0) {
    auto log = read_file(files.log);
    return error(
        media_errc::speech,
        "espeak-ng failed for voice '" + voice.name +
            "': " + (status ? "exit status " + std::to_string(*status) : status.error().message()) +
            (log ? " " + *log : ""));
  }
  auto bytes = read_file(files.wav);
  if (!bytes) {
    return error(media_errc::speech, "espeak-ng wrote no audio: " + bytes.error().message());
  }
  auto wav = detail::parse_wav(*bytes);
  if (!wav) {
    return wav.error();
  }
  return detail::resample(wav->samples, wav->sample_rate, sample_rate);
}

}  // namespace reelfarm::media
