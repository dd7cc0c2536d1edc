// WAV parsing and resampling for speech clips.
#include <algorithm>
#include <cstring>
#include <memory>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
}

#include "reelfarm/media/errc.hpp"
#include "wav.hpp"

namespace reelfarm::media::detail {
namespace {

std::uint32_t le32(std::string_view b, std::size_t at) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(b[at])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 2])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 3])) << 24;
}

std::uint16_t le16(std::string_view b, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(b[at]) |
                                    static_cast<unsigned char>(b[at + 1]) << 8);
}

error bad_wav(const std::string& why) {
  return error(media_errc::speech, "the speech engine's WAV output is unusable: " + why);
}

struct swr_deleter {
  void operator()(SwrContext* s) const { swr_free(&s); }
};

}  // namespace

result<pcm> parse_wav(std::string_view b) {
  if (b.size() < 12 || b.substr(0, 4) != "RIFF" || b.substr(8, 4) != "WAVE") {
    return bad_wav("not a RIFF/WAVE file");
  }
  pcm out;
  int channels = 0;
  int bits = 0;
  for (std::size_t at = 12; at + 8 <= b.size();) {
    auto id = b.substr(at, 4);
    std::size_t size = le32(b, at + 4);
    std::size_t body = at + 8;
    // espeak-ng writing to a pipe leaves the size as 0x7fffffff; clamp to what exists.
    std::size_t available = std::min(size, b.size() - body);
    if (id == "fmt " && available >= 16) {
      channels = le16(b, body + 2);
      out.sample_rate = static_cast<int>(le32(b, body + 4));
      bits = le16(b, body + 14);
    } else if (id == "data") {
      if (bits != 16 || channels < 1 || out.sample_rate < 1000) {
        return bad_wav("expected 16-bit PCM");
      }
      std::size_t frame = 2 * static_cast<std::size_t>(channels);
      for (std::size_t i = 0; i + frame <= available; i += frame) {
        auto v = static_cast<std::int16_t>(le16(b, body + i));
        out.samples.push_back(static_cast<float>(v) / 32768.0f);
      }
      return out;
    }
    at = body + available + (available & 1);
  }
  return bad_wav("no data chunk");
}

result<std::vector<float>> resample(const std::vector<float>& in, int from_rate, int to_rate) {
  if (from_rate == to_rate || in.empty()) {
    return in;
  }
  AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
  SwrContext* raw = nullptr;
  if (swr_alloc_set_opts2(&raw, &mono, AV_SAMPLE_FMT_FLT, to_rate, &mono, AV_SAMPLE_FMT_FLT,
                          from_rate, 0, nullptr) < 0) {
    return error(media_errc::speech, "cannot set up the resampler");
  }
  std::unique_ptr<SwrContext, swr_deleter> swr(raw);
  if (swr_init(swr.get()) < 0) {
    return error(media_errc::speech, "cannot initialise the resampler");
  }
  std::vector<float> out(static_cast<std::size_t>(
      av_rescale_rnd(static_cast<std::int64_t>(in.size()), to_rate, from_rate, AV_ROUND_UP) + 256));
  const auto* src = reinterpret_cast<const std::uint8_t*>(in.data());
  auto* dst = reinterpret_cast<std::uint8_t*>(out.data());
  int made =
      swr_convert(swr.get(), &dst, static_cast<int>(out.size()), &src, static_cast<int>(in.size()));
  if (made < 0) {
    return error(media_errc::speech, "resampling the speech failed");
  }
  auto* tail = reinterpret_cast<std::uint8_t*>(out.data() + made);
  int flushed = swr_convert(swr.get(), &tail, static_cast<int>(out.size()) - made, nullptr, 0);
  out.resize(static_cast<std::size_t>(made + std::max(0, flushed)));
  return out;
}

}  // namespace reelfarm::media::detail
