#include "reelfarm/media/joiner.hpp"

#include <algorithm>
#include <cstring>

extern "C" {
#include <libavutil/mathematics.h>
}

#include "ffmpeg_handles.hpp"

namespace reelfarm::media {

using namespace detail;

namespace {

// One input, read whole: segments are small and reading first lets us trim
// audio against the video's exact length before writing anything.
struct opened_input {
  std::string file;
  input_ptr format;
  int video = -1;
  int audio = -1;
  std::vector<packet_ptr> packets;
  std::int64_t video_end = 0;  ///< in the video stream's time base
};

result<opened_input> read_input(const std::filesystem::path& file) {
  opened_input in;
  in.file = file.string();
  auto format = open_input(in.file);
  if (!format) {
    return format.error();
  }
  in.format = std::move(*format);
  in.video = av_find_best_stream(in.format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  in.audio = av_find_best_stream(in.format.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (in.video < 0) {
    return error(media_errc::decode, in.file + " has no video stream");
  }
  for (;;) {
    packet_ptr p(av_packet_alloc());
    int rc = av_read_frame(in.format.get(), p.get());
    if (rc == AVERROR_EOF) {
      break;
    }
    if (rc < 0) {
      return av_failure(media_errc::decode, "cannot read " + in.file, rc);
    }
    if (p->stream_index == in.video) {
      in.video_end = std::max(in.video_end, p->pts + p->duration);
    }
    if (p->stream_index == in.video || p->stream_index == in.audio) {
      in.packets.push_back(std::move(p));
    }
  }
  return in;
}

bool same_stream(const AVStream* a, const AVStream* b) {
  const AVCodecParameters* x = a->codecpar;
  const AVCodecParameters* y = b->codecpar;
  return x->codec_id == y->codec_id && x->width == y->width && x->height == y->height &&
         x->format == y->format && x->sample_rate == y->sample_rate &&
         x->ch_layout.nb_channels == y->ch_layout.nb_channels && x->profile == y->profile &&
         x->extradata_size == y->extradata_size &&
         (x->extradata_size == 0 ||
          std::memcmp(x->extradata, y->extradata, x->extradata_size) == 0) &&
         av_cmp_q(a->time_base, b->time_base) == 0;
}

result<void> check_compatible(const opened_input& first, const opened_input& other) {
  const AVStream* const* fs = first.format->streams;
  const AVStream* const* os = other.format->streams;
  bool audio_matches = (first.audio < 0) == (other.audio < 0) &&
                       (first.audio < 0 || same_stream(fs[first.audio], os[other.audio]));
  if (!same_stream(fs[first.video], os[other.video]) || !audio_matches) {
    return error(media_errc::mismatch, other.file + " differs from " + first.file +
                                           " in codec parameters; segments must be encoded with "
                                           "identical settings to be joined without re-encoding");
  }
  return ok();
}

result<output_ptr> open_output(const std::filesystem::path& file, const opened_input& first) {
  quiet_ffmpeg_log();
  AVFormatContext* raw = nullptr;
  int rc = avformat_alloc_output_context2(&raw, nullptr, "mp4", file.c_str());
  if (rc < 0) {
    return av_failure(media_errc::encode, "cannot set up an MP4 muxer", rc);
  }
  output_ptr out(raw);
  out->flags |= AVFMT_FLAG_BITEXACT;
  for (int index : {first.video, first.audio}) {
    if (index < 0) {
      continue;
    }
    const AVStream* in = first.format->streams[index];
    AVStream* s = avformat_new_stream(out.get(), nullptr);
    if (s == nullptr || avcodec_parameters_copy(s->codecpar, in->codecpar) < 0) {
      return error(media_errc::encode, "cannot add a stream to " + file.string());
    }
    s->codecpar->codec_tag = 0;
    s->time_base = in->time_base;
    s->avg_frame_rate = in->avg_frame_rate;
  }
  rc = avio_open(&out->pb, file.c_str(), AVIO_FLAG_WRITE);
  if (rc < 0) {
    return av_failure(media_errc::io, "cannot create " + file.string(), rc);
  }
  return out;
}

// Tracks where the joined audio stands against the joined video, both in samples.
struct audio_clock {
  std::int64_t written = 0;  ///< samples of audio written so far
  std::int64_t packet = 1024;
};

// Picks the packets of one input in output order, with output timestamps.
std::vector<AVPacket*> place_packets(opened_input& in, std::size_t ordinal, AVRational out_video_tb,
                                     AVRational out_audio_tb, std::int64_t video_offset,
                                     std::int64_t audio_target, audio_clock& clock) {
  std::vector<AVPacket*> chosen;
  AVRational video_tb = in.format->streams[in.video]->time_base;
  std::int64_t audio_budget = 0;
  if (in.audio >= 0) {
    // Keep as many whole AAC frames as bring the audio closest to the video's end.
    std::int64_t missing = audio_target - clock.written;
    audio_budget = std::max<std::int64_t>(0, (missing + clock.packet / 2 - 1) / clock.packet);
  }
  for (auto& p : in.packets) {
    if (p->stream_index == in.video) {
      std::int64_t shift = av_rescale_q(video_offset, out_video_tb, video_tb);
      p->pts += shift;
      p->dts += shift;
      av_packet_rescale_ts(p.get(), video_tb, out_video_tb);
      p->stream_index = 0;
      chosen.push_back(p.get());
      continue;
    }
    AVRational audio_tb = in.format->streams[in.audio]->time_base;
    bool priming = p->pts < 0;
    if ((priming && ordinal > 0) || (!priming && audio_budget == 0)) {
      continue;  // later inputs' priming would push their audio late; tails beyond the video go
    }
    av_packet_rescale_ts(p.get(), audio_tb, out_audio_tb);
    if (!priming) {
      // Every AAC packet decodes to one whole frame, whatever length the demuxer
      // reports for a trimmed last packet: lay them on an exact 1024-sample grid.
      p->pts = p->dts = clock.written;
      p->duration = clock.packet;
      clock.written += clock.packet;
      --audio_budget;
    }
    p->stream_index = 1;
    chosen.push_back(p.get());
  }
  return chosen;
}

}  // namespace

result<join_stats> join_segments(const std::vector<std::filesystem::path>& inputs,
                                 const std::filesystem::path& output) {
  if (inputs.empty()) {
    return error(media_errc::invalid_spec, "nothing to join into " + output.string());
  }
  std::vector<opened_input> opened;
  for (const auto& file : inputs) {
    auto in = read_input(file);
    if (!in) {
      return in.error();
    }
    if (!opened.empty()) {
      if (auto r = check_compatible(opened.front(), *in); !r) {
        return r.error();
      }
    }
    opened.push_back(std::move(*in));
  }
  auto part = output;
  part += ".part";
  auto out = open_output(part, opened.front());
  if (!out) {
    return out.error();
  }
  AVDictionary* options = nullptr;
  av_dict_set(&options, "movflags", "+faststart", 0);
  int rc = avformat_write_header(out->get(), &options);
  av_dict_free(&options);
  if (rc < 0) {
    return av_failure(media_errc::encode, "cannot start " + output.string(), rc);
  }
  AVRational vtb = (*out)->streams[0]->time_base;
  AVRational atb = (*out)->nb_streams > 1 ? (*out)->streams[1]->time_base : AVRational{1, 48000};
  join_stats stats;
  std::int64_t video_offset = 0;  // in vtb
  audio_clock clock;
  if (opened.front().audio >= 0) {
    int frame_size = opened.front().format->streams[opened.front().audio]->codecpar->frame_size;
    clock.packet = av_rescale_q(
        frame_size > 0 ? frame_size : 1024,
        {1, opened.front().format->streams[opened.front().audio]->codecpar->sample_rate}, atb);
  }
  for (std::size_t i = 0; i < opened.size(); ++i) {
    auto& in = opened[i];
    AVRational in_vtb = in.format->streams[in.video]->time_base;
    std::int64_t length = av_rescale_q(in.video_end, in_vtb, vtb);
    stats.starts_s.push_back(static_cast<double>(video_offset) * av_q2d(vtb));
    std::int64_t audio_target = av_rescale_q(video_offset + length, vtb, atb);
    auto packets = place_packets(in, i, vtb, atb, video_offset, audio_target, clock);
    // Interleave by time so players never starve one stream.
    std::stable_sort(packets.begin(), packets.end(), [&](const AVPacket* a, const AVPacket* b) {
      return av_compare_ts(a->dts, a->stream_index == 0 ? vtb : atb, b->dts,
                           b->stream_index == 0 ? vtb : atb) < 0;
    });
    for (AVPacket* p : packets) {
      rc = av_interleaved_write_frame(out->get(), p);  // takes the packet's data, leaves it blank
      if (rc < 0) {
        return av_failure(media_errc::encode, "cannot write " + output.string(), rc);
      }
    }
    video_offset += length;
    in.packets.clear();
  }
  rc = av_write_trailer(out->get());
  out->reset();
  if (rc < 0) {
    return av_failure(media_errc::encode, "cannot finish " + output.string(), rc);
  }
  std::error_code ec;
  std::filesystem::rename(part, output, ec);
  if (ec) {
    return error(media_errc::io,
                 "cannot move the joined file to " + output.string() + ": " + ec.message());
  }
  stats.video_duration_s = static_cast<double>(video_offset) * av_q2d(vtb);
  stats.audio_duration_s = static_cast<double>(clock.written) * av_q2d(atb);
  stats.video_frames = 0;
  AVRational rate = opened.front().format->streams[opened.front().video]->avg_frame_rate;
  if (rate.num > 0) {
    stats.video_frames = std::llround(stats.video_duration_s * av_q2d(rate));
  }
  return stats;
}

}  // namespace reelfarm::media
