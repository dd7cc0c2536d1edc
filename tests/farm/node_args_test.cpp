// `reelfarm node`'s command line: one command joins a node, and every bad
// argument is refused with a message that names it.
#include <catch2/catch.hpp>

#include "reelfarm/farm/errc.hpp"
#include "reelfarm/farm/node/node_agent.hpp"

using reelfarm::farm::parse_node_args;

TEST_CASE("a node joined without --backend renders with the built-in animatic renderer", "[node]") {
  auto o = parse_node_args({"--join", "tcp://127.0.0.1:7700", "--media-dir", "/srv/media"});
  REQUIRE(o);
  CHECK(o->backends == std::vector<std::string>{"animatic"});
  CHECK(o->media_dir == "/srv/media");

  auto chosen = parse_node_args({"--join", "tcp://h:1", "--backend", "exec:/bin/true"});
  REQUIRE(chosen);
  CHECK(chosen->backends == std::vector<std::string>{"exec:/bin/true"});
}

TEST_CASE("node arguments that cannot work are refused with a reason", "[node]") {
  struct bad_case {
    std::vector<std::string> args;
    const char* says;
  };
  for (const auto& [args, says] : std::vector<bad_case>{
           {{}, "--join"},
           {{"--join", "http://h:1"}, "--join tcp://HOST:PORT"},
           {{"--join", "tcp://h:1", "--slots", "0"}, "--slots"},
           {{"--join", "tcp://h:1", "--colour", "red"}, "unknown argument: --colour"},
           {{"--join"}, "missing value"},
       }) {
    auto r = parse_node_args(args);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(), Catch::Contains(says));
  }
}
