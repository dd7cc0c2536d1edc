#include "reelfarm/actors/reference_store.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <fstream>

#include "reelfarm/actors/errc.hpp"
#include "reelfarm/common/filesystem.hpp"

namespace reelfarm::actors {
namespace {

namespace fs = std::filesystem;

// Reference images are small (a portrait); a bound keeps a bad upload from
// filling every node's cache.
constexpr std::uintmax_t max_image_bytes = 32u << 20;

std::string hex_sha256(const std::string& bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

}  // namespace

result<reference_image> store_reference_image(const fs::path& media_dir, const std::string& user_id,
                                              const std::string& path) {
  fs::path rel = path;
  auto bad = [&](const std::string& why) {
    return error(actors_errc::invalid_settings, "reference image " + path + ": " + why);
  };
  auto it = rel.begin();
  bool owned = it != rel.end() &&
               ((*it == "users" && std::next(it) != rel.end() && *std::next(it) == user_id) ||
                *it == "references");
  bool traverses = std::any_of(rel.begin(), rel.end(), [](const fs::path& p) { return p == ".."; });
  if (rel.is_absolute() || traverses || !owned) {
    return bad("must be in the media folder under users/" + user_id + "/ or references/");
  }
  auto ext = rel.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext != ".png" && ext != ".jpg" && ext != ".jpeg" && ext != ".webp") {
    return bad("must be a .png, .jpg or .webp image");
  }
  std::error_code ec;
  auto size = fs::file_size(media_dir / rel, ec);
  if (ec || size == 0 || size > max_image_bytes) {
    return bad(ec ? "cannot be read" : "must be 1 byte to 32 MiB");
  }
  auto bytes = read_file(media_dir / rel);
  if (!bytes) {
    return bad("cannot be read");
  }
  auto hex = hex_sha256(*bytes);
  auto stored = fs::path("references") / (hex + ext);
  if (!fs::exists(media_dir / stored, ec)) {
    if (auto made = ensure_directory(media_dir / "references", 0755); !made) {
      return made.error();
    }
    if (auto w = write_file_atomically(media_dir / stored, *bytes, 0644); !w) {
      return error(actors_errc::invalid_settings,
                   "cannot store reference image: " + w.error().message());
    }
  }
  return reference_image{stored.string(), hex};
}

}  // namespace reelfarm::actors
