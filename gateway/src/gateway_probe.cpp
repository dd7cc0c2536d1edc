#include "reelfarm/gateway/gateway_probe.hpp"

#include "reelfarm/common/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <array>
#include <string>

namespace reelfarm::gateway {
namespace {

struct families {
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& duration;
  prometheus::Gauge& event_streams;
};

families& get() {
  auto& registry = metrics::registry();
  static families instance{
      prometheus::BuildCounter()
          .Name("reelfarm_http_requests_total")
          .Help("HTTP requests answered by the gateway, by route pattern and status class")
          .Register(registry),
      prometheus::BuildHistogram()
          .Name("reelfarm_http_request_duration_seconds")
          .Help("Time from a request's arrival to its answer, by route pattern")
          .Register(registry),
      prometheus::BuildGauge()
          .Name("reelfarm_http_event_streams")
          .Help("Server-Sent-Event streams open now")
          .Register(registry)
          .Add({}),
  };
  return instance;
}

// Clients choose the method string: only the standard ones become label
// values, so a scanner cannot grow the series count without bound.
std::string method_label(std::string_view method) {
  static constexpr std::array<std::string_view, 9> known{
      "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"};
  for (const auto k : known) {
    if (k == method)
      return std::string{k};
  }
  return "OTHER";
}

std::string status_class(int status) {
  if (status < 100 || status > 599)
    return "other";
  return std::to_string(status / 100) + "xx";
}

}  // namespace

void record_request(std::string_view method, std::string_view route, int status, double seconds) {
  auto& f = get();
  const auto m = method_label(method);
  const std::string r{route.empty() ? std::string_view{"unmatched"} : route};
  f.requests.Add({{"method", m}, {"route", r}, {"status_class", status_class(status)}}).Increment();
  f.duration.Add({{"method", m}, {"route", r}}, metrics::latency_buckets())
      .Observe(seconds < 0 ? 0 : seconds);
}

void set_event_streams(int open) {
  get().event_streams.Set(open < 0 ? 0 : open);
}

}  // namespace reelfarm::gateway
