#pragma once

#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api_client.hpp"
#include "commands.hpp"
#include "progress_view.hpp"

/// The pieces shared by the `reelfarm ctl` commands that use the HTTP API.
namespace reelfarm::app {

/// The words and flags of a ctl command line.
struct ctl_args {
  std::vector<std::string> words;             ///< positional, "submit", "film.fountain", ...
  std::map<std::string, std::string> values;  ///< --api URL, --title T, ...
  std::set<std::string> switches;             ///< --watch, --json, ...

  bool has(const std::string& flag) const { return switches.contains(flag); }
  std::string value(const std::string& flag, const std::string& fallback = "") const;
};

/// Splits `args`; an unknown flag or one missing its value is an error.
result<ctl_args> parse_ctl_args(const std::vector<std::string>& args);

/// One run of an API command: the command line, the configuration, the login.
struct ctl_session {
  ctl_args args;
  const global_options& options;
  std::filesystem::path credentials_file;
  std::optional<credentials> login;

  /// --api, else REELFARM_API, else the stored login's, else the configured
  /// gateway (http://gateway.host:gateway.port).
  std::string api_url() const;
  api_client client() const;
};

/// Prints "reelfarm ctl: <message>" and returns exit_failure.
int fail(const reelfarm::error& e);
int fail(const std::string& message);
/// Prints the usage of every ctl command to `out`.
void print_ctl_usage(std::FILE* out);
/// The table of `ctl nodes list` (the coordinator's JSON array of nodes).
void print_node_table(const nlohmann::json& nodes);

/// The password: REELFARM_PASSWORD, else one line of stdin with
/// --password-stdin, else typed at the terminal without echo.
result<std::string> read_password(bool from_stdin);
/// A line typed at the terminal after `prompt`; fails without a terminal.
result<std::string> prompt_line(const char* prompt);

/// Follows the project's event stream until job `job` (the project's latest
/// when empty) ends; reconnects with Last-Event-ID when the stream drops or
/// stays silent for 45 s. Returns the final state (complete, failed or
/// cancelled).
result<progress_state> follow_render(api_client& api, const std::string& project,
                                     const std::string& job, progress_view& view);

/// Saves film.mp4, film.srt, film.vtt and thumbnail.jpg of `project` into
/// `dir`, resuming a partial download (<file>.part) with Range.
result<void> download_media(api_client& api, const std::string& project,
                            const std::filesystem::path& dir);

/// Follows the render (with --watch or --download) and downloads (with
/// --download DIR); the exit code: 0 complete, 1 failed or cancelled.
int watch_and_download(ctl_session& s, api_client& api, const std::string& project,
                       const std::string& job);

int ctl_login(ctl_session& s);
int ctl_register(ctl_session& s);
int ctl_logout(ctl_session& s);
int ctl_projects(ctl_session& s);
int ctl_submit(ctl_session& s);
int ctl_watch(ctl_session& s);
int ctl_download(ctl_session& s);
int ctl_cancel(ctl_session& s);
int ctl_regenerate(ctl_session& s);
int ctl_job(ctl_session& s);
int ctl_credits(ctl_session& s);
int ctl_nodes(ctl_session& s);

}  // namespace reelfarm::app
