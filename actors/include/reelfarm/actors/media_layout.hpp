#pragma once

#include <filesystem>
#include <string>

namespace reelfarm::actors {

/// Where a project's files live in the shared media folder:
/// users/{user}/projects/{project}/{video-clips,final,subtitles,thumbnails}/.
/// Paths handed to nodes and stored as URLs are relative to the media folder.
class media_layout {
 public:
  media_layout(std::filesystem::path media_dir, std::string user_id, std::string project_id)
      : media_dir_(std::move(media_dir)),
        user_(std::move(user_id)),
        project_(std::move(project_id)) {}

  /// The media folder every relative path is resolved against.
  const std::filesystem::path& media_dir() const noexcept { return media_dir_; }
  /// users/{user}/projects/{project}
  std::filesystem::path project_rel() const {
    return std::filesystem::path("users") / user_ / "projects" / project_;
  }
  /// users/{user}/projects/{project}/video-clips: the only folder nodes are
  /// offered to write into.
  std::filesystem::path clips_rel() const { return project_rel() / "video-clips"; }
  /// video-clips/{shot}-{hash}.mp4: named by content, so a regenerate never
  /// overwrites a segment an earlier job still refers to.
  std::filesystem::path clip_rel(const std::string& shot_id, const std::string& input_hash) const {
    return clips_rel() / (shot_id + "-" + input_hash.substr(0, 16) + ".mp4");
  }
  std::filesystem::path final_rel() const { return project_rel() / "final"; }
  std::filesystem::path subtitles_rel() const { return project_rel() / "subtitles"; }
  std::filesystem::path thumbnails_rel() const { return project_rel() / "thumbnails"; }
  /// An absolute path of a relative one.
  std::filesystem::path absolute(const std::filesystem::path& rel) const {
    return media_dir_ / rel;
  }

 private:
  std::filesystem::path media_dir_;
  std::string user_;
  std::string project_;
};

}  // namespace reelfarm::actors
