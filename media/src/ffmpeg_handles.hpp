#pragma once

#include <memory>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavutil/frame.h>
}

#include "reelfarm/common/result.hpp"
#include "reelfarm/media/errc.hpp"

/// RAII owners for FFmpeg objects: every allocation has exactly one owner, so
/// error paths cannot leak (the suite also runs under LeakSanitizer).
namespace reelfarm::media::detail {

struct codec_context_deleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct frame_deleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct packet_deleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
/// An output context: closes its file (if opened) and frees the context.
struct output_deleter {
  void operator()(AVFormatContext* f) const {
    if (f->pb != nullptr && !(f->oformat->flags & AVFMT_NOFILE)) {
      avio_closep(&f->pb);
    }
    avformat_free_context(f);
  }
};
/// An input context opened with avformat_open_input.
struct input_deleter {
  void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};

using codec_context_ptr = std::unique_ptr<AVCodecContext, codec_context_deleter>;
using frame_ptr = std::unique_ptr<AVFrame, frame_deleter>;
using packet_ptr = std::unique_ptr<AVPacket, packet_deleter>;
using output_ptr = std::unique_ptr<AVFormatContext, output_deleter>;
using input_ptr = std::unique_ptr<AVFormatContext, input_deleter>;

/// av_strerror as a string.
std::string av_error_text(int code);

/// An error of `code` saying what failed and FFmpeg's reason.
error av_failure(media_errc code, const std::string& what, int av_code);

/// Keeps FFmpeg's own log to errors (x264 statistics, muxer chatter) once per process.
void quiet_ffmpeg_log();

/// Opens `file` for reading and reads its stream info.
result<input_ptr> open_input(const std::string& file);

}  // namespace reelfarm::media::detail
