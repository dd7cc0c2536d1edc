// Downloading a project's media: GET /projects/{id}/media/{kind} into a
// <file>.part, resumed with Range (and If-Range with the ETag the first
// answer carried), renamed into place when complete.
#include <cstdio>
#include <fstream>
#include <memory>

#include "ctl_api.hpp"
#include "reelfarm/common/filesystem.hpp"

namespace reelfarm::app {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct media_file {
  const char* kind;
  const char* name;
};
constexpr media_file media[] = {
    {"film", "film.mp4"}, {"srt", "film.srt"}, {"vtt", "film.vtt"}, {"thumbnail", "thumbnail.jpg"}};

/// Where the answer's body goes: appended to the .part after a 206, over it
/// after a 200.
struct part_writer {
  fs::path part;
  fs::path etag_file;
  std::unique_ptr<std::FILE, decltype(&std::fclose)> out{nullptr, std::fclose};
  bool failed = false;

  bool open(const http_response& head) {
    out.reset(std::fopen(part.c_str(), head.status == 206 ? "ab" : "wb"));
    if (auto it = head.headers.find("etag"); it != head.headers.end() && head.status == 200) {
      std::ofstream(etag_file) << it->second;
    }
    return out != nullptr;
  }

  bool write(const http_response& head, std::string_view chunk) {
    if (!out && !open(head)) {
      failed = true;
      return false;
    }
    failed = std::fwrite(chunk.data(), 1, chunk.size(), out.get()) != chunk.size();
    return !failed;
  }
};

std::uintmax_t size_of(const fs::path& file) {
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  return ec ? 0 : size;
}

/// The full size the answer announces: N of "Content-Range: bytes a-b/N",
/// else Content-Length; nullopt when it says neither.
std::optional<std::uintmax_t> announced_size(const http_response& head, std::uintmax_t offset) {
  auto range = head.headers.find("content-range");
  if (head.status == 206 && range != head.headers.end()) {
    auto slash = range->second.rfind('/');
    if (slash != std::string::npos) {
      return std::strtoull(range->second.c_str() + slash + 1, nullptr, 10);
    }
  }
  auto length = head.headers.find("content-length");
  if (length != head.headers.end()) {
    return std::strtoull(length->second.c_str(), nullptr, 10) + (head.status == 206 ? offset : 0);
  }
  return std::nullopt;
}

result<http_response> request_part(api_client& api, const std::string& url, part_writer& w,
                                   std::uintmax_t offset) {
  http_request request;
  request.url = url;
  request.timeout = 0s;  // a film takes as long as it takes, but never stalls:
  request.silence_limit = 60s;
  if (offset > 0) {
    request.headers.push_back("Range: bytes=" + std::to_string(offset) + "-");
    if (auto etag = read_file(w.etag_file); etag && !etag->empty()) {
      request.headers.push_back("If-Range: " + *etag);
    }
  }
  request.sink = [&w](const http_response& head, std::string_view chunk) {
    return w.write(head, chunk);
  };
  return api.exchange(std::move(request));
}

result<std::uintmax_t> download_one(api_client& api, const std::string& project,
                                    const media_file& m, const fs::path& dir) {
  auto target = dir / m.name;
  part_writer w{fs::path(target.string() + ".part"), fs::path(target.string() + ".part.etag")};
  auto offset = size_of(w.part);
  auto url = "/projects/" + project + "/media/" + m.kind;
  auto answer = request_part(api, url, w, offset);
  if (answer && answer->status == 416 && offset > 0) {
    fs::remove(w.part);  // the part does not fit the file any more: start over
    offset = 0;
    answer = request_part(api, url, w, offset);
  }
  if (!answer || w.failed) {
    return w.failed ? error(ctl_errc::local, "cannot write " + w.part.string()) : answer.error();
  }
  if (answer->status < 200 || answer->status >= 300) {
    return answer_error(*answer);
  }
  if (!w.out && !w.open(*answer)) {  // an empty body never reached the sink
    return error(ctl_errc::local, "cannot write " + w.part.string());
  }
  w.out.reset();
  auto expected = announced_size(*answer, offset);
  if (expected && size_of(w.part) != *expected) {
    return error(ctl_errc::unreachable, "the download of " + target.string() +
                                            " stopped early; run the command again to resume");
  }
  std::error_code ec;
  fs::rename(w.part, target, ec);
  fs::remove(w.etag_file, ec);
  return size_of(target);
}

}  // namespace

result<void> download_media(api_client& api, const std::string& project, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return error(ctl_errc::local, "cannot create " + dir.string() + ": " + ec.message());
  }
  for (const auto& m : media) {
    auto size = download_one(api, project, m, dir);
    if (!size) {
      return size.error();
    }
    std::printf("saved %s (%ju bytes)\n", (dir / m.name).c_str(), *size);
  }
  std::fflush(stdout);
  return ok();
}

}  // namespace reelfarm::app
