#include "reelfarm/common/metrics.hpp"
#include "reelfarm/common/log.hpp"

#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <exception>
#include <sstream>

#include "reelfarm/common/errc.hpp"

namespace reelfarm::metrics {

prometheus::Registry& registry() {
  // Merge: a second Build() of the same name, type and constant labels
  // returns the existing family, so probes may register lazily from any
  // thread without coordinating who goes first.
  static prometheus::Registry instance{prometheus::Registry::InsertBehavior::Merge};
  return instance;
}

std::string scrape_text() {
  const prometheus::TextSerializer serializer;
  std::ostringstream out;
  serializer.Serialize(out, registry().Collect());
  return out.str();
}

namespace {

std::string compiler_name() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "gcc " __VERSION__;
#else
  return "unknown";
#endif
}

}  // namespace

void register_build_info(const std::string& version) {
  // Family::Add with labels already present returns the existing gauge, so a
  // second call with the same version is a no-op.
  prometheus::BuildGauge()
      .Name("reelfarm_build_info")
      .Help("Always 1; the labels say which build of reelfarm this process runs")
      .Register(registry())
      .Add({{"version", version}, {"compiler", compiler_name()}})
      .Set(1);
  // Lets dashboards show uptime and spot restarts (changes(...)).
  static const double started =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  prometheus::BuildGauge()
      .Name("reelfarm_process_start_time_seconds")
      .Help("Start time of the process since the Unix epoch, in seconds")
      .Register(registry())
      .Add({})
      .Set(started);
}

const std::vector<double>& latency_buckets() {
  static const std::vector<double> bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return bounds;
}

const std::vector<double>& duration_buckets() {
  static const std::vector<double> bounds{0.05, 0.1, 0.25, 0.5, 1,   2.5,  5,   10,
                                          30,   60,  120,  300, 600, 1800, 3600};
  return bounds;
}

struct endpoint::impl {
  std::unique_ptr<prometheus::Exposer> exposer;
  // The Exposer holds collectables by weak_ptr; the registry is a static that
  // outlives every endpoint, so this owner deletes nothing.
  std::shared_ptr<prometheus::Registry> registry{&metrics::registry(), [](auto*) {}};
};

endpoint::endpoint(std::unique_ptr<impl> state, int port) : impl_(std::move(state)), port_(port) {}
endpoint::~endpoint() = default;

result<std::unique_ptr<endpoint>> endpoint::serve(const std::string& address, int port) {
  if (port < 0 || port > 65535) {
    return error(common_errc::invalid_argument,
                 "a metrics port must be 0 to 65535, not " + std::to_string(port));
  }
  auto state = std::make_unique<impl>();
  try {
    // civetweb throws when it cannot bind; errors travel as values from here.
    state->exposer = std::make_unique<prometheus::Exposer>(address + ":" + std::to_string(port), 1);
  } catch (const std::exception& e) {
    return error(common_errc::io, "cannot serve metrics on " + address + ":" +
                                      std::to_string(port) + ": " + e.what());
  }
  state->exposer->RegisterCollectable(state->registry);
  auto ports = state->exposer->GetListeningPorts();
  int bound = ports.empty() ? port : ports.front();
  return std::unique_ptr<endpoint>(new endpoint(std::move(state), bound));
}

result<std::unique_ptr<endpoint>> serve_flag(const std::string& spec) {
  if (spec.empty() || spec == "0") {
    return std::unique_ptr<endpoint>();
  }
  auto colon = spec.rfind(':');
  std::string host = colon == std::string::npos ? "0.0.0.0" : spec.substr(0, colon);
  std::string port_text = colon == std::string::npos ? spec : spec.substr(colon + 1);
  int port = -1;
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos || host.empty()) {
    return error(
        common_errc::invalid_argument,
        "--metrics-port takes [HOST:]PORT, e.g. 9464 or 127.0.0.1:9464; got \"" + spec + "\"");
  }
  port = std::stoi(port_text);
  if (port == 0 && colon == std::string::npos) {
    return std::unique_ptr<endpoint>();
  }
  auto served = endpoint::serve(host, port);
  if (served) {
    log::info("metrics", "metrics listening", {{"host", host}, {"port", (*served)->port()}});
  }
  return served;
}

}  // namespace reelfarm::metrics
