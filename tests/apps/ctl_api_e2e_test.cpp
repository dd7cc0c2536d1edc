// `reelfarm ctl` as a client of the HTTP API, run as a person would: the real
// binary against `reelfarm serve` and two `reelfarm node` processes. Login
// and registration (password from REELFARM_PASSWORD and from stdin), submit
// with --watch --download, credits, job, projects, a resumed download, the
// transparent refresh of an expired access token, and the errors a person
// sees (wrong password, no login, an unreachable server, a refused request).
#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "reelfarm/common/net.hpp"
#include "reelfarm/common/process.hpp"
#include "reelfarm/farm/coordinator/admin_client.hpp"
#include "reelfarm/gateway/jwt.hpp"
#include "serve_farm.hpp"

using namespace reelfarm;
using namespace reelfarm::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

constexpr const char* jwt_secret = "ctl-e2e-test-secret-0123456789abcdef";
constexpr const char* password = "a long enough password";

/// serve (with a known JWT secret, so a test can sign an expired token) and two nodes.
struct farm_under_test : serve_farm {
  farm_under_test()
      : serve_farm({std::string("gateway.jwt_secret=") + jwt_secret,
                    "gateway.rate_limit_login_per_ip=1000"}),
        api(origin) {}

  std::string api;  ///< what `ctl --api` takes: the origin, without /api/v1
};

std::string contents(const std::filesystem::path& file) {
  auto text = read_file(file);
  return text ? *text : std::string();
}

/// `reelfarm ctl ARGS...` with the password in REELFARM_PASSWORD (or none).
run_outcome ctl(std::vector<std::string> args, const std::string& pw = {},
                std::chrono::seconds timeout = 60s) {
  if (pw.empty()) {
    ::unsetenv("REELFARM_PASSWORD");
  } else {
    ::setenv("REELFARM_PASSWORD", pw.c_str(), 1);
  }
  args.insert(args.begin(), "ctl");
  auto out = run_reelfarm(args, timeout);
  ::unsetenv("REELFARM_PASSWORD");
  return out;
}

/// `printf PW | reelfarm ctl ARGS... --password-stdin`.
run_outcome ctl_with_stdin(const std::string& pw, const std::vector<std::string>& args) {
  std::string command = "printf '%s\\n' \"$CTL_TEST_PW\" | exec " + std::string(REELFARM_BINARY) +
                        " ctl --password-stdin";
  for (const auto& a : args) {
    command += " '" + a + "'";
  }
  ::setenv("CTL_TEST_PW", pw.c_str(), 1);
  temp_dir dir;
  process_options p;
  p.argv = {"/bin/sh", "-c", command};
  p.output_file = (dir.path() / "out").string();
  auto status = run_program(p, 60s);
  ::unsetenv("CTL_TEST_PW");
  return {status ? *status : -1, contents(dir.path() / "out")};
}

json stored(const std::filesystem::path& file) {
  return json::parse(read_file(file).value());
}

void store(const std::filesystem::path& file, const json& j) {
  std::ofstream(file) << j.dump();
}

long long number_after(const std::string& text, const std::string& pattern) {
  std::smatch m;
  REQUIRE(std::regex_search(text, m, std::regex(pattern)));
  return std::stoll(m[1]);
}

double ffprobe_duration(const std::filesystem::path& file) {
  temp_dir dir;
  process_options p;
  p.argv = {"/usr/bin/ffprobe", "-v",  "error",   "-show_entries",
            "format=duration",  "-of", "csv=p=0", file.string()};
  p.output_file = (dir.path() / "out").string();
  auto status = run_program(p, 30s);
  REQUIRE(status);
  REQUIRE(*status == 0);
  return std::stod(read_file(dir.path() / "out").value());
}

mode_t mode_of(const std::filesystem::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

}  // namespace

TEST_CASE("ctl logs in, submits a screenplay, follows it and downloads the film",
          "[ctl][api][e2e]") {
  farm_under_test farm;
  auto creds = farm.dir.path() / "config" / "reelfarm" / "credentials.json";
  ::setenv("REELFARM_CREDENTIALS", creds.c_str(), 1);

  // No login yet: a clear message, no request with an empty token.
  auto anonymous = ctl({"credits", "--api", farm.api});
  CHECK(anonymous.status == 1);
  CHECK_THAT(anonymous.output, Catch::Contains("reelfarm ctl: not logged in to " + farm.api));
  auto unreachable =
      ctl({"login", "--api", "http://127.0.0.1:1", "--email", "a@example.com"}, password);
  CHECK(unreachable.status == 1);
  CHECK_THAT(unreachable.output,
             Catch::Contains("cannot reach http://127.0.0.1:1/api/v1/auth/login"));

  // Register (password from the environment): the pair is stored privately.
  auto reg = ctl({"register", "--api", farm.api, "--email", "alice@example.com"}, password);
  INFO(reg.output);
  REQUIRE(reg.status == 0);
  CHECK(mode_of(creds) == 0600);
  CHECK(mode_of(creds.parent_path()) == 0700);
  auto pair = stored(creds);
  CHECK(pair["api"] == farm.api + "/api/v1");
  CHECK(reg.output.find(pair["access_token"].get<std::string>()) == std::string::npos);
  CHECK(reg.output.find(pair["refresh_token"].get<std::string>()) == std::string::npos);

  // Logout revokes and deletes; login again with the password on stdin.
  auto out = ctl({"logout"});
  CHECK(out.status == 0);
  CHECK_FALSE(std::filesystem::exists(creds));
  auto in = ctl_with_stdin(password, {"login", "--api", farm.api, "--email", "alice@example.com"});
  INFO(in.output);
  REQUIRE(in.status == 0);
  CHECK_THAT(in.output,
             Catch::Contains("logged in to " + farm.api + "/api/v1 as alice@example.com"));
  auto wrong =
      ctl({"login", "--api", farm.api, "--email", "alice@example.com"}, "not the password");
  CHECK(wrong.status == 1);
  CHECK_THAT(wrong.output, Catch::Contains("(invalid_credentials, HTTP 401)"));
  CHECK(wrong.output.find("not the password") == std::string::npos);
  CHECK(std::filesystem::exists(creds));  // a failed login keeps the stored one

  auto before = ctl({"credits"});
  INFO(before.output);
  REQUIRE(before.status == 0);
  auto start_balance = number_after(before.output, "balance +([0-9]+) credits");

  // Submit, follow (not a terminal: a line per change) and download.
  auto script = farm.dir.path() / "keeper.fountain";
  std::ofstream(script) << short_film;
  auto films = farm.dir.path() / "films";
  auto submit = ctl(
      {"submit", script.string(), "--title", "The Keeper", "--watch", "--download", films.string()},
      {}, 240s);
  INFO(submit.output << "\n" << farm.log());
  REQUIRE(submit.status == 0);
  auto cost = number_after(submit.output, "plan: [0-9]+ shots, [0-9.]+ s, ([0-9]+) credits");
  CHECK(cost == 3);
  CHECK_THAT(submit.output, Catch::Contains("100%"));
  CHECK_THAT(submit.output, Catch::Contains("complete"));
  std::smatch ids;
  auto text = submit.output;
  REQUIRE(
      std::regex_search(text, ids, std::regex("project ([0-9a-f-]{36})[^]*job ([0-9a-f-]{36})")));
  std::string project = ids[1], job = ids[2];
  CHECK(ffprobe_duration(films / "film.mp4") > 10.0);
  CHECK(contents(films / "film.vtt").starts_with("WEBVTT"));
  CHECK_THAT(contents(films / "film.srt"), Catch::Contains("Someone has to keep it lit."));
  CHECK(std::filesystem::file_size(films / "thumbnail.jpg") > 0);

  auto after = ctl({"credits"});
  CHECK(number_after(after.output, "balance +([0-9]+) credits") == start_balance - cost);
  auto history = ctl({"credits", "history"});
  CHECK(history.status == 0);
  CHECK_THAT(history.output, Catch::Contains("-" + std::to_string(cost)));
  auto job_view = ctl({"job", job, "--shots"});
  INFO(job_view.output);
  CHECK(job_view.status == 0);
  CHECK_THAT(job_view.output, Catch::Contains("status     complete, 100%"));
  CHECK_THAT(job_view.output, Catch::Contains("cost       3 credits"));
  auto list = ctl({"projects"});
  CHECK_THAT(list.output, Catch::Contains(project));
  CHECK_THAT(list.output, Catch::Contains("The Keeper"));

  // A partial film is resumed with Range, byte for byte.
  auto resumed = farm.dir.path() / "resumed";
  std::filesystem::create_directories(resumed);
  auto film = read_file(films / "film.mp4").value();
  std::ofstream(resumed / "film.mp4.part", std::ios::binary) << film.substr(0, 1000);
  auto download = ctl({"download", project, resumed.string()});
  INFO(download.output);
  CHECK(download.status == 0);
  CHECK(contents(resumed / "film.mp4") == film);
  CHECK_FALSE(std::filesystem::exists(resumed / "film.mp4.part"));
  // A part longer than the film (416) starts over.
  std::ofstream(resumed / "film.mp4.part", std::ios::binary) << film << "trailing junk";
  CHECK(ctl({"download", project, resumed.string()}).status == 0);
  CHECK(contents(resumed / "film.mp4") == film);

  // An expired access token (signed with the server's key, exp in the past)
  // is refreshed transparently; the rotated pair is stored.
  auto current = stored(creds);
  auto claims = gateway::jwt_verify(current["access_token"].get<std::string>(), jwt_secret,
                                    "reelfarm", std::time(nullptr));
  REQUIRE(claims);
  claims->issued_at = std::time(nullptr) - 7200;
  claims->expires_at = std::time(nullptr) - 3600;
  current["access_token"] = gateway::jwt_sign(*claims, jwt_secret);
  store(creds, current);
  auto refreshed = ctl({"credits"});
  INFO(refreshed.output);
  CHECK(refreshed.status == 0);
  CHECK(number_after(refreshed.output, "balance +([0-9]+) credits") == start_balance - cost);
  auto rotated = stored(creds);
  CHECK(rotated["access_token"] != current["access_token"]);
  CHECK(rotated["refresh_token"] != current["refresh_token"]);
  // A token that is not valid (rather than expired) is not refreshed.
  rotated["access_token"] = "not-a-token";
  store(creds, rotated);
  auto invalid = ctl({"credits"});
  CHECK(invalid.status == 1);
  CHECK_THAT(invalid.output, Catch::Contains("(invalid_token, HTTP 401)"));
  CHECK(stored(creds)["refresh_token"] == rotated["refresh_token"]);
  auto login = ctl({"login", "--email", "alice@example.com"}, password);  // the stored API
  REQUIRE(login.status == 0);

  // Regenerate reuses every shot: nothing charged.
  auto regen = ctl({"regenerate", project, "--watch"}, {}, 120s);
  INFO(regen.output);
  CHECK(regen.status == 0);
  CHECK(number_after(ctl({"credits"}).output, "balance +([0-9]+) credits") == start_balance - cost);

  // Refused requests: the API's message, code and status.
  auto cancel = ctl({"cancel", project});
  CHECK(cancel.status == 1);
  CHECK_THAT(cancel.output,
             Catch::Matches("(.|\n)*reelfarm ctl: .+ \\(no_render, HTTP 409\\)(.|\n)*"));
  auto nodes = ctl({"nodes", "list"});  // logged in: through the API, admins only
  CHECK(nodes.status == 1);
  CHECK_THAT(nodes.output, Catch::Contains("(forbidden, HTTP 403)"));
  // Explicit: ZeroMQ, with the operator key serve keeps in its data folder.
  auto zeromq = ctl({"nodes", "list", "--coordinator", farm.farm_endpoint, "--operator-key",
                     (farm.data / "secrets" / "farm-operator.json").string()});
  INFO(zeromq.output);
  CHECK(zeromq.status == 0);
  CHECK_THAT(zeromq.output, Catch::Contains("alive"));
  CHECK(ctl({"job", "00000000-0000-0000-0000-000000000000"}).status == 1);

  CHECK(ctl({"logout"}).status == 0);
  CHECK_FALSE(std::filesystem::exists(creds));
  ::unsetenv("REELFARM_CREDENTIALS");
}

TEST_CASE("ctl explains its command line", "[ctl]") {
  temp_dir dir;
  ::setenv("REELFARM_CREDENTIALS", (dir.path() / "none.json").c_str(), 1);
  CHECK(ctl({"frobnicate"}).status == 2);
  CHECK(ctl({"submit"}).status == 2);
  CHECK(ctl({"submit", "x.fountain", "--bogus"}).status == 2);
  auto help = ctl({"--help"});
  CHECK(help.status == 0);
  CHECK_THAT(help.output, Catch::Contains("reelfarm ctl submit FILE.fountain"));
  auto no_password = ctl({"login", "--api", "http://127.0.0.1:1", "--email", "a@example.com"});
  CHECK(no_password.status == 1);
  CHECK_THAT(no_password.output, Catch::Contains("REELFARM_PASSWORD"));
  std::ofstream(dir.path() / "bad.json") << "{not json";
  ::setenv("REELFARM_CREDENTIALS", (dir.path() / "bad.json").c_str(), 1);
  auto bad = ctl({"credits"});
  CHECK(bad.status == 1);
  CHECK_THAT(bad.output, Catch::Contains("is not a Reelfarm credentials file"));
  ::unsetenv("REELFARM_CREDENTIALS");
}
