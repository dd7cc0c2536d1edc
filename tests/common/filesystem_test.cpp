#include "reelfarm/common/filesystem.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

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
  // Nothing but the file is left behind.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) {
    ++entries;
  }
  CHECK(entries == 1);
}

TEST_CASE("an atomic write never follows a link planted at a temporary name", "[filesystem]") {
  testing::temp_dir dir;
  auto file = dir.path() / "key";
  auto elsewhere = dir.path() / "elsewhere";
  // Whatever name the writer picks, a stale or planted "key.tmp" is not it,
  // and the write replaces `file` itself, not what a link points at.
  std::filesystem::create_symlink(elsewhere, dir.path() / "key.tmp");
  REQUIRE(write_file_atomically(file, "secret", 0600));
  CHECK_FALSE(std::filesystem::exists(elsewhere));
  CHECK(*read_file(file) == "secret");
  // Two writers of one file at once: both succeed, one's bytes win whole.
  bool wrote_a = false;
  bool wrote_b = false;  // Catch2 assertions are not thread-safe: checked after
  std::thread a(
      [&] { wrote_a = bool(write_file_atomically(file, std::string(100000, 'a'), 0644)); });
  std::thread b(
      [&] { wrote_b = bool(write_file_atomically(file, std::string(100000, 'b'), 0644)); });
  a.join();
  b.join();
  CHECK(wrote_a);
  CHECK(wrote_b);
  auto text = *read_file(file);
  CHECK((text == std::string(100000, 'a') || text == std::string(100000, 'b')));
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
