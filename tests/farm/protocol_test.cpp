#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "reelfarm/farm/errc.hpp"
#include "reelfarm/farm/protocol/codec.hpp"
#include "reelfarm/farm/protocol/farm_credentials.hpp"

using namespace reelfarm;
using namespace reelfarm::farm;

namespace {

template <class T>
T round_trip(const T& body, const std::string& node = "node-1") {
  auto text = encode_frame(frame{node, body});
  auto back = decode_frame(text);
  INFO(text);
  REQUIRE(back);
  CHECK(back->node == node);
  REQUIRE(std::holds_alternative<T>(back->body));
  return std::get<T>(back->body);
}

error decode_error(const std::string& text) {
  auto r = decode_frame(text);
  INFO(text);
  REQUIRE_FALSE(r);
  return r.error();
}

}  // namespace

TEST_CASE("every frame type survives encoding and decoding", "[protocol]") {
  register_msg reg;
  reg.hostname = "gpu-7";
  reg.gpus = {{0, 24576, 3}, {1, 81920, 0}};
  reg.slots = 2;
  reg.backends = {"animatic", "comfyui"};
  reg.tags = {"zone-a"};
  reg.references = {"char:ANNA"};
  reg.leases = {{41, "shot-1"}};
  auto r = round_trip(reg);
  CHECK(r.hostname == "gpu-7");
  CHECK(r.gpus.size() == 2);
  CHECK(r.gpus[1].memory_mb == 81920);
  CHECK(r.leases[0].lease == 41);
  CHECK(r.backends == reg.backends);

  auto offer =
      round_trip(lease_offer_msg{7, "shot-9", "job-1", "animatic", 8000, 5000, R"({"scene":3})"});
  CHECK(offer.lease == 7);
  CHECK(nlohmann::json::parse(offer.spec)["scene"] == 3);

  auto done =
      round_trip(done_msg{7, "shot-9", "/srv/a.mp4", "sha256:" + std::string(64, 'a'), 1234});
  CHECK(done.duration_ms == 1234);
  CHECK(round_trip(failed_msg{7, "s", "out of memory", false}).retryable == false);
  CHECK(round_trip(progress_msg{7, "s", 55, "encode"}).percent == 55);
  CHECK(round_trip(heartbeat_msg{3, 1, {{7, "s"}}}).leases.size() == 1);
  CHECK(round_trip(registered_msg{1000, 5000}).ttl_ms == 5000);
  CHECK(round_trip(refused_msg{"old", 1}).reason == "old");
  CHECK(round_trip(lease_accept_msg{7, "s"}).lease == 7);
  CHECK(round_trip(lease_reject_msg{7, "s", "busy"}).reason == "busy");
  CHECK(round_trip(cancel_msg{7, "s"}).shot == "s");
  CHECK(round_trip(cancel_confirmed_msg{7, "s"}).lease == 7);
  CHECK(round_trip(drain_msg{false, "op"}).drain == false);
  CHECK(round_trip(error_msg{"stale_epoch", "late", "done", 7}).code == "stale_epoch");
  CHECK(round_trip(admin_msg{"drain", "node-2"}).target == "node-2");
  auto reply = round_trip(admin_reply_msg{true, "", R"([{"id":"n"}])"});
  CHECK(nlohmann::json::parse(reply.body)[0]["id"] == "n");
  auto key = generate_curve_keypair().value().public_key;
  CHECK(round_trip(enroll_msg{key}).public_key == key);
  (void)round_trip(enrolled_msg{});
}

TEST_CASE("an enroll frame carries a CURVE public key and nothing else", "[protocol]") {
  CHECK(decode_error(R"({"v":1,"type":"enroll","node":"n"})").is(farm_errc::invalid_field));
  CHECK(decode_error(R"({"v":1,"type":"enroll","node":"n","public_key":"short"})")
            .is(farm_errc::invalid_field));
  // 40 characters, but not Z85 (a space is outside its alphabet).
  CHECK(decode_error(R"({"v":1,"type":"enroll","node":"n","public_key":")" + std::string(40, ' ') +
                     R"("})")
            .is(farm_errc::invalid_field));
}

TEST_CASE("hostile frames are refused with a reason, never a crash", "[protocol]") {
  CHECK(decode_error("").is(farm_errc::malformed_frame));
  CHECK(decode_error("not json").is(farm_errc::malformed_frame));
  CHECK(decode_error("[1,2]").is(farm_errc::malformed_frame));
  CHECK(decode_error(R"({"v":1})").is(farm_errc::malformed_frame));
  CHECK(decode_error(R"({"type":"heartbeat"})").is(farm_errc::malformed_frame));
  CHECK(decode_error(R"({"v":"1","type":"heartbeat"})").is(farm_errc::malformed_frame));
  CHECK(decode_error(R"({"v":1,"type":"launch_missiles"})").is(farm_errc::unknown_type));
  CHECK(decode_error(R"({"v":1,"type":7})").is(farm_errc::malformed_frame));
  CHECK(decode_error(R"({"v":1,"type":"heartbeat","node":"a b"})").is(farm_errc::invalid_field));
  CHECK(decode_error(R"({"v":1,"type":"heartbeat","node":"n"})").is(farm_errc::invalid_field));
  CHECK(decode_error(R"({"v":1,"type":"heartbeat","node":"n","seq":-1})")
            .is(farm_errc::invalid_field));
  CHECK(decode_error(R"({"v":1,"type":"progress","node":"n","lease":1,"shot":"s","percent":101})")
            .is(farm_errc::invalid_field));
  CHECK(decode_error(R"({"v":1,"type":"progress","node":"n","lease":0,"shot":"s","percent":1})")
            .is(farm_errc::invalid_field));
  CHECK(decode_error(R"({"v":1,"type":"failed","node":"n","lease":1,"shot":"s","reason":"x"})")
            .is(farm_errc::invalid_field));
  CHECK(decode_error(R"({"v":1,"type":"register","node":"n","hostname":"h","slots":100000,)"
                     R"("backends":["a"]})")
            .is(farm_errc::invalid_field));
  CHECK(decode_error(R"({"v":1,"type":"register","node":"n","hostname":"h","slots":1,)"
                     R"("backends":[1]})")
            .is(farm_errc::invalid_field));
  CHECK(decode_error(R"({"v":1,"type":"done","node":"n","lease":1,"shot":"s","artifact":"a",)"
                     R"("checksum":"md5:1","duration_ms":5})")
            .is(farm_errc::invalid_field));
}

TEST_CASE("size and nesting limits hold before any parsing", "[protocol]") {
  std::string big = R"({"v":1,"type":"heartbeat","node":"n","seq":1,"pad":")" +
                    std::string(max_frame_bytes, 'x') + "\"}";
  CHECK(decode_error(big).is(farm_errc::frame_too_large));
  CHECK(decode_error(std::string(50000, '[')).is(farm_errc::malformed_frame));
  std::string deep = R"({"v":1,"type":"heartbeat","node":"n","seq":1,"x":)" + std::string(20, '[') +
                     std::string(20, ']') + "}";
  CHECK(decode_error(deep).is(farm_errc::malformed_frame));
  std::string long_shot =
      R"({"v":1,"type":"cancel","node":"n","lease":1,"shot":")" + std::string(200, 's') + "\"}";
  CHECK(decode_error(long_shot).is(farm_errc::invalid_field));
  std::string many_tags = R"({"v":1,"type":"register","node":"n","hostname":"h","slots":1,)"
                          R"("backends":["a"],"tags":[)";
  for (int i = 0; i < 40; ++i) {
    many_tags += (i ? ",\"t" : "\"t") + std::to_string(i) + "\"";
  }
  CHECK(decode_error(many_tags + "]}").is(farm_errc::invalid_field));
}

TEST_CASE("an unknown protocol version is refused and says which one we speak", "[protocol]") {
  std::string type;
  auto r = decode_frame(R"({"v":2,"type":"register","node":"n"})", &type);
  REQUIRE_FALSE(r);
  CHECK(r.error().is(farm_errc::unsupported_version));
  CHECK_THAT(r.error().message(), Catch::Contains("version 2") && Catch::Contains("version 1"));
  CHECK(type == "register");
}

TEST_CASE("unknown extra fields are ignored for forward compatibility", "[protocol]") {
  auto r = decode_frame(R"({"v":1,"type":"heartbeat","node":"n","seq":4,"future":{"a":1}})");
  REQUIRE(r);
  CHECK(std::get<heartbeat_msg>(r->body).seq == 4);
}

TEST_CASE("random bytes never crash the decoder", "[protocol]") {
  std::uint64_t x = 88172645463325252ULL;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  const std::string valid =
      encode_frame(frame{"n", done_msg{9, "s", "a", "sha256:" + std::string(64, 'b'), 3}});
  int refused = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string text = valid;
    for (int k = 0; k < 1 + static_cast<int>(next() % 4); ++k) {
      text[next() % text.size()] = static_cast<char>(next() % 256);
    }
    refused += decode_frame(text) ? 0 : 1;
  }
  CHECK(refused > 0);
}
