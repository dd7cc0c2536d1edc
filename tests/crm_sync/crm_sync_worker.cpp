// A sync process for the chaos test: runs crm_sync_runner until killed.
// Usage: crm_sync_worker DSN LOGIN_URL CLIENT_ID CLIENT_SECRET NAME
#include <chrono>
#include <cstdio>
#include <thread>

#include "reelfarm/crm_sync/crm_sync_runner.hpp"

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: crm_sync_worker DSN LOGIN_URL CLIENT_ID CLIENT_SECRET NAME\n");
    return 2;
  }
  reelfarm::crm::crm_options o;
  o.login_url = argv[2];
  o.flow = reelfarm::crm::auth_flow::client_credentials;
  o.client_id = argv[3];
  o.client_secret = argv[4];
  o.instance_name = argv[5];
  o.request_timeout = std::chrono::milliseconds(700);
  o.backoff_base = std::chrono::milliseconds(20);
  o.backoff_cap = std::chrono::milliseconds(300);
  o.limit_pause = std::chrono::milliseconds(100);
  o.poll_interval = std::chrono::milliseconds(200);
  o.max_attempts = 1000;  // faults are random here; nothing the farm writes is invalid
  o.batch_size = 25;      // more batches, more places to be killed in
  o.send_interval = std::chrono::milliseconds(50);
  reelfarm::crm::crm_sync_runner runner(argv[1], o);
  if (auto started = runner.start(); !started) {
    std::fprintf(stderr, "%s\n", started.error().full_text().c_str());
    return 1;
  }
  for (;;) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}
