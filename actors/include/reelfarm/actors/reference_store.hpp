#pragma once

#include <filesystem>
#include <string>

#include "reelfarm/actors/shot_plan.hpp"
#include "reelfarm/common/result.hpp"

namespace reelfarm::actors {

/// Stores a character's reference image once in the shared media folder,
/// content-addressed: MEDIA/references/<sha256>.<ext>, so every shot (and
/// every node, which caches it by the same hash) reads the same bytes.
/// `path` is relative to the media folder and must lie under
/// users/{user_id}/ (the owner's uploads) or references/; PNG, JPEG or WebP.
/// Fails with actors_errc::invalid_settings when it is not acceptable.
result<reference_image> store_reference_image(const std::filesystem::path& media_dir,
                                              const std::string& user_id, const std::string& path);

}  // namespace reelfarm::actors
