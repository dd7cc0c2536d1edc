#include "reelfarm/media/thumbnail.hpp"

extern "C" {
#include <libswscale/swscale.h>
}

#include "ffmpeg_handles.hpp"
#include "reelfarm/common/filesystem.hpp"

namespace reelfarm::media {

using namespace detail;

namespace {

struct sws_deleter {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};

result<codec_context_ptr> open_decoder(const AVStream* stream) {
  const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
  if (codec == nullptr) {
    return error(media_errc::decode, "no decoder for the video stream");
  }
  codec_context_ptr c(avcodec_alloc_context3(codec));
  avcodec_parameters_to_context(c.get(), stream->codecpar);
  c->thread_count = 1;  // one thread: the same frame bytes every time
  int rc = avcodec_open2(c.get(), codec, nullptr);
  if (rc < 0) {
    return av_failure(media_errc::decode, "cannot open the video decoder", rc);
  }
  return c;
}

// Decodes from the start until the frame on screen at `target` (stream time base).
result<frame_ptr> decode_at(AVFormatContext* format, int index, AVCodecContext* decoder,
                            std::int64_t target) {
  packet_ptr packet(av_packet_alloc());
  frame_ptr frame(av_frame_alloc());
  frame_ptr best;
  bool draining = false;
  while (true) {
    int rc = draining ? AVERROR_EOF : av_read_frame(format, packet.get());
    if (rc == AVERROR_EOF && !draining) {
      draining = true;
      avcodec_send_packet(decoder, nullptr);
    } else if (rc < 0 && !draining) {
      return av_failure(media_errc::decode, "cannot read the video", rc);
    } else if (!draining) {
      if (packet->stream_index == index) {
        avcodec_send_packet(decoder, packet.get());
      }
      av_packet_unref(packet.get());
    }
    while (avcodec_receive_frame(decoder, frame.get()) >= 0) {
      bool past = frame->best_effort_timestamp > target;
      if (!past || !best) {
        best.reset(av_frame_clone(frame.get()));
      }
      av_frame_unref(frame.get());
      if (past) {
        return best;
      }
    }
    if (draining) {
      break;
    }
  }
  if (!best) {
    return error(media_errc::decode, "the video has no frames");
  }
  return best;
}

result<std::string> encode_jpeg(const AVFrame* source, int width, int height) {
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  if (codec == nullptr) {
    return error(media_errc::encode, "libavcodec has no JPEG encoder");
  }
  codec_context_ptr c(avcodec_alloc_context3(codec));
  c->width = width;
  c->height = height;
  c->pix_fmt = AV_PIX_FMT_YUVJ420P;
  c->time_base = {1, 25};
  c->flags |= AV_CODEC_FLAG_QSCALE | AV_CODEC_FLAG_BITEXACT;
  c->global_quality = FF_QP2LAMBDA * 3;
  int rc = avcodec_open2(c.get(), codec, nullptr);
  if (rc < 0) {
    return av_failure(media_errc::encode, "cannot open the JPEG encoder", rc);
  }
  frame_ptr scaled(av_frame_alloc());
  scaled->format = AV_PIX_FMT_YUVJ420P;
  scaled->width = width;
  scaled->height = height;
  if (av_frame_get_buffer(scaled.get(), 0) < 0) {
    return error(media_errc::encode, "out of memory for the thumbnail");
  }
  std::unique_ptr<SwsContext, sws_deleter> sws(
      sws_getContext(source->width, source->height, static_cast<AVPixelFormat>(source->format),
                     width, height, AV_PIX_FMT_YUVJ420P,
                     SWS_BICUBIC | SWS_ACCURATE_RND | SWS_BITEXACT, nullptr, nullptr, nullptr));
  if (!sws) {
    return error(media_errc::encode, "cannot scale the frame for the thumbnail");
  }
  sws_scale(sws.get(), source->data, source->linesize, 0, source->height, scaled->data,
            scaled->linesize);
  scaled->pts = 0;
  packet_ptr packet(av_packet_alloc());
  if ((rc = avcodec_send_frame(c.get(), scaled.get())) < 0 ||
      (rc = avcodec_receive_packet(c.get(), packet.get())) < 0) {
    return av_failure(media_errc::encode, "cannot encode the thumbnail", rc);
  }
  return std::string(reinterpret_cast<const char*>(packet->data), packet->size);
}

}  // namespace

result<void> make_thumbnail(const std::filesystem::path& video, double at_s,
                            const std::filesystem::path& jpeg, int width, int height) {
  auto input = open_input(video.string());
  if (!input) {
    return input.error();
  }
  int index = av_find_best_stream(input->get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (index < 0) {
    return error(media_errc::decode, video.string() + " has no video stream");
  }
  const AVStream* stream = (*input)->streams[index];
  auto decoder = open_decoder(stream);
  if (!decoder) {
    return decoder.error();
  }
  std::int64_t target = static_cast<std::int64_t>(at_s / av_q2d(stream->time_base));
  auto frame = decode_at(input->get(), index, decoder->get(), target);
  if (!frame) {
    return frame.error();
  }
  auto bytes = encode_jpeg(frame->get(), width, height);
  if (!bytes) {
    return bytes.error();
  }
  if (auto written = write_file_atomically(jpeg, *bytes, 0644); !written) {
    return error(media_errc::io, written.error().message());
  }
  return ok();
}

}  // namespace reelfarm::media
