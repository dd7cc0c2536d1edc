// Decodes generated pictures for a shot. Each input file is a "clip" owning an
// equal share of the shot's time; inside its share a clip's frames are shown
// by their own timestamps, so a 16 fps model video keeps its speed in a 24 fps
// shot. Scaling covers the frame and crops the centre: AI models rarely return
// exactly the shot's aspect ratio, and letterboxing would differ per backend.
#include "reelfarm/media/frame_source.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

extern "C" {
#include <libswscale/swscale.h>
}

#include "ffmpeg_handles.hpp"

namespace reelfarm::media {

using namespace detail;

namespace {

struct sws_deleter {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};

// One input file being decoded frame by frame.
class clip_reader {
 public:
  static result<std::unique_ptr<clip_reader>> open(const std::filesystem::path& file, int width,
                                                   int height) {
    auto input = open_input(file.string());
    if (!input) {
      return input.error();
    }
    auto r = std::make_unique<clip_reader>();
    r->file_ = file.string();
    r->width_ = width;
    r->height_ = height;
    r->index_ = av_find_best_stream(input->get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (r->index_ < 0) {
      return error(media_errc::decode, file.string() + " holds no picture");
    }
    const AVStream* stream = (*input)->streams[r->index_];
    const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
    if (codec == nullptr) {
      return error(media_errc::decode, "no decoder for the pictures of " + file.string());
    }
    r->decoder_.reset(avcodec_alloc_context3(codec));
    avcodec_parameters_to_context(r->decoder_.get(), stream->codecpar);
    r->decoder_->thread_count = 1;
    if (int rc = avcodec_open2(r->decoder_.get(), codec, nullptr); rc < 0) {
      return av_failure(media_errc::decode, "cannot open the decoder of " + file.string(), rc);
    }
    r->time_base_ = av_q2d(stream->time_base);
    r->input_ = std::move(input).value();
    r->packet_.reset(av_packet_alloc());
    return r;
  }

  // The frame on screen at `t` seconds into the clip (the last one past its end).
  result<const std::vector<std::uint8_t>*> at(double t) {
    if (current_.empty()) {
      auto first = decode_next();
      if (!first) {
        return first.error();
      }
      if (!*first) {
        return error(media_errc::decode, file_ + " holds no decodable picture");
      }
      if (auto c = convert(first->get()); !c) {
        return c.error();
      }
      auto next = decode_next();
      if (!next) {
        return next.error();
      }
      next_ = std::move(*next);
    }
    while (next_ && time_of(next_.get()) <= t) {
      if (auto c = convert(next_.get()); !c) {
        return c.error();
      }
      auto next = decode_next();
      if (!next) {
        return next.error();
      }
      next_ = std::move(*next);
    }
    return &current_;
  }

 private:
  double time_of(const AVFrame* f) {
    auto ts = f->best_effort_timestamp == AV_NOPTS_VALUE ? 0 : f->best_effort_timestamp;
    if (!start_) {
      start_ = ts;  // clips may not start at zero
    }
    return static_cast<double>(ts - *start_) * time_base_;
  }

  // The next decoded frame, or nullptr at the end.
  result<frame_ptr> decode_next() {
    frame_ptr frame(av_frame_alloc());
    while (true) {
      int rc = avcodec_receive_frame(decoder_.get(), frame.get());
      if (rc >= 0) {
        time_of(frame.get());
        return frame;
      }
      if (rc == AVERROR_EOF) {
        return frame_ptr{};
      }
      if (rc != AVERROR(EAGAIN)) {
        return av_failure(media_errc::decode, "cannot decode " + file_, rc);
      }
      if (draining_) {
        return frame_ptr{};
      }
      rc = av_read_frame(input_.get(), packet_.get());
      if (rc == AVERROR_EOF) {
        draining_ = true;
        avcodec_send_packet(decoder_.get(), nullptr);
        continue;
      }
      if (rc < 0) {
        return av_failure(media_errc::decode, "cannot read " + file_, rc);
      }
      if (packet_->stream_index == index_) {
        rc = avcodec_send_packet(decoder_.get(), packet_.get());
      }
      av_packet_unref(packet_.get());
      if (rc < 0 && rc != AVERROR(EAGAIN)) {
        return av_failure(media_errc::decode, "cannot decode " + file_, rc);
      }
    }
  }

  // Scales to cover width x height, then copies the centred crop.
  result<void> convert(const AVFrame* f) {
    if (f->width <= 0 || f->height <= 0) {
      return error(media_errc::decode, file_ + " has a picture without size");
    }
    double scale =
        std::max(static_cast<double>(width_) / f->width, static_cast<double>(height_) / f->height);
    int sw = std::max(width_, static_cast<int>(std::ceil(f->width * scale)));
    int sh = std::max(height_, static_cast<int>(std::ceil(f->height * scale)));
    sws_.reset(sws_getCachedContext(sws_.release(), f->width, f->height,
                                    static_cast<AVPixelFormat>(f->format), sw, sh, AV_PIX_FMT_RGB24,
                                    SWS_BICUBIC | SWS_ACCURATE_RND | SWS_BITEXACT, nullptr, nullptr,
                                    nullptr));
    if (!sws_) {
      return error(media_errc::decode, "cannot scale the pictures of " + file_);
    }
    std::vector<std::uint8_t> scaled(static_cast<std::size_t>(sw) * sh * 3);
    std::uint8_t* dst[4] = {scaled.data(), nullptr, nullptr, nullptr};
    int dst_stride[4] = {sw * 3, 0, 0, 0};
    sws_scale(sws_.get(), f->data, f->linesize, 0, f->height, dst, dst_stride);
    int x0 = (sw - width_) / 2;
    int y0 = (sh - height_) / 2;
    current_.resize(static_cast<std::size_t>(width_) * height_ * 3);
    for (int y = 0; y < height_; ++y) {
      std::copy_n(scaled.data() + (static_cast<std::size_t>(y0 + y) * sw + x0) * 3, width_ * 3,
                  current_.data() + static_cast<std::size_t>(y) * width_ * 3);
    }
    return ok();
  }

  std::string file_;
  int width_ = 0;
  int height_ = 0;
  int index_ = -1;
  double time_base_ = 0;
  std::optional<std::int64_t> start_;
  bool draining_ = false;
  input_ptr input_;
  codec_context_ptr decoder_;
  packet_ptr packet_;
  frame_ptr next_;
  std::unique_ptr<SwsContext, sws_deleter> sws_;
  std::vector<std::uint8_t> current_;
};

}  // namespace

struct frame_source::impl {
  std::vector<std::unique_ptr<clip_reader>> clips;
  int fps = 24;
  std::int64_t frames = 1;
};

frame_source::frame_source(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
frame_source::frame_source(frame_source&&) noexcept = default;
frame_source& frame_source::operator=(frame_source&&) noexcept = default;
frame_source::~frame_source() = default;

result<frame_source> frame_source::open(const std::vector<std::filesystem::path>& files, int width,
                                        int height, int fps, std::int64_t frames) {
  if (files.empty()) {
    return error(media_errc::decode, "no generated pictures to show");
  }
  if (width <= 0 || height <= 0 || fps <= 0 || frames <= 0) {
    return error(media_errc::invalid_spec, "frame source needs a size, fps and frame count");
  }
  auto state = std::make_unique<impl>();
  state->fps = fps;
  state->frames = frames;
  for (const auto& f : files) {
    auto clip = clip_reader::open(f, width, height);
    if (!clip) {
      return clip.error();
    }
    state->clips.push_back(std::move(clip).value());
  }
  return frame_source(std::move(state));
}

result<const std::vector<std::uint8_t>*> frame_source::frame(std::int64_t index) {
  auto& s = *impl_;
  index = std::clamp<std::int64_t>(index, 0, s.frames - 1);
  auto n = static_cast<std::int64_t>(s.clips.size());
  // Clip k owns shot frames [k*frames/n, (k+1)*frames/n).
  auto clip = std::min(n - 1, index * n / s.frames);
  auto first = clip * s.frames / n;
  double t = static_cast<double>(index - first) / s.fps;
  return s.clips[static_cast<std::size_t>(clip)]->at(t);
}

}  // namespace reelfarm::media
