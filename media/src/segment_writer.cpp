#include "reelfarm/media/segment_writer.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
}

#include "ffmpeg_handles.hpp"

namespace reelfarm::media {

using namespace detail;

struct segment_writer::impl {
  encode_settings settings;
  std::string file;
  output_ptr format;
  codec_context_ptr video;
  codec_context_ptr audio;
  AVStream* video_stream = nullptr;
  AVStream* audio_stream = nullptr;
  frame_ptr video_frame;
  frame_ptr audio_frame;
  packet_ptr packet;
  std::int64_t video_pts = 0;
  std::int64_t audio_pts = 0;
  std::vector<float> pending;
  bool finished = false;
};

namespace {

error encode_error(const std::string& what, int rc) {
  return av_failure(media_errc::encode, what, rc);
}

// BT.709 limited range in integer arithmetic: identical bytes on every CPU,
// unlike SIMD colour converters whose rounding differs between machines.
void rgb_to_yuv420p(const std::uint8_t* rgb, int stride, AVFrame* f) {
  const int w = f->width, h = f->height;
  for (int y = 0; y < h; ++y) {
    const std::uint8_t* p = rgb + static_cast<std::size_t>(y) * stride;
    std::uint8_t* out = f->data[0] + static_cast<std::size_t>(y) * f->linesize[0];
    for (int x = 0; x < w; ++x, p += 3) {
      out[x] = static_cast<std::uint8_t>((47 * p[0] + 157 * p[1] + 16 * p[2] + 4096 + 128) >> 8);
    }
  }
  for (int y = 0; y < h / 2; ++y) {
    const std::uint8_t* row0 = rgb + static_cast<std::size_t>(2 * y) * stride;
    const std::uint8_t* row1 = row0 + stride;
    std::uint8_t* u = f->data[1] + static_cast<std::size_t>(y) * f->linesize[1];
    std::uint8_t* v = f->data[2] + static_cast<std::size_t>(y) * f->linesize[2];
    for (int x = 0; x < w / 2; ++x) {
      const std::uint8_t* a = row0 + 6 * x;
      const std::uint8_t* b = row1 + 6 * x;
      int r = (a[0] + a[3] + b[0] + b[3] + 2) >> 2;
      int g = (a[1] + a[4] + b[1] + b[4] + 2) >> 2;
      int bl = (a[2] + a[5] + b[2] + b[5] + 2) >> 2;
      u[x] = static_cast<std::uint8_t>((-26 * r - 87 * g + 113 * bl + 32768 + 128) >> 8);
      v[x] = static_cast<std::uint8_t>((112 * r - 102 * g - 10 * bl + 32768 + 128) >> 8);
    }
  }
}

result<codec_context_ptr> open_video(const encode_settings& s, bool global_header) {
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (codec == nullptr) {
    return error(media_errc::encode, "libavcodec was built without libx264");
  }
  codec_context_ptr c(avcodec_alloc_context3(codec));
  c->width = s.width;
  c->height = s.height;
  c->pix_fmt = AV_PIX_FMT_YUV420P;
  c->time_base = {1, s.fps};
  c->framerate = {s.fps, 1};
  c->gop_size = s.fps * s.gop_seconds;
  c->thread_count = s.threads;
  c->color_range = AVCOL_RANGE_MPEG;
  c->color_primaries = AVCOL_PRI_BT709;
  c->color_trc = AVCOL_TRC_BT709;
  c->colorspace = AVCOL_SPC_BT709;
  c->flags |= AV_CODEC_FLAG_BITEXACT | (global_header ? AV_CODEC_FLAG_GLOBAL_HEADER : 0);
  av_opt_set(c->priv_data, "preset", s.preset.c_str(), 0);
  av_opt_set(c->priv_data, "profile", s.profile.c_str(), 0);
  av_opt_set_double(c->priv_data, "crf", s.crf, 0);
  int rc = avcodec_open2(c.get(), codec, nullptr);
  if (rc < 0) {
    return encode_error("cannot open libx264 with preset '" + s.preset + "'", rc);
  }
  return c;
}

result<codec_context_ptr> open_audio(const encode_settings& s, bool global_header) {
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
  if (codec == nullptr) {
    return error(media_errc::encode, "libavcodec has no AAC encoder");
  }
  codec_context_ptr c(avcodec_alloc_context3(codec));
  c->sample_fmt = AV_SAMPLE_FMT_FLTP;
  c->sample_rate = s.sample_rate;
  c->ch_layout = AV_CHANNEL_LAYOUT_MONO;
  c->bit_rate = s.audio_bitrate;
  c->time_base = {1, s.sample_rate};
  c->flags |= AV_CODEC_FLAG_BITEXACT | (global_header ? AV_CODEC_FLAG_GLOBAL_HEADER : 0);
  int rc = avcodec_open2(c.get(), codec, nullptr);
  if (rc < 0) {
    return encode_error("cannot open the AAC encoder", rc);
  }
  return c;
}

result<AVStream*> add_stream(AVFormatContext* format, const AVCodecContext* codec) {
  AVStream* stream = avformat_new_stream(format, nullptr);
  if (stream == nullptr) {
    return error(media_errc::encode, "cannot add a stream");
  }
  int rc = avcodec_parameters_from_context(stream->codecpar, codec);
  if (rc < 0) {
    return encode_error("cannot copy codec parameters", rc);
  }
  stream->time_base = codec->time_base;
  stream->avg_frame_rate = codec->framerate;
  return stream;
}

frame_ptr video_frame_for(const AVCodecContext* c) {
  frame_ptr f(av_frame_alloc());
  f->format = c->pix_fmt;
  f->width = c->width;
  f->height = c->height;
  return av_frame_get_buffer(f.get(), 0) < 0 ? nullptr : std::move(f);
}

frame_ptr audio_frame_for(const AVCodecContext* c) {
  frame_ptr f(av_frame_alloc());
  f->format = c->sample_fmt;
  f->nb_samples = c->frame_size;
  f->sample_rate = c->sample_rate;
  av_channel_layout_copy(&f->ch_layout, &c->ch_layout);
  return av_frame_get_buffer(f.get(), 0) < 0 ? nullptr : std::move(f);
}

// Sends one frame (or nullptr to drain) and writes every packet it yields.
result<void> encode(segment_writer::impl& w, AVCodecContext* codec, AVStream* stream,
                    const AVFrame* frame) {
  int rc = avcodec_send_frame(codec, frame);
  if (rc < 0) {
    return encode_error("the encoder refused a frame", rc);
  }
  while ((rc = avcodec_receive_packet(codec, w.packet.get())) >= 0) {
    if (w.packet->duration == 0 && codec->codec_type == AVMEDIA_TYPE_VIDEO) {
      w.packet->duration = 1;  // one frame: the muxer needs the last frame's length
    }
    av_packet_rescale_ts(w.packet.get(), codec->time_base, stream->time_base);
    w.packet->stream_index = stream->index;
    rc = av_interleaved_write_frame(w.format.get(), w.packet.get());
    if (rc < 0) {
      return encode_error("cannot write to " + w.file, rc);
    }
  }
  return rc == AVERROR(EAGAIN) || rc == AVERROR_EOF ? ok() : encode_error("the encoder failed", rc);
}

result<void> open_streams(segment_writer::impl& w) {
  bool global = (w.format->oformat->flags & AVFMT_GLOBALHEADER) != 0;
  auto video = open_video(w.settings, global);
  if (!video) {
    return video.error();
  }
  w.video = std::move(*video);
  auto vs = add_stream(w.format.get(), w.video.get());
  if (!vs) {
    return vs.error();
  }
  w.video_stream = *vs;
  w.video_frame = video_frame_for(w.video.get());
  if (!w.settings.audio) {
    return ok();
  }
  auto audio = open_audio(w.settings, global);
  if (!audio) {
    return audio.error();
  }
  w.audio = std::move(*audio);
  auto as = add_stream(w.format.get(), w.audio.get());
  if (!as) {
    return as.error();
  }
  w.audio_stream = *as;
  w.audio_frame = audio_frame_for(w.audio.get());
  return ok();
}

result<void> encode_audio_block(segment_writer::impl& w, const float* samples) {
  int rc = av_frame_make_writable(w.audio_frame.get());
  if (rc < 0) {
    return encode_error("cannot reuse the audio frame", rc);
  }
  std::memcpy(w.audio_frame->data[0], samples, sizeof(float) * w.audio->frame_size);
  w.audio_frame->pts = w.audio_pts;
  w.audio_pts += w.audio->frame_size;
  return encode(w, w.audio.get(), w.audio_stream, w.audio_frame.get());
}

}  // namespace

segment_writer::segment_writer(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
segment_writer::segment_writer(segment_writer&&) noexcept = default;
segment_writer& segment_writer::operator=(segment_writer&&) noexcept = default;
segment_writer::~segment_writer() = default;

result<segment_writer> segment_writer::open(const std::filesystem::path& file,
                                            const encode_settings& settings) {
  quiet_ffmpeg_log();
  auto w = std::make_unique<impl>();
  w->settings = settings;
  w->file = file.string();
  AVFormatContext* raw = nullptr;
  int rc = avformat_alloc_output_context2(&raw, nullptr, "mp4", w->file.c_str());
  if (rc < 0) {
    return encode_error("cannot set up an MP4 muxer", rc);
  }
  w->format.reset(raw);
  w->format->flags |= AVFMT_FLAG_BITEXACT;
  if (auto opened = open_streams(*w); !opened) {
    return opened.error();
  }
  w->packet.reset(av_packet_alloc());
  if (!w->video_frame || (settings.audio && !w->audio_frame) || !w->packet) {
    return error(media_errc::encode, "out of memory allocating frames");
  }
  rc = avio_open(&w->format->pb, w->file.c_str(), AVIO_FLAG_WRITE);
  if (rc < 0) {
    return av_failure(media_errc::io, "cannot create " + w->file, rc);
  }
  rc = avformat_write_header(w->format.get(), nullptr);
  if (rc < 0) {
    return encode_error("cannot write the MP4 header of " + w->file, rc);
  }
  return segment_writer(std::move(w));
}

result<void> segment_writer::write_rgb(const std::uint8_t* rgb, int stride) {
  impl& w = *impl_;
  int rc = av_frame_make_writable(w.video_frame.get());
  if (rc < 0) {
    return encode_error("cannot reuse the video frame", rc);
  }
  rgb_to_yuv420p(rgb, stride, w.video_frame.get());
  w.video_frame->pts = w.video_pts++;
  return encode(w, w.video.get(), w.video_stream, w.video_frame.get());
}

result<void> segment_writer::write_yuv420p(const std::uint8_t* yuv) {
  impl& w = *impl_;
  int rc = av_frame_make_writable(w.video_frame.get());
  if (rc < 0) {
    return encode_error("cannot reuse the video frame", rc);
  }
  AVFrame* f = w.video_frame.get();
  for (int plane = 0; plane < 3; ++plane) {
    int pw = plane == 0 ? f->width : f->width / 2;
    int ph = plane == 0 ? f->height : f->height / 2;
    for (int y = 0; y < ph; ++y, yuv += pw) {
      std::memcpy(f->data[plane] + static_cast<std::size_t>(y) * f->linesize[plane], yuv, pw);
    }
  }
  f->pts = w.video_pts++;
  return encode(w, w.video.get(), w.video_stream, f);
}

result<void> segment_writer::write_audio(std::span<const float> samples) {
  impl& w = *impl_;
  if (!w.settings.audio) {
    return ok();
  }
  w.pending.insert(w.pending.end(), samples.begin(), samples.end());
  auto block = static_cast<std::size_t>(w.audio->frame_size);
  std::size_t used = 0;
  for (; w.pending.size() - used >= block; used += block) {
    if (auto r = encode_audio_block(w, w.pending.data() + used); !r) {
      return r;
    }
  }
  w.pending.erase(w.pending.begin(), w.pending.begin() + static_cast<std::ptrdiff_t>(used));
  return ok();
}

result<segment_stats> segment_writer::finish() {
  impl& w = *impl_;
  if (w.finished) {
    return error(media_errc::encode, "segment " + w.file + " is already finished");
  }
  w.finished = true;
  if (w.settings.audio && !w.pending.empty()) {
    w.pending.resize(static_cast<std::size_t>(w.audio->frame_size), 0.0f);
    if (auto r = encode_audio_block(w, w.pending.data()); !r) {
      return r.error();
    }
  }
  if (auto r = encode(w, w.video.get(), w.video_stream, nullptr); !r) {
    return r.error();
  }
  if (w.settings.audio) {
    if (auto r = encode(w, w.audio.get(), w.audio_stream, nullptr); !r) {
      return r.error();
    }
  }
  int rc = av_write_trailer(w.format.get());
  if (rc < 0) {
    return encode_error("cannot finish " + w.file, rc);
  }
  return segment_stats{w.video_pts, w.audio_pts};
}

}  // namespace reelfarm::media
