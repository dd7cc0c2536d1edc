#include "ffmpeg_handles.hpp"

#include <mutex>

namespace reelfarm::media::detail {

std::string av_error_text(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

error av_failure(media_errc code, const std::string& what, int av_code) {
  return error(code, what + ": " + av_error_text(av_code));
}

void quiet_ffmpeg_log() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_level(AV_LOG_ERROR); });
}

result<input_ptr> open_input(const std::string& file) {
  quiet_ffmpeg_log();
  AVFormatContext* raw = nullptr;
  int rc = avformat_open_input(&raw, file.c_str(), nullptr, nullptr);
  if (rc < 0) {
    return av_failure(media_errc::decode, "cannot open " + file, rc);
  }
  input_ptr input(raw);
  rc = avformat_find_stream_info(input.get(), nullptr);
  if (rc < 0) {
    return av_failure(media_errc::decode, "cannot read the streams of " + file, rc);
  }
  return input;
}

}  // namespace reelfarm::media::detail
