#include "reelfarm/common/filesystem.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "reelfarm/testing/temp_dir.hpp"

using namespace reelfarm;
using namespace std::chrono_literals;

TEST_CASE("files are written atomically with their mode", "[filesystem]") {
  testing::temp_dir dir;
  auto file = dir.path() / "secret";
  REQUIRE(write_file_atomically(file, "one", 0600));
  REQUIRE(write_file_atomically(file, "two", 0600));
  CHECK(*read_file(file) == "two");
  struct stat st {};
  REQUIRE(stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "secret.tmp"));
}

TEST_CASE("directories are created with parents and mode", "[filesystem]") {
  testing::temp_dir dir;
  auto deep = dir.path() / "a" / "b" / "c";
  REQUIRE(ensure_directory(deep, 0700));
  struct stat st {};
  REQUIRE(stat(deep.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("reading a missing file is an error naming it", "[filesystem]") {
  auto r = read_file("/nonexistent/file");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message(), Catch::Contains("/nonexistent/file"));
}

TEST_CASE("a file lock is exclusive until released", "[filesystem]") {
  testing::temp_dir dir;
  auto path = dir.path() / "lock";
  {
    auto first = file_lock::acquire(path);
    REQUIRE(first);
    // flock locks belong to open file descriptions: a second open conflicts
    // even within one process, as it would across processes.
    auto second = file_lock::acquire(path);
    REQUIRE_FALSE(second);
    CHECK_THAT(second.error().message(), Catch::Contains("another reelfarm process"));
  }
  CHECK(file_lock::acquire(path));
}

TEST_CASE("reachability explains which folder blocks an account", "[filesystem]") {
  testing::temp_dir dir;
  auto closed = dir.path() / "closed";
  REQUIRE(ensure_directory(closed / "inner", 0700));
  account nobody{"nobody", 65534, 65534};
  auto r = check_reachable(closed / "inner" / "data", nobody);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message(), Catch::Contains(closed.string()) && Catch::Contains("0700"));
  CHECK(check_reachable(dir.path() / "data", nobody));
}

TEST_CASE("random hex has the requested length and varies", "[filesystem]") {
  auto a = random_hex(16);
  auto b = random_hex(16);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->size() == 32);
  CHECK(*a != *b);
}
