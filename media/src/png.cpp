#include "reelfarm/media/png.hpp"

#include <cstring>

#include "ffmpeg_handles.hpp"
#include "reelfarm/common/filesystem.hpp"

namespace reelfarm::media {

using namespace detail;

result<void> write_png(std::span<const std::uint8_t> rgb, int width, int height,
                       const std::filesystem::path& file) {
  if (width <= 0 || height <= 0 || rgb.size() != static_cast<std::size_t>(width) * height * 3) {
    return error(media_errc::invalid_spec, "the picture's size does not match its pixels");
  }
  quiet_ffmpeg_log();
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
  if (codec == nullptr) {
    return error(media_errc::encode, "libavcodec has no PNG encoder");
  }
  codec_context_ptr c(avcodec_alloc_context3(codec));
  c->width = width;
  c->height = height;
  c->pix_fmt = AV_PIX_FMT_RGB24;
  c->time_base = {1, 1};
  int rc = avcodec_open2(c.get(), codec, nullptr);
  if (rc < 0) {
    return av_failure(media_errc::encode, "cannot open the PNG encoder", rc);
  }
  frame_ptr frame(av_frame_alloc());
  frame->format = AV_PIX_FMT_RGB24;
  frame->width = width;
  frame->height = height;
  if (av_frame_get_buffer(frame.get(), 0) < 0) {
    return error(media_errc::encode, "out of memory for the picture");
  }
  for (int y = 0; y < height; ++y) {
    std::memcpy(frame->data[0] + static_cast<std::size_t>(y) * frame->linesize[0],
                rgb.data() + static_cast<std::size_t>(y) * width * 3,
                static_cast<std::size_t>(width) * 3);
  }
  packet_ptr packet(av_packet_alloc());
  if ((rc = avcodec_send_frame(c.get(), frame.get())) < 0 ||
      (rc = avcodec_receive_packet(c.get(), packet.get())) < 0) {
    return av_failure(media_errc::encode, "cannot encode the PNG", rc);
  }
  auto written = write_file_atomically(
      file, {reinterpret_cast<const char*>(packet->data), static_cast<std::size_t>(packet->size)},
      0644);
  if (!written) {
    return error(media_errc::io, written.error().message());
  }
  return ok();
}

}  // namespace reelfarm::media
