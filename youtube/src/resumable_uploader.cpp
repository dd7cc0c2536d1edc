#include "reelfarm/youtube/resumable_uploader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <vector>

#include "reelfarm/common/log.hpp"
#include "reelfarm/youtube/errc.hpp"
#include "reelfarm/youtube/google_error.hpp"

namespace reelfarm::youtube {

namespace {

constexpr std::string_view component = "youtube.upload";

bool transient_error(const error& e) {
  return e.category() == category_of(youtube_errc{}) &&
         is_transient(static_cast<youtube_errc>(e.code()));
}

bool retryable_status(long status) {
  return status == 500 || status == 502 || status == 503 || status == 504;
}

/// An open file closed on scope exit.
struct file_handle {
  int fd = -1;
  ~file_handle() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

bool read_at(int fd, char* out, std::size_t size, std::int64_t offset) {
  while (size > 0) {
    auto n = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    out += n;
    size -= static_cast<std::size_t>(n);
    offset += n;
  }
  return true;
}

}  // namespace

std::optional<std::int64_t> parse_upload_range(std::string_view header) {
  if (header.empty()) {
    return 0;
  }
  constexpr std::string_view prefix = "bytes=0-";
  if (!header.starts_with(prefix)) {
    return std::nullopt;
  }
  auto digits = header.substr(prefix.size());
  std::int64_t last = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), last);
  if (ec != std::errc() || end != digits.data() + digits.size() || last < 0) {
    return std::nullopt;
  }
  return last + 1;
}

resumable_uploader::resumable_uploader(const youtube_options& options, access_token_cache& tokens)
    : options_(options),
      tokens_(tokens),
      http_(options.request_timeout, options.connect_timeout, 1 << 20),
      waits_(options.backoff_base, options.backoff_cap) {}

result<std::string> resumable_uploader::start_session(std::int64_t total,
                                                      const upload_source& source) {
  auto token = tokens_.get();
  if (!token) {
    return std::move(token).error();
  }
  const auto body = source.resource.dump();
  http_request request;
  request.method = "POST";
  request.url = options_.upload_url + "/videos?uploadType=resumable&part=snippet,status";
  request.body = body;
  for (int renewals = 0;; ++renewals) {
    request.headers = {"Authorization: Bearer " + *token,
                       "Content-Type: application/json; charset=UTF-8",
                       "X-Upload-Content-Length: " + std::to_string(total),
                       "X-Upload-Content-Type: " + source.content_type};
    auto response = http_.perform(request);
    if (!response) {
      return std::move(response).error();
    }
    if (response->status == 401 && renewals == 0) {
      token = tokens_.renew();
      if (!token) {
        return std::move(token).error();
      }
      continue;
    }
    if (response->status != 200) {
      return google_error(*response, "videos.insert (resumable session)");
    }
    auto location = response->header("location");
    if (!location.starts_with("http://") && !location.starts_with("https://")) {
      return error(youtube_errc::invalid_response,
                   "videos.insert answered 200 without a session URI in Location");
    }
    ++stats_.sessions;
    return location;
  }
}

resumable_uploader::step resumable_uploader::classify(const result<http_response>& response,
                                                      std::string_view what) {
  step s;
  if (!response) {
    s.kind = outcome::transient;
    s.why = response.error();
    return s;
  }
  const auto status = response->status;
  if (status == 200 || status == 201) {
    auto json = nlohmann::json::parse(response->body, nullptr, false);
    if (!json.is_object() || !json.contains("id") || !json["id"].is_string() ||
        json["id"].get<std::string>().empty()) {
      s.kind = outcome::failed;
      s.why = error(youtube_errc::invalid_response,
                    std::string(what) + " completed the upload but answered no video id");
      return s;
    }
    s.kind = outcome::complete;
    s.video.id = json["id"].get<std::string>();
    s.video.resource = std::move(json);
    return s;
  }
  if (status == 308) {
    auto held = parse_upload_range(response->header("range"));
    if (!held) {
      s.kind = outcome::failed;
      s.why = error(youtube_errc::invalid_response,
                    std::string(what) + " answered 308 with a malformed Range header");
      return s;
    }
    s.kind = outcome::incomplete;
    s.acknowledged = *held;
    return s;
  }
  if (status == 404 || status == 410) {
    s.kind = outcome::expired;
    return s;
  }
  if (status == 401) {
    s.kind = outcome::unauthorized;
    return s;
  }
  s.why = google_error(*response, what);
  s.kind = retryable_status(status) ? outcome::transient : outcome::failed;
  return s;
}

resumable_uploader::step resumable_uploader::put(const std::string& session_uri,
                                                 std::string_view bytes, std::int64_t first,
                                                 std::int64_t total,
                                                 const std::string& content_type) {
  auto token = tokens_.get();
  if (!token) {
    step s;
    // The token endpoint down is worth a retry; a revoked grant is not.
    s.kind = transient_error(token.error()) ? outcome::transient : outcome::failed;
    s.why = token.error();
    return s;
  }
  http_request request;
  request.method = "PUT";
  request.url = session_uri;
  request.body = bytes;
  request.headers = {"Authorization: Bearer " + *token};
  if (bytes.empty()) {
    ++stats_.status_queries;
    request.headers.push_back("Content-Range: bytes */" + std::to_string(total));
    request.headers.push_back("Content-Type:");  // no body, no type
  } else {
    ++stats_.chunks;
    stats_.bytes_sent += static_cast<std::int64_t>(bytes.size());
    request.headers.push_back("Content-Type: " + content_type);
    request.headers.push_back("Content-Range: bytes " + std::to_string(first) + "-" +
                              std::to_string(first + static_cast<std::int64_t>(bytes.size()) - 1) +
                              "/" + std::to_string(total));
    // A slow link must not fail a large chunk: a second per 256 KiB on top.
    request.timeout =
        options_.request_timeout + std::chrono::seconds(1 + bytes.size() / chunk_granularity);
  }
  return classify(http_.perform(request), bytes.empty() ? "upload status query" : "upload chunk");
}

result<uploaded_video> resumable_uploader::upload(const upload_source& source,
                                                  std::string session_uri,
                                                  const upload_hooks& hooks) {
  file_handle file;
  file.fd = ::open(source.file.c_str(), O_RDONLY | O_CLOEXEC);
  if (file.fd < 0) {
    return error(youtube_errc::file,
                 "cannot open the film " + source.file.string() + ": " + std::strerror(errno));
  }
  const auto total = static_cast<std::int64_t>(::lseek(file.fd, 0, SEEK_END));
  if (total <= 0) {
    return error(youtube_errc::file, "the film " + source.file.string() + " is empty");
  }
  auto stopping = [&] { return hooks.stop_requested && hooks.stop_requested(); };
  auto progress = [&](std::int64_t held) {
    if (hooks.on_progress) {
      hooks.on_progress(held, total);
    }
  };
  std::vector<char> buffer(
      std::min<std::int64_t>(static_cast<std::int64_t>(options_.chunk_size), total));
  std::int64_t offset = 0;
  bool offset_known = false;  // after an interruption, ask before sending
  bool renewed = false;
  int failures = 0;  // consecutive, reset whenever the server holds more

  // A failed attempt: wait and ask the server where to resume.
  auto retry = [&](const error& why) -> std::optional<error> {
    if (failures >= options_.max_retries) {
      return error(
          why.is(youtube_errc::timeout) ? youtube_errc::timeout : youtube_errc::server_error,
          "the upload made no progress after " + std::to_string(failures) +
              " retries; last: " + why.message());
    }
    log::info(component, "retrying after a failure",
              {{"attempt", failures + 1}, {"error", why.message()}});
    ++stats_.retries;
    if (!waits_.wait(failures, hooks.stop_requested)) {
      return error(youtube_errc::cancelled, "the upload stopped; it resumes from its session");
    }
    ++failures;
    offset_known = false;
    return std::nullopt;
  };

  while (true) {
    if (stopping()) {
      return error(youtube_errc::cancelled, "the upload stopped; it resumes from its session");
    }
    if (session_uri.empty()) {
      if (hooks.before_insert) {
        if (auto reserved = hooks.before_insert(); !reserved) {
          return std::move(reserved).error();
        }
      }
      auto started = start_session(total, source);
      if (!started) {
        const auto& e = started.error();
        if (transient_error(e)) {
          if (auto fatal = retry(e)) {
            return *fatal;
          }
          continue;
        }
        return std::move(started).error();
      }
      session_uri = std::move(started).value();
      if (hooks.on_session) {
        hooks.on_session(session_uri);
      }
      offset = 0;
      offset_known = true;
      progress(0);
    }
    step s;
    std::int64_t sent = 0;
    if (!offset_known) {
      s = put(session_uri, {}, 0, total, source.content_type);
    } else {
      sent = std::min<std::int64_t>(static_cast<std::int64_t>(buffer.size()), total - offset);
      if (!read_at(file.fd, buffer.data(), static_cast<std::size_t>(sent), offset)) {
        return error(youtube_errc::file, "cannot read the film " + source.file.string() +
                                             " at byte " + std::to_string(offset));
      }
      s = put(session_uri, std::string_view(buffer.data(), static_cast<std::size_t>(sent)), offset,
              total, source.content_type);
    }
    switch (s.kind) {
      case outcome::complete:
        progress(total);
        return std::move(s.video);
      case outcome::incomplete:
        if (s.acknowledged > total || (offset_known && s.acknowledged > offset + sent)) {
          return error(youtube_errc::invalid_response,
                       "YouTube acknowledged bytes that were never sent (Range up to " +
                           std::to_string(s.acknowledged) + ")");
        }
        if (offset_known && s.acknowledged < offset + sent) {
          ++stats_.short_acks;  // resend from what the server holds
        }
        if (s.acknowledged > offset) {
          failures = 0;  // progress: the retry budget is per stall, not per upload
        }
        offset = s.acknowledged;
        offset_known = true;
        renewed = false;
        progress(offset);
        break;
      case outcome::expired:
        log::info(component, "the upload session expired; starting a new one", {{"held", offset}});
        ++stats_.expired_sessions;
        session_uri.clear();
        break;
      case outcome::unauthorized:
        if (renewed) {
          return error(youtube_errc::unauthorized,
                       "YouTube refused the upload with a freshly refreshed access token");
        }
        renewed = true;
        if (auto fresh = tokens_.renew(); !fresh) {
          return std::move(fresh).error();
        }
        offset_known = false;
        break;
      case outcome::transient:
        if (auto fatal = retry(s.why)) {
          return *fatal;
        }
        break;
      case outcome::failed:
        return std::move(s.why);
    }
  }
}

}  // namespace reelfarm::youtube
