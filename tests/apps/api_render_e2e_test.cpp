// The whole flow through the HTTP API with the real binaries: `reelfarm
// serve` (gateway, coordinator, render actors, embedded PostgreSQL and
// Redis) and two `reelfarm node` processes. A user registers, creates a
// project, renders it, follows the live progress (SSE, resumed with
// Last-Event-ID), downloads the film with and without Range, regenerates it
// without being charged again, and cancels another render; another user
// sees none of it; an operator lists and drains nodes.
#include <curl/curl.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <regex>
#include <thread>

#include "reelfarm/youtube/http_client.hpp"
#include "serve_farm.hpp"
#include "support/local_youtube.hpp"

using namespace reelfarm;
using namespace reelfarm::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

struct reply {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
  json parsed() const { return json::parse(body, nullptr, false); }
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* out) {
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    auto name = line.substr(0, colon);
    for (auto& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    value.erase(value.find_last_not_of("\r\n") + 1);
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * n;
}

reply call(const std::string& method, const std::string& url, const std::string& token = {},
           const std::string& body = {}, std::vector<std::string> headers = {}) {
  reply r;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  if (!token.empty()) {
    headers.push_back("Authorization: Bearer " + token);
  }
  headers.push_back("Content-Type: application/json");
  for (const auto& h : headers) {
    list = curl_slist_append(list, h.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST" || method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return r;
}

/// An SSE event as the client parsed it.
struct sse_event {
  std::string id;
  std::string type;
  json data;
};

struct sse_reader {
  std::string buffer;
  std::vector<sse_event> events;
  bool stop_on_finish = true;
  bool finished = false;

  void parse() {
    for (auto end = buffer.find("\n\n"); end != std::string::npos; end = buffer.find("\n\n")) {
      auto block = buffer.substr(0, end);
      buffer.erase(0, end + 2);
      sse_event e;
      std::string data;
      std::size_t pos = 0;
      while (pos <= block.size()) {
        auto nl = block.find('\n', pos);
        auto line = block.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        if (line.starts_with("id: ")) {
          e.id = line.substr(4);
        } else if (line.starts_with("event: ")) {
          e.type = line.substr(7);
        } else if (line.starts_with("data: ")) {
          data += line.substr(6);
        }
        if (nl == std::string::npos) {
          break;
        }
        pos = nl + 1;
      }
      if (e.type.empty()) {
        continue;  // retry: and keep-alive comments
      }
      e.data = json::parse(data, nullptr, false);
      auto status = e.data.is_object() ? e.data.value("status", "") : "";
      if (status == "complete" || status == "failed" || status == "cancelled") {
        finished = true;
      }
      events.push_back(std::move(e));
    }
  }
};

std::size_t on_events(char* data, std::size_t size, std::size_t n, void* out) {
  auto* reader = static_cast<sse_reader*>(out);
  reader->buffer.append(data, size * n);
  reader->parse();
  return reader->finished && reader->stop_on_finish ? 0 : size * n;  // 0 ends the transfer
}

/// Follows the project's events until a job finishes or `timeout` passes.
sse_reader follow(const std::string& url, const std::string& token, const std::string& last_id,
                  long timeout_s, long* status = nullptr) {
  sse_reader reader;
  CURL* curl = curl_easy_init();
  curl_slist* list = curl_slist_append(nullptr, ("Authorization: Bearer " + token).c_str());
  if (!last_id.empty()) {
    list = curl_slist_append(list, ("Last-Event-ID: " + last_id).c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_events);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reader);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_perform(curl);
  if (status != nullptr) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return reader;
}

std::vector<std::string> with_rate_limit_off(std::vector<std::string> settings) {
  settings.push_back("gateway.rate_limit_per_user=100000");
  return settings;
}

/// serve + two nodes, with the helpers these tests share.
struct farm_under_test : serve_farm {
  /// `settings`: extra "section.key=value" for serve.
  explicit farm_under_test(std::vector<std::string> settings = {})
      : serve_farm(with_rate_limit_off(std::move(settings))) {}

  std::string user(const std::string& email) {
    auto r = call(
        "POST", base + "/auth/register", {},
        json{{"email", email}, {"password", "a long enough password"}, {"full_name", "T"}}.dump());
    INFO(r.body);
    REQUIRE(r.status == 201);
    return r.parsed()["access_token"].get<std::string>();
  }

  json wait_job(const std::string& token, const std::string& job_id,
                std::chrono::seconds timeout = 180s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    json job;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = call("GET", base + "/jobs/" + job_id, token);
      REQUIRE(r.status == 200);
      job = r.parsed();
      auto status = job["status"].get<std::string>();
      if (status == "complete" || status == "failed" || status == "cancelled") {
        return job;
      }
      std::this_thread::sleep_for(200ms);
    }
    FAIL("job " << job_id << " did not finish: " << job.dump() << "\n" << log());
    return job;
  }
};

std::int64_t balance(const farm_under_test& farm, const std::string& token) {
  auto r = call("GET", farm.base + "/credits/balance", token);
  REQUIRE(r.status == 200);
  return r.parsed()["balance"].get<std::int64_t>();
}

std::string create_project(const farm_under_test& farm, const std::string& token,
                           const std::string& title) {
  auto r = call("POST", farm.base + "/projects", token,
                json{{"title", title}, {"script", short_film}}.dump());
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.parsed()["id"].get<std::string>();
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

}  // namespace

TEST_CASE("a screenplay becomes a film through the HTTP API, followed live", "[api][e2e]") {
  farm_under_test farm;
  auto alice = farm.user("alice@example.com");
  auto eve = farm.user("eve@example.com");
  auto start_balance = balance(farm, alice);
  auto project = create_project(farm, alice, "The Keeper");

  // Render: priced before queueing, 202 with the job and where to follow it.
  auto rendered = call("POST", farm.base + "/projects/" + project + "/render", alice);
  INFO(rendered.body);
  REQUIRE(rendered.status == 202);
  auto job = rendered.parsed()["job"];
  auto job_id = job["id"].get<std::string>();
  CHECK(rendered.headers["location"] == "/api/v1/jobs/" + job_id);
  auto cost = rendered.parsed()["plan"]["cost_credits"].get<std::int64_t>();
  CHECK(cost == 3);  // under a minute: 3 credits per started minute
  CHECK(call("POST", farm.base + "/projects/" + project + "/render", alice).status == 409);

  // Another user sees nothing of it.
  CHECK(call("GET", farm.base + "/jobs/" + job_id, eve).status == 404);
  CHECK(call("DELETE", farm.base + "/jobs/" + job_id, eve).status == 404);
  long eve_status = 0;
  follow(farm.base + "/projects/" + project + "/events", eve, {}, 5, &eve_status);
  CHECK(eve_status == 404);

  // Live progress until the film is complete.
  auto live = follow(farm.base + "/projects/" + project + "/events", alice, {}, 240);
  INFO(farm.log());
  REQUIRE(live.finished);
  REQUIRE(live.events.size() >= 3);
  CHECK(live.events.front().type == "state");  // the snapshot a new follower gets first
  CHECK(live.events.back().data["status"] == "complete");
  CHECK(live.events.back().data["job"] == job_id);
  std::vector<std::string> ids;
  for (const auto& e : live.events) {
    if (!e.id.empty()) {
      ids.push_back(e.id);
    }
  }
  REQUIRE(ids.size() >= 2);
  // Resuming from an earlier event id replays exactly what came after it.
  auto resumed =
      follow(farm.base + "/projects/" + project + "/events", alice, ids[ids.size() - 2], 20);
  REQUIRE(resumed.events.size() >= 1);
  CHECK(resumed.events.front().id == ids.back());
  CHECK(call("GET", farm.base + "/projects/" + project + "/events", alice, {},
             {"Last-Event-ID: ../../etc"})
            .status == 400);

  auto done = farm.wait_job(alice, job_id);
  CHECK(done["status"] == "complete");
  CHECK(done["progress"] == 100);
  CHECK(done["cost_credits"] == cost);
  CHECK(balance(farm, alice) == start_balance - cost);
  auto with_shots = call("GET", farm.base + "/jobs/" + job_id + "?shots=true", alice).parsed();
  REQUIRE(with_shots["shots"].size() == static_cast<std::size_t>(done["shots_total"].get<int>()));

  // Downloads: the whole film, a range of it, subtitles, thumbnail.
  auto film = call("GET", farm.base + "/projects/" + project + "/media/film", alice);
  REQUIRE(film.status == 200);
  CHECK(film.headers["content-type"] == "video/mp4");
  CHECK(film.headers["accept-ranges"] == "bytes");
  auto film_file = farm.dir.path() / "film.mp4";
  {
    std::ofstream out(film_file, std::ios::binary);
    out << film.body;
  }
  CHECK(ffprobe_duration(film_file) > 10.0);
  auto part = call("GET", farm.base + "/projects/" + project + "/media/film", alice, {},
                   {"Range: bytes=100-1123"});
  REQUIRE(part.status == 206);
  CHECK(part.body == film.body.substr(100, 1024));
  CHECK(part.headers["content-range"] == "bytes 100-1123/" + std::to_string(film.body.size()));
  auto tail = call("GET", farm.base + "/projects/" + project + "/media/film", alice, {},
                   {"Range: bytes=-10"});
  CHECK(tail.body == film.body.substr(film.body.size() - 10));
  auto beyond = call("GET", farm.base + "/projects/" + project + "/media/film", alice, {},
                     {"Range: bytes=" + std::to_string(film.body.size()) + "-"});
  CHECK(beyond.status == 416);
  CHECK(beyond.headers["content-range"] == "bytes */" + std::to_string(film.body.size()));
  auto vtt = call("GET", farm.base + "/projects/" + project + "/media/vtt", alice);
  CHECK(vtt.status == 200);
  CHECK(vtt.body.starts_with("WEBVTT"));
  CHECK_THAT(vtt.body, Catch::Contains("Someone has to keep it lit."));
  CHECK(call("GET", farm.base + "/projects/" + project + "/media/thumbnail", alice)
            .headers["content-type"] == "image/jpeg");
  CHECK(call("GET", farm.base + "/projects/" + project + "/media/film", eve).status == 404);
  CHECK(
      call("GET", farm.base + "/projects/" + project + "/media/..%2F..%2Fsecrets", alice).status ==
      404);
  CHECK(call("GET", farm.base + "/projects/" + project + "/media/passwd", alice).status == 404);

  // Regenerate: nothing changed, so every shot is reused and nothing charged.
  auto again = call("POST", farm.base + "/projects/" + project + "/regenerate", alice);
  INFO(again.body);
  REQUIRE(again.status == 202);
  auto regen = farm.wait_job(alice, again.parsed()["job"]["id"].get<std::string>());
  CHECK(regen["status"] == "complete");
  CHECK(regen["cost_credits"] == 0);
  CHECK(balance(farm, alice) == start_balance - cost);
}

TEST_CASE("a render cancelled through the API stops, and the ledger follows the rules",
          "[api][e2e]") {
  farm_under_test farm;
  auto bob = farm.user("bob@example.com");
  auto start_balance = balance(farm, bob);
  auto project = create_project(farm, bob, "Cancelled");
  auto rendered = call("POST", farm.base + "/projects/" + project + "/render", bob);
  REQUIRE(rendered.status == 202);
  auto job_id = rendered.parsed()["job"]["id"].get<std::string>();
  auto cost = rendered.parsed()["plan"]["cost_credits"].get<std::int64_t>();
  // Wait until shots render, so the cancel comes after the charge.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (call("GET", farm.base + "/jobs/" + job_id, bob).parsed()["status"] == "queued" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  auto cancelled = call("POST", farm.base + "/projects/" + project + "/cancel", bob);
  INFO(cancelled.body);
  if (cancelled.status == 409) {
    SUCCEED("the render finished before the cancel arrived");
    return;
  }
  REQUIRE(cancelled.status == 200);
  auto charge = cancelled.parsed()["charge"].get<std::string>();
  auto job = farm.wait_job(bob, job_id, 30s);
  CHECK(job["status"] == "cancelled");
  CHECK(balance(farm, bob) == (charge == "kept" ? start_balance - cost : start_balance));
  CHECK(call("DELETE", farm.base + "/jobs/" + job_id, bob).status == 409);
  CHECK(call("POST", farm.base + "/projects/" + project + "/cancel", bob).status == 409);
  // The render service let go of it: a new render of the project is accepted.
  auto next = call("POST", farm.base + "/projects/" + project + "/render", bob);
  CHECK((next.status == 202 || next.status == 402));
}

TEST_CASE("operators list and drain render nodes through the API", "[api][e2e]") {
  farm_under_test farm;
  auto creator = farm.user("creator@example.com");
  auto admin = farm.user("admin@example.com");
  {
    pqxx::connection conn(farm.dsn());
    pqxx::work tx(conn);
    tx.exec0("UPDATE users SET role = 'admin' WHERE email = 'admin@example.com'");
    tx.commit();
  }
  auto login =
      call("POST", farm.base + "/auth/login", {},
           json{{"email", "admin@example.com"}, {"password", "a long enough password"}}.dump());
  REQUIRE(login.status == 200);
  admin = login.parsed()["access_token"].get<std::string>();
  CHECK(call("GET", farm.base + "/nodes", creator).status == 403);
  json nodes;
  for (int i = 0; i < 100; ++i) {
    auto r = call("GET", farm.base + "/nodes", admin);
    REQUIRE(r.status == 200);
    nodes = r.parsed()["items"];
    if (nodes.size() == 2) {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  REQUIRE(nodes.size() == 2);
  auto id = nodes[0]["id"].get<std::string>();
  CHECK(call("POST", farm.base + "/nodes/" + id + "/drain", admin).status == 200);
  auto after = call("GET", farm.base + "/nodes", admin).parsed()["items"];
  bool drained = false;
  for (const auto& n : after) {
    drained = drained || (n["id"] == id && n["state"] == "draining") ||
              (n["id"] == id && n["state"] == "drained");
  }
  CHECK(drained);
  CHECK(call("POST", farm.base + "/nodes/" + id + "/undrain", admin).status == 200);
  CHECK(call("POST", farm.base + "/nodes/no-such-node/drain", admin).status == 404);
  CHECK(call("POST", farm.base + "/nodes/%2E%2E/drain", admin).status == 404);

  // A render asking for a backend no live node offers is refused at submit,
  // naming what is on offer, and nothing is queued or charged.
  auto project = create_project(farm, creator, "Unrenderable");
  auto before = balance(farm, creator);
  auto refused = call("POST", farm.base + "/projects/" + project + "/render", creator,
                      json{{"settings", {{"backend", "comfyui"}}}}.dump());
  INFO(refused.body);
  CHECK(refused.status == 422);
  CHECK(refused.parsed()["error"]["code"] == "backend_unavailable");
  CHECK_THAT(refused.body, Catch::Contains("comfyui") && Catch::Contains("on offer: animatic"));
  CHECK(balance(farm, creator) == before);
  pqxx::connection conn(farm.dsn());
  pqxx::nontransaction tx(conn);
  CHECK(tx.exec_params1("SELECT count(*) FROM ai_jobs WHERE project_id = $1::uuid", project)[0]
            .as<int>() == 0);
}

TEST_CASE("a rendered film is published to YouTube through the API, byte for byte",
          "[api][e2e][youtube]") {
  local_youtube yt;
  const auto o = yt.options();
  farm_under_test farm(
      {"youtube.client_id=" + o.client_id, "youtube.client_secret=" + o.client_secret,
       "youtube.token_key=" + o.token_key, "youtube.redirect_uri=" + o.redirect_uri,
       "youtube.auth_url=" + o.auth_url, "youtube.token_url=" + o.token_url,
       "youtube.revoke_url=" + o.revoke_url, "youtube.api_url=" + o.api_url,
       "youtube.upload_url=" + o.upload_url, "youtube.chunk_size=262144"});
  auto alice = farm.user("alice@example.com");
  auto eve = farm.user("eve@example.com");
  auto project = create_project(farm, alice, "The Keeper");
  auto too_early = call("POST", farm.base + "/projects/" + project + "/youtube", alice, "{}");
  CHECK(too_early.status == 409);  // no film yet
  auto rendered = call("POST", farm.base + "/projects/" + project + "/render", alice);
  REQUIRE(rendered.status == 202);
  auto job = farm.wait_job(alice, rendered.parsed()["job"]["id"].get<std::string>());
  REQUIRE(job["status"] == "complete");

  // Connect the channel as a browser would: consent page, then the callback.
  auto consent = call("GET", farm.base + "/youtube/connect", alice);
  REQUIRE(consent.status == 200);
  const auto url = consent.parsed()["url"].get<std::string>();
  auto at = url.find("state=") + 6;
  const auto state = url.substr(at, url.find('&', at) - at);
  const auto code = yt.consent(url, state);
  // The browser that asked carries the nonce cookie the state is bound to.
  const auto set_cookie = consent.headers["set-cookie"];
  REQUIRE(set_cookie.starts_with("reelfarm_oauth="));
  auto connected = call(
      "GET", farm.base + "/youtube/callback?code=" + youtube::url_encode(code) + "&state=" + state,
      {}, {}, {"Cookie: " + set_cookie.substr(0, set_cookie.find(';'))});
  INFO(connected.body);
  REQUIRE(connected.status == 200);

  // A hostile network on the way: each fault hits the next chunk request
  // (the animatic film is under a megabyte).
  yt.control("faults", {{"faults",
                         {{{"kind", "status"}, {"code", 503}},
                          {{"kind", "partial"}, {"keep", 262144}},
                          {{"kind", "drop"}}}}});
  CHECK(call("POST", farm.base + "/projects/" + project + "/youtube", eve, "{}").status == 404);
  auto queued = call("POST", farm.base + "/projects/" + project + "/youtube", alice,
                     json{{"title", "The Keeper"},
                          {"tags", {"reelfarm"}},
                          {"privacy_status", "unlisted"},
                          {"playlist", "Reelfarm films"},
                          {"create_playlist", true}}
                         .dump());
  INFO(queued.body);
  REQUIRE(queued.status == 202);
  const auto upload = queued.parsed()["id"].get<std::string>();
  json record;
  for (int i = 0; i < 600; ++i) {
    record = call("GET", farm.base + "/youtube/videos/" + upload, alice).parsed();
    if (record["status"] == "complete" || record["status"] == "failed") {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  INFO(record.dump() << "\n" << farm.log());
  REQUIRE(record["status"] == "complete");
  CHECK_FALSE(record["playlist_id"].is_null());
  CHECK_FALSE(record["thumbnail_url"].is_null());

  auto film = call("GET", farm.base + "/projects/" + project + "/media/film", alice);
  REQUIRE(film.status == 200);
  auto film_file = farm.dir.path() / "film.mp4";
  {
    std::ofstream out(film_file, std::ios::binary);
    out << film.body;
  }
  auto videos = yt.read("videos")["videos"];
  REQUIRE(videos.size() == 1);
  CHECK(videos[0]["id"] == record["video_id"]);
  CHECK(videos[0]["size"] == film.body.size());
  CHECK(videos[0]["sha256"] == sha256_file(film_file));
  CHECK(yt.read("stats")["pending_faults"] == 0);
  auto listed = call("GET", farm.base + "/youtube/videos", alice).parsed();
  CHECK(listed["items"].size() == 1);
  CHECK(call("GET", farm.base + "/youtube/videos", eve).parsed()["items"].empty());
}
