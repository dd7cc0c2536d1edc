#include "reelfarm/gateway/http_server.hpp"

#include <utility>  // Beast 1.74 under C++20 needs it first

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "beast_request.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/gateway/errc.hpp"
#include "reelfarm/gateway/token_codec.hpp"

namespace reelfarm::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class session;

struct server_impl {
  server_impl(const gateway_options& o, std::unique_ptr<gateway::api> a)
      : options(o),
        app(std::move(a)),
        ioc(o.io_threads),
        acceptor(ioc),
        blocking(static_cast<std::size_t>(std::max(1, o.blocking_threads))) {}

  void accept();
  void stop();
  void add(session* s, std::weak_ptr<session> w);
  void remove(session* s);

  gateway_options options;
  std::unique_ptr<gateway::api> app;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  asio::thread_pool blocking;
  std::vector<std::thread> threads;
  int port = 0;
  std::atomic<bool> stopping{false};
  bool stopped = false;
  std::atomic<std::int64_t> requests{0};
  std::atomic<std::int64_t> accepted{0};
  std::mutex sessions_mutex;
  std::condition_variable drained;
  std::unordered_map<session*, std::weak_ptr<session>> sessions;
  // Connections taken over by a streaming response, each on its own thread.
  std::mutex streams_mutex;
  std::condition_variable streams_done;
  std::size_t streams = 0;
  std::unordered_map<std::string, std::size_t> streams_by_user;  ///< by stream_owner
  std::unordered_set<int> stream_fds;  ///< cut off when a stop's deadline passes

  enum class stream_start { started, server_full, user_full };
  /// Runs `res.takeover` on a thread of its own, unless the server or the
  /// stream's owner already has as many as allowed.
  stream_start start_stream(int fd, http_response res);
};

// One connection: wait for bytes (idle timeout), read a header (header
// timeout), read the body (body timeout), answer, repeat. Strictly one
// request at a time, so pipelined requests are answered in order.
class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket socket, server_impl& server) : stream_(std::move(socket)), server_(server) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    remote_ip_ = ec ? std::string("unknown") : ep.address().to_string();
  }
  ~session() { server_.remove(this); }

  void start() {
    server_.add(this, weak_from_this());
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->wait(); });
  }

  // Called on stop: idle and half-read connections close now; a request
  // being handled finishes and its response carries Connection: close.
  void stop() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) {
        beast::error_code ec;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        self->stream_.close();
      }
    });
  }

 private:
  void wait() {
    if (server_.stopping) {
      return close();
    }
    if (buffer_.size() > 0) {
      return read_header();  // a pipelined request is already here
    }
    stream_.expires_after(server_.options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(2048),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->buffer_.commit(n);
                              if (ec) {
                                return self->close();
                              }
                              self->read_header();
                            });
  }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.header_limit));
    parser_->body_limit(
        std::max(server_.options.json_body_limit, server_.options.upload_body_limit));
    stream_.expires_after(server_.options.header_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) {
      return fail_read(ec);
    }
    const auto& req = parser_->get();
    std::string path(req.target().substr(0, req.target().find('?')));
    std::string method(req.method_string());
    auto limit = server_.app->body_limit(method, path);
    if (req.payload_size() && *req.payload_size() > limit) {
      return refuse(413, "body_too_large",
                    "the body is larger than " + std::to_string(limit) + " bytes");
    }
    parser_->body_limit(limit);
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      return send_continue();
    }
    read_body();
  }

  void send_continue() {
    static const char reply[] = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_after(server_.options.write_timeout);
    asio::async_write(stream_, asio::buffer(reply, sizeof reply - 1),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) {
                          return self->close();
                        }
                        self->read_body();
                      });
  }

  void read_body() {
    if (parser_->is_done()) {
      return on_body({});
    }
    stream_.expires_after(server_.options.body_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
  }

  void on_body(beast::error_code ec) {
    if (ec) {
      return fail_read(ec);
    }
    keep_alive_ = parser_->get().keep_alive();
    auto request = std::make_shared<http_request>(to_http_request(parser_->release()));
    request->remote_ip = remote_ip_;
    busy_ = true;
    ++server_.requests;
    if (!server_.app->blocking(request->method, request->path, request->query)) {
      return write(server_.app->handle(*request));
    }
    asio::post(server_.blocking, [self = shared_from_this(), request] {
      auto response = self->server_.app->handle(*request);
      asio::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        self->write(std::move(response));
      });
    });
  }

  // A request that could not be read: say why where the client can still
  // listen, then close (the stream is out of sync after a parse error).
  void fail_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
      return close();
    }
    if (server_.stopping) {
      return close();
    }
    if (ec == beast::error::timeout) {
      return refuse(408, "request_timeout", "the request did not arrive in time");
    }
    if (ec == http::error::header_limit) {
      return refuse(431, "header_too_large",
                    "the request header is larger than " +
                        std::to_string(server_.options.header_limit) + " bytes");
    }
    if (ec == http::error::body_limit) {
      return refuse(413, "body_too_large", "the body is larger than this route accepts");
    }
    refuse(400, "bad_request", "malformed HTTP request: " + ec.message());
  }

  void refuse(int status, std::string_view code, const std::string& message) {
    keep_alive_ = false;
    busy_ = true;
    auto res = error_response(status, code, message);
    res.set_header("X-Request-Id", random_request_id());
    write(std::move(res));
  }

  void write(http_response res) {
    if (res.takeover) {
      return hand_over(std::move(res));
    }
    bool keep = keep_alive_ && !server_.stopping;
    auto out = std::make_shared<http::response<http::string_body>>();
    out->version(11);
    out->result(static_cast<unsigned>(res.status));
    out->set(http::field::server, "reelfarm");
    if (!res.content_type.empty()) {
      out->set(http::field::content_type, res.content_type);
    }
    // insert, not set: a response may carry several Set-Cookie headers
    // (set_header keeps every other name unique).
    for (auto& [name, value] : res.headers) {
      out->insert(name, value);
    }
    out->body() = std::move(res.body);
    out->keep_alive(keep);
    out->prepare_payload();
    stream_.expires_after(server_.options.write_timeout);
    http::async_write(stream_, *out,
                      [self = shared_from_this(), out, keep](beast::error_code ec, std::size_t) {
                        self->busy_ = false;
                        if (ec || !keep) {
                          return self->close();
                        }
                        self->wait();
                      });
  }

  // A streaming response owns the connection from here: it gets a duplicate
  // of the socket and this session ends. The socket stays non-blocking: a
  // stream waits for room with a deadline (write_fully, wait_writable), so
  // a client that stops reading cannot hold its thread for ever.
  void hand_over(http_response res) {
    int fd = ::dup(stream_.socket().native_handle());
    if (fd >= 0) {
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    auto started =
        fd < 0 ? server_impl::stream_start::server_full : server_.start_stream(fd, std::move(res));
    if (started != server_impl::stream_start::started) {
      if (fd >= 0) {
        ::close(fd);
      }
      keep_alive_ = false;
      http_response busy;
      if (started == server_impl::stream_start::user_full) {
        busy = error_response(
            429, "too_many_streams",
            "you already have " + std::to_string(server_.options.max_streams_per_user) +
                " event streams and downloads open on this server, the most one user may; close "
                "one and retry");
      } else {
        busy = error_response(503, "too_many_streams",
                              "the server follows too many streams; retry in a moment");
      }
      busy.set_header("Retry-After", "2");
      return write(std::move(busy));
    }
    busy_ = false;
    beast::error_code ec;
    stream_.socket().close(ec);  // the duplicate keeps the connection open
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  server_impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string remote_ip_;
  bool keep_alive_ = true;
  bool busy_ = false;
};

server_impl::stream_start server_impl::start_stream(int fd, http_response res) {
  auto owner = res.stream_owner;
  {
    std::lock_guard lock(streams_mutex);
    if (stopping || streams >= options.max_streams) {
      return stream_start::server_full;
    }
    if (!owner.empty()) {
      auto& mine = streams_by_user[owner];
      if (mine >= options.max_streams_per_user) {
        if (mine == 0) {
          streams_by_user.erase(owner);
        }
        return stream_start::user_full;
      }
      ++mine;
    }
    ++streams;
    stream_fds.insert(fd);
  }
  std::thread([this, fd, owner, res = std::move(res)] {
    try {
      res.takeover(fd, serialize_head(res), stopping);
    } catch (const std::exception& e) {
      log::error("gateway", "stream failed", {{"error", e.what()}});
    }
    std::lock_guard lock(streams_mutex);
    stream_fds.erase(fd);
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    if (!owner.empty()) {
      if (auto it = streams_by_user.find(owner); it != streams_by_user.end() && --it->second == 0) {
        streams_by_user.erase(it);
      }
    }
    --streams;
    streams_done.notify_all();
  }).detach();
  return stream_start::started;
}

void server_impl::add(session* s, std::weak_ptr<session> w) {
  std::lock_guard lock(sessions_mutex);
  sessions.emplace(s, std::move(w));
}

void server_impl::remove(session* s) {
  std::lock_guard lock(sessions_mutex);
  sessions.erase(s);
  if (sessions.empty()) {
    drained.notify_all();
  }
}

void server_impl::accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || stopping) {
      return;
    }
    if (ec) {
      // Out of descriptors or similar: back off briefly rather than spin.
      log::warn("gateway", "accept failed", {{"error", ec.message()}});
      auto timer = std::make_shared<asio::steady_timer>(ioc, std::chrono::milliseconds(50));
      timer->async_wait([this, timer](beast::error_code) { accept(); });
      return;
    }
    ++accepted;
    bool full = false;
    {
      std::lock_guard lock(sessions_mutex);
      full = sessions.size() >= options.max_connections;
    }
    if (!full) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<session>(std::move(socket), *this)->start();
    }
    accept();
  });
}

void server_impl::stop() {
  if (stopped) {
    return;
  }
  stopped = true;
  {
    // Under the registry lock: a session registered after this point sees
    // `stopping` in its first wait() and closes itself.
    std::lock_guard lock(sessions_mutex);
    stopping = true;
  }
  asio::post(acceptor.get_executor(), [this] {
    beast::error_code ec;
    acceptor.close(ec);
  });
  std::vector<std::shared_ptr<session>> live;
  {
    std::lock_guard lock(sessions_mutex);
    for (auto& [raw, weak] : sessions) {
      if (auto s = weak.lock()) {
        live.push_back(std::move(s));
      }
    }
  }
  for (auto& s : live) {
    s->stop();
  }
  live.clear();
  {
    std::unique_lock lock(sessions_mutex);
    drained.wait_for(lock, options.drain_timeout, [this] { return sessions.empty(); });
  }
  blocking.join();
  {
    // Streams watch `stopping` and end within a second or so. One that has
    // not ended by the deadline (stuck in a send, a Redis read) has its
    // connection cut, which ends any wait on it; then it is waited for.
    std::unique_lock lock(streams_mutex);
    if (!streams_done.wait_for(lock, options.drain_timeout, [this] { return streams == 0; })) {
      log::warn("gateway", "streams still open at the stop deadline: cutting them off",
                {{"streams", static_cast<std::int64_t>(streams)}});
      for (int fd : stream_fds) {
        ::shutdown(fd, SHUT_RDWR);
      }
      streams_done.wait(lock, [this] { return streams == 0; });
    }
  }
  ioc.stop();
  for (auto& t : threads) {
    t.join();
  }
  log::info("gateway", "HTTP server stopped", {{"requests", requests.load()}});
}

result<std::unique_ptr<http_server>> http_server::start(const gateway_options& options,
                                                        const gateway_backends& backends) {
  if (options.io_threads < 1 || options.header_limit < 1024) {
    return error(gateway_errc::options, "io_threads must be >= 1 and header_limit >= 1024");
  }
  auto app = api::create(options, backends);
  if (!app) {
    return std::move(app).error();
  }
  auto impl = std::make_unique<server_impl>(options, std::move(*app));
  beast::error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) {
    return error(gateway_errc::bind, "gateway.host '" + options.host + "' is not an IP address");
  }
  tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    impl->acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return error(gateway_errc::bind, "cannot listen on " + options.host + ":" +
                                         std::to_string(options.port) + ": " + ec.message());
  }
  impl->port = impl->acceptor.local_endpoint().port();
  auto* raw = impl.get();
  raw->app->set_server_stats([raw] {
    std::lock_guard lock(raw->sessions_mutex);
    std::size_t streams = 0;
    {
      std::lock_guard streams_lock(raw->streams_mutex);
      streams = raw->streams;
    }
    return nlohmann::json{{"connections", raw->sessions.size()},
                          {"streams", streams},
                          {"accepted", raw->accepted.load()},
                          {"requests", raw->requests.load()},
                          {"io_threads", raw->options.io_threads}};
  });
  raw->accept();
  for (int i = 0; i < options.io_threads; ++i) {
    raw->threads.emplace_back([raw] { raw->ioc.run(); });
  }
  log::info("gateway", "HTTP server listening",
            {{"host", options.host}, {"port", raw->port}, {"io_threads", options.io_threads}});
  return std::unique_ptr<http_server>(new http_server(std::move(impl)));
}

http_server::http_server(std::unique_ptr<server_impl> impl) : impl_(std::move(impl)) {}

http_server::~http_server() {
  stop();
}

int http_server::port() const noexcept {
  return impl_->port;
}

void http_server::stop() {
  impl_->stop();
}

gateway::api& http_server::api() noexcept {
  return *impl_->app;
}

}  // namespace reelfarm::gateway
