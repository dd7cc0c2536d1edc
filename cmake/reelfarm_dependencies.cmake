# Every dependency is a Debian 12 package (deploy/setup.sh installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

find_package(yaml-cpp 0.7 REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(CURL REQUIRED)
find_package(prometheus-cpp REQUIRED)
# prometheus-cpp installs no CMake version file; its pkg-config file has the version.
pkg_check_modules(PROMETHEUS_CORE REQUIRED prometheus-cpp-core)
find_package(cppzmq REQUIRED)

pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx>=6.4)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(FFMPEG REQUIRED IMPORTED_TARGET libavcodec libavformat libavutil libswscale libswresample)

# CAF 0.17 ships no CMake package configuration.
find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
find_library(CAF_IO_LIBRARY caf_io REQUIRED)
add_library(caf::core UNKNOWN IMPORTED)
set_target_properties(caf::core PROPERTIES IMPORTED_LOCATION "${CAF_CORE_LIBRARY}"
                                           INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}")
add_library(caf::io UNKNOWN IMPORTED)
set_target_properties(caf::io PROPERTIES IMPORTED_LOCATION "${CAF_IO_LIBRARY}"
                                         INTERFACE_LINK_LIBRARIES "caf::core;Threads::Threads")

if(REELFARM_BUILD_TESTS)
  find_package(Catch2 2.13 REQUIRED)
  include(Catch)
endif()
if(REELFARM_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
