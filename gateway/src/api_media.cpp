// Media downloads: a finished project's film, subtitles, thumbnail and
// manifest, for their owner, with single byte ranges. The file's path comes
// only from the project's row (written by the supervisor), never from the
// request, and must resolve inside the media folder.
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <memory>

#include "api_state.hpp"
#include "reelfarm/common/log.hpp"

namespace reelfarm::gateway {

namespace {

namespace fs = std::filesystem;

/// Files up to this size are answered from memory (keep-alive kept); larger
/// ones are streamed with sendfile on a connection of their own.
constexpr std::int64_t in_memory_limit = 4 << 20;

struct media_kind {
  const char* name;
  const char* content_type;
  const char* file_name;
};

constexpr media_kind kinds[] = {
    {"film", "video/mp4", "film.mp4"},
    {"thumbnail", "image/jpeg", "thumbnail.jpg"},
    {"srt", "application/x-subrip; charset=utf-8", "film.srt"},
    {"vtt", "text/vtt; charset=utf-8", "film.vtt"},
    {"manifest", "application/json", "manifest.json"},
};

// The stored relative URL of `kind`, or "" when the project has none.
std::string stored_url(const project_record& p, std::string_view kind) {
  if (kind == "film") {
    return p.video_url.value_or("");
  }
  if (kind == "thumbnail") {
    return p.thumbnail_url.value_or("");
  }
  if (kind == "manifest") {
    return p.video_url ? (fs::path(*p.video_url).parent_path() / "manifest.json").string() : "";
  }
  auto subtitles = nlohmann::json::parse(p.subtitle_urls_json, nullptr, false);
  if (subtitles.is_object() && subtitles.contains(kind) &&
      subtitles[std::string(kind)].is_string()) {
    return subtitles[std::string(kind)].get<std::string>();
  }
  return {};
}

// The file inside the media folder, or nullopt when the stored path leaves it.
std::optional<fs::path> inside_media(const fs::path& media_dir, const std::string& relative) {
  fs::path rel(relative);
  if (relative.empty() || rel.is_absolute()) {
    return std::nullopt;
  }
  for (const auto& part : rel) {
    if (part == ".." || part == ".") {
      return std::nullopt;
    }
  }
  std::error_code ec;
  auto root = fs::canonical(media_dir, ec);
  if (ec) {
    return std::nullopt;
  }
  auto full = fs::weakly_canonical(root / rel, ec);
  if (ec) {
    return std::nullopt;
  }
  auto [r, f] = std::mismatch(root.begin(), root.end(), full.begin(), full.end());
  if (r != root.end()) {
    return std::nullopt;
  }
  return full;
}

struct byte_range {
  std::int64_t first = 0;
  std::int64_t last = 0;  ///< inclusive
};

enum class range_result { whole, partial, unsatisfiable };

// One range of RFC 9110 ("bytes=a-b", "bytes=a-", "bytes=-n"). Several
// ranges or a malformed header are ignored (the whole file is sent), which
// the RFC allows; a well-formed range outside the file is unsatisfiable.
range_result parse_range(std::string_view header, std::int64_t size, byte_range& out) {
  if (!header.starts_with("bytes=")) {
    return range_result::whole;
  }
  auto spec = header.substr(6);
  if (spec.find(',') != std::string_view::npos) {
    return range_result::whole;
  }
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) {
    return range_result::whole;
  }
  auto first_text = spec.substr(0, dash);
  auto last_text = spec.substr(dash + 1);
  constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max() / 2;
  if (first_text.empty()) {
    auto suffix = parse_integer(last_text, 0, max);
    if (!suffix) {
      return range_result::whole;
    }
    if (*suffix == 0 || size == 0) {
      return range_result::unsatisfiable;
    }
    out = {std::max<std::int64_t>(0, size - *suffix), size - 1};
    return range_result::partial;
  }
  auto first = parse_integer(first_text, 0, max);
  auto last =
      last_text.empty() ? std::optional<std::int64_t>(size - 1) : parse_integer(last_text, 0, max);
  if (!first || !last) {
    return range_result::whole;
  }
  if (*first >= size) {
    return range_result::unsatisfiable;
  }
  if (*last < *first) {
    return range_result::whole;
  }
  out = {*first, std::min(*last, size - 1)};
  return range_result::partial;
}

struct open_file {
  int fd = -1;
  ~open_file() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

// Streams [first, last] of the file after the head, in slices so a stop or
// a vanished client is noticed.
void send_file_range(std::shared_ptr<open_file> file, byte_range range, int fd,
                     std::string_view head, std::chrono::milliseconds stall_timeout,
                     const std::atomic<bool>& stopping) {
  if (!write_fully(fd, head, stall_timeout, stopping)) {
    return;
  }
  // Non-blocking, so a client that stops reading cannot hold this thread:
  // sendfile returns EAGAIN and the wait below gives up after the stall
  // timeout, or at once when the server stops.
  if (int flags = ::fcntl(fd, F_GETFL); flags >= 0) {
    (void)::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  }
  off_t offset = range.first;
  std::int64_t left = range.last - range.first + 1;
  while (left > 0 && !stopping.load()) {
    auto n = ::sendfile(fd, file->fd, &offset,
                        static_cast<std::size_t>(std::min<std::int64_t>(left, 1 << 20)));
    if (n > 0) {
      left -= n;
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_writable(fd, stall_timeout, stopping)) {
        return;  // the client stopped reading, or the server stops
      }
      continue;
    }
    return;  // the client went away, or the file shrank
  }
}

http_response serve_file(const fs::path& path, const media_kind& kind, const http_request& req,
                         std::chrono::milliseconds stall_timeout) {
  auto file = std::make_shared<open_file>();
  file->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (file->fd < 0 || ::fstat(file->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    log::error("gateway", "a stored media file is missing",
               {{"request_id", req.request_id}, {"file", path.string()}});
    return error_response(404, "not_found", "the file is no longer available");
  }
  std::int64_t size = st.st_size;
  auto etag = "\"" + std::to_string(size) + "-" + std::to_string(st.st_mtim.tv_sec) + "." +
              std::to_string(st.st_mtim.tv_nsec) + "\"";
  http_response res;
  res.content_type = kind.content_type;
  res.set_header("ETag", etag);
  res.set_header("Accept-Ranges", "bytes");
  res.set_header("Cache-Control", "private, max-age=0, must-revalidate");
  res.set_header("Content-Disposition", std::string("inline; filename=\"") + kind.file_name + "\"");
  if (auto match = req.header("if-none-match"); match && *match == etag) {
    res.status = 304;
    return res;
  }
  byte_range range{0, size - 1};
  auto wanted = req.header("range");
  auto if_range = req.header("if-range");
  bool range_applies = wanted && (!if_range || *if_range == etag);
  auto outcome = range_applies ? parse_range(*wanted, size, range) : range_result::whole;
  if (outcome == range_result::unsatisfiable) {
    auto refused = error_response(416, "range_not_satisfiable",
                                  "the file has " + std::to_string(size) + " bytes");
    refused.set_header("Content-Range", "bytes */" + std::to_string(size));
    return refused;
  }
  if (outcome == range_result::partial) {
    res.status = 206;
    res.set_header("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                        std::to_string(range.last) + "/" + std::to_string(size));
  } else {
    range = {0, size - 1};
  }
  std::int64_t length = size == 0 ? 0 : range.last - range.first + 1;
  if (length <= in_memory_limit) {
    res.body.resize(static_cast<std::size_t>(length));
    std::int64_t got = 0;
    while (got < length) {
      auto n = ::pread(file->fd, res.body.data() + got, static_cast<std::size_t>(length - got),
                       range.first + got);
      if (n <= 0) {
        return error_response(500, "internal",
                              "cannot read the file; request id " + req.request_id);
      }
      got += n;
    }
    return res;
  }
  res.set_header("Content-Length", std::to_string(length));
  res.takeover = [file, range, stall_timeout](int fd, std::string_view head,
                                              const std::atomic<bool>& stopping) {
    send_file_range(file, range, fd, head, stall_timeout, stopping);
  };
  return res;
}

http_response download(api_state& s, request_context& ctx) {
  const auto& id = ctx.param("id");
  const auto& kind_name = ctx.param("kind");
  const media_kind* kind = nullptr;
  for (const auto& k : kinds) {
    if (kind_name == k.name) {
      kind = &k;
    }
  }
  if (kind == nullptr) {
    return error_response(
        404, "not_found",
        "no media kind '" + kind_name + "'; one of film, thumbnail, srt, vtt, manifest");
  }
  if (!is_uuid(id)) {
    return error_response(404, "not_found", "no project with id '" + id + "'");
  }
  auto project = s.projects.get(ctx.caller->user_id, id);
  if (!project) {
    return from_error(project.error(), ctx.request);
  }
  auto url = stored_url(*project, kind->name);
  if (url.empty()) {
    return error_response(404, "no_media",
                          "the project has no " + kind_name + " yet (status " + project->status +
                              "); render it first");
  }
  auto path = inside_media(s.media_dir, url);
  if (!path) {
    log::error("gateway", "a stored media path leaves the media folder",
               {{"request_id", ctx.request.request_id}, {"project", id}});
    return error_response(404, "not_found", "the file is no longer available");
  }
  auto res = serve_file(*path, *kind, ctx.request, s.options.stream_stall_timeout);
  if (res.takeover) {
    res.stream_owner = ctx.caller->user_id;  // counts against the user's stream cap
  }
  return res;
}

}  // namespace

void add_media_routes(api_state& s) {
  s.routes.add({"GET", "/api/v1/projects/{id}/media/{kind}", access::creator, limit_class::standard,
                true, [&s](request_context& ctx) { return download(s, ctx); }});
}

}  // namespace reelfarm::gateway
