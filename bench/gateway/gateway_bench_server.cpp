// Starts, in one process: the gateway (2 I/O threads) on a scratch database
// of private PostgreSQL/Redis servers, and a trivial Boost.Beast server
// (2 threads) that answers every request with the exact bytes the gateway
// returns for the benchmarked route. Prints the ports and an access token,
// then serves until SIGINT/SIGTERM. run_bench.sh drives wrk against both.
//
// `gateway_bench_server --login-timing [ROUNDS]` instead measures how long
// a failed login takes for an email with an account (wrong password) and
// for one without, through the whole handler at the live Argon2id cost, and
// prints both medians and their ratio (docs/security.md): near 1 means the
// answer's timing does not tell which emails have accounts.
#include <utility>  // Beast 1.74 under C++20 needs it first

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "reelfarm/common/log.hpp"
#include "reelfarm/common/signals.hpp"
#include "reelfarm/gateway/http_server.hpp"
#include "reelfarm/testing/services.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// The baseline: parse, answer the fixed body, keep alive. Nothing else.
class trivial_session : public std::enable_shared_from_this<trivial_session> {
 public:
  trivial_session(tcp::socket s, const std::string& body) : stream_(std::move(s)), body_(body) {}
  void read() {
    req_ = {};
    http::async_read(stream_, buffer_, req_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (!ec) {
                         self->write();
                       }
                     });
  }

 private:
  void write() {
    res_ = {};
    res_.version(11);
    res_.result(http::status::ok);
    res_.set(http::field::server, "reelfarm");
    res_.set(http::field::content_type, "application/json");
    res_.set("X-Request-Id", "0123456789abcdef0123456789abcdef");
    res_.body() = body_;
    res_.keep_alive(req_.keep_alive());
    res_.prepare_payload();
    http::async_write(stream_, res_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (!ec) {
                          self->read();
                        }
                      });
  }
  beast::tcp_stream stream_;
  const std::string& body_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

void accept_loop(tcp::acceptor& acceptor, const std::string& body) {
  acceptor.async_accept([&](beast::error_code ec, tcp::socket s) {
    if (!ec) {
      s.set_option(tcp::no_delay(true));
      std::make_shared<trivial_session>(std::move(s), body)->read();
    }
    accept_loop(acceptor, body);
  });
}

void raise_fd_limit() {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

double percentile_90(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[std::min(v.size() - 1, v.size() * 9 / 10)];
}

// Failed logins, known email vs unknown email, alternating so that load on
// the machine hits both alike. In process (no sockets): the figure is the
// handler's, which is what an attacker times once network jitter averages out.
int login_timing(int rounds) {
  using namespace reelfarm;
  testing::scratch_database db;
  gateway::gateway_options o;
  o.jwt_secret = std::string(48, 'b');
  // Argon2id at the store's default (live) cost: password_ops/memory unset.
  o.limits.login_per_ip = 0;  // 0: no per-address limit, or the run would be refused
  // The per-account limiter runs (one Redis call per attempt, on both
  // paths) but never locks.
  o.limits.per_account.attempts = 1'000'000;
  gateway::gateway_backends backends;
  backends.postgres_dsn = db.dsn();
  backends.redis_url = testing::test_services().redis_url;
  auto made = gateway::api::create(o, backends);
  if (!made) {
    std::fprintf(stderr, "%s\n", made.error().full_text().c_str());
    return 1;
  }
  auto& app = **made;
  auto call = [&](const std::string& path, const std::string& body) {
    gateway::http_request r;
    r.method = "POST";
    r.path = r.target = path;
    r.headers = {{"content-type", "application/json"}};
    r.body = body;
    r.remote_ip = "10.0.0.1";
    return app.handle(r);
  };
  auto registered = call("/api/v1/auth/register",
                         R"({"email":"known@example.com","password":"the-right-password"})");
  if (registered.status != 201) {
    std::fprintf(stderr, "cannot register: %s\n", registered.body.c_str());
    return 1;
  }
  using clock = std::chrono::steady_clock;
  auto timed = [&](const std::string& body, std::vector<double>& into) {
    auto start = clock::now();
    auto res = call("/api/v1/auth/login", body);
    into.push_back(std::chrono::duration<double, std::milli>(clock::now() - start).count());
    return res.status;
  };
  std::vector<double> known;
  std::vector<double> unknown;
  // One untimed round of each first: connections, caches.
  std::vector<double> warm;
  (void)timed(R"({"email":"known@example.com","password":"wrong-password"})", warm);
  (void)timed(R"({"email":"nobody-0@example.com","password":"wrong-password"})", warm);
  for (int i = 0; i < rounds; ++i) {
    auto a = timed(R"({"email":"known@example.com","password":"wrong-password"})", known);
    auto b = timed(R"({"email":"nobody-)" + std::to_string(i + 1) +
                       R"(@example.com","password":"wrong-password"})",
                   unknown);
    if (a != 401 || b != 401) {
      std::fprintf(stderr, "a failed login answered %d / %d, not 401\n", a, b);
      return 1;
    }
  }
  auto k = median(known);
  auto u = median(unknown);
  std::printf("login timing: %d rounds, Argon2id at the default cost\n", rounds);
  std::printf("known email, wrong password: median %.2f ms, p90 %.2f ms\n", k,
              percentile_90(known));
  std::printf("unknown email:               median %.2f ms, p90 %.2f ms\n", u,
              percentile_90(unknown));
  std::printf("ratio known/unknown: %.3f\n", u > 0 ? k / u : 0.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace reelfarm;
  raise_fd_limit();
  signals::install_stop_handlers();
  log::configure(log::level::warn, log::format::kv);
  if (argc > 1 && std::string_view(argv[1]) == "--login-timing") {
    return login_timing(argc > 2 ? std::max(1, std::atoi(argv[2])) : 30);
  }
  int port = argc > 1 ? std::atoi(argv[1]) : 18080;
  int baseline_port = argc > 2 ? std::atoi(argv[2]) : 18081;

  testing::scratch_database db;
  gateway::gateway_options o;
  o.port = port;
  o.io_threads = 2;
  o.jwt_secret = std::string(48, 'b');
  o.limits.per_user = 100'000'000;  // the limiter runs, but never refuses
  o.max_connections = 20'000;
  o.idle_timeout = std::chrono::seconds(120);
  gateway::gateway_backends backends;
  backends.postgres_dsn = db.dsn();
  backends.redis_url = testing::test_services().redis_url;
  auto server = gateway::http_server::start(o, backends);
  if (!server) {
    std::fprintf(stderr, "%s\n", server.error().full_text().c_str());
    return 1;
  }
  // One user, one project, one queued job: the bench reads the job back.
  auto& app = (*server)->api();
  gateway::http_request reg;
  reg.method = "POST";
  reg.path = reg.target = "/api/v1/auth/register";
  reg.headers = {{"content-type", "application/json"}};
  reg.body = R"({"email":"bench@example.com","password":"bench-password"})";
  reg.remote_ip = "10.0.0.1";
  auto registered = app.handle(reg);
  auto token = nlohmann::json::parse(registered.body)["access_token"].get<std::string>();
  // A project with a queued render job: the benchmarked route is its status,
  // what every follower of a render polls.
  auto call = [&](const char* method, const std::string& path, const std::string& body) {
    gateway::http_request r;
    r.method = method;
    r.path = r.target = path;
    r.headers = {{"authorization", "Bearer " + token}, {"content-type", "application/json"}};
    r.body = body;
    r.remote_ip = "10.0.0.1";
    return app.handle(r);
  };
  auto project = call("POST", "/api/v1/projects",
                      R"({"title":"Bench","script":"INT. ROOM - DAY\n\nA lamp.\n"})");
  auto project_id = nlohmann::json::parse(project.body)["id"].get<std::string>();
  auto job = call("POST", "/api/v1/projects/" + project_id + "/render", "");
  auto job_json = nlohmann::json::parse(job.body, nullptr, false);
  if (job.status != 202) {
    std::fprintf(stderr, "cannot queue the benchmark job: %s\n", job.body.c_str());
    return 1;
  }
  std::string route =
      argc > 3 ? argv[3] : "/api/v1/jobs/" + job_json["job"]["id"].get<std::string>();
  gateway::http_request get;
  get.method = "GET";
  get.path = get.target = route;
  get.headers = {{"authorization", "Bearer " + token}};
  auto sample = app.handle(get);

  asio::io_context ioc(2);
  tcp::acceptor acceptor(
      ioc, {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(baseline_port)});
  accept_loop(acceptor, sample.body);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&] { ioc.run(); });
  }
  std::printf("gateway_port=%d\nbaseline_port=%d\nroute=%s\nbody_bytes=%zu\ntoken=%s\n",
              (*server)->port(), baseline_port, route.c_str(), sample.body.size(), token.c_str());
  std::fflush(stdout);
  while (!signals::wait_for_stop(std::chrono::seconds(1))) {
  }
  ioc.stop();
  for (auto& t : threads) {
    t.join();
  }
  (*server)->stop();
  return 0;
}
