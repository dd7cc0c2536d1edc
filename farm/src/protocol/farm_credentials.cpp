#include "reelfarm/farm/protocol/farm_credentials.hpp"

#include <sodium.h>
#include <zmq.h>

#include <array>
#include <nlohmann/json.hpp>

#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/farm/errc.hpp"

namespace reelfarm::farm {
namespace {

constexpr std::size_t key_bytes = 32;
constexpr std::size_t z85_key_chars = 40;
constexpr std::string_view token_prefix = "rfj1-";
constexpr std::size_t secret_hex_chars = key_bytes * 2;

bool lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

std::string to_hex(const unsigned char* data, std::size_t size) {
  std::string out(size * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, size);
  out.pop_back();
  return out;
}

}  // namespace

bool curve_available() noexcept {
  return zmq_has("curve") != 0;
}

result<curve_keypair> generate_curve_keypair() {
  std::array<char, z85_key_chars + 1> pub{};
  std::array<char, z85_key_chars + 1> sec{};
  if (zmq_curve_keypair(pub.data(), sec.data()) != 0) {
    return error(farm_errc::transport, std::string("cannot make a CURVE keypair: ") +
                                           zmq_strerror(zmq_errno()) +
                                           " (libzmq built without CURVE?)");
  }
  return curve_keypair{pub.data(), sec.data()};
}

bool valid_curve_key(std::string_view z85) noexcept {
  if (z85.size() != z85_key_chars) {
    return false;
  }
  std::string text(z85);
  std::array<std::uint8_t, key_bytes> bytes{};
  return zmq_z85_decode(bytes.data(), text.c_str()) != nullptr;
}

std::string curve_key_from_binary(std::string_view bytes) {
  if (bytes.size() != key_bytes) {
    return "";
  }
  std::array<char, z85_key_chars + 1> out{};
  zmq_z85_encode(out.data(), reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return out.data();
}

static std::string key_hex(const std::string& z85) {
  std::array<std::uint8_t, key_bytes> key{};
  zmq_z85_decode(key.data(), z85.c_str());
  return to_hex(key.data(), key.size());
}

std::string format_join_token(const join_token& token) {
  return std::string(token_prefix) + key_hex(token.server_public_key) + "-" +
         key_hex(token.bootstrap.secret_key);
}

result<join_token> parse_join_token(std::string_view text) {
  auto bad = [](const std::string& why) {
    return error(farm_errc::invalid_token,
                 "a join token looks like rfj1-<64 hex>-<64 hex> (from `reelfarm ctl nodes "
                 "token`); this one " +
                     why);
  };
  if (!text.starts_with(token_prefix)) {
    return bad("does not start with rfj1-");
  }
  text.remove_prefix(token_prefix.size());
  auto dash = text.find('-');
  if (dash != key_bytes * 2 || text.size() != dash + 1 + secret_hex_chars) {
    return bad("has the wrong length");
  }
  std::string keys[2];
  std::string_view parts[2] = {text.substr(0, dash), text.substr(dash + 1)};
  for (int i = 0; i < 2; ++i) {
    std::array<unsigned char, key_bytes> bytes{};
    std::size_t decoded = 0;
    if (!lower_hex(parts[i]) ||
        sodium_hex2bin(bytes.data(), bytes.size(), parts[i].data(), parts[i].size(), nullptr,
                       &decoded, nullptr) != 0 ||
        decoded != key_bytes) {
      return bad("has characters other than 0-9 and a-f");
    }
    keys[i] = curve_key_from_binary(
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
  std::array<char, z85_key_chars + 1> bootstrap_public{};
  if (zmq_curve_public(bootstrap_public.data(), keys[1].c_str()) != 0) {
    return bad("holds no valid key");
  }
  return join_token{keys[0], {bootstrap_public.data(), keys[1]}};
}

result<farm_credentials> read_farm_credentials(const std::filesystem::path& file) {
  auto text = read_file(file);
  if (!text) {
    return text.error();
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  auto field = [&](const char* key) -> std::string {
    if (!j.is_object() || !j.contains(key) || !j[key].is_string()) {
      return "";
    }
    return j[key].get<std::string>();
  };
  farm_credentials c{{field("public_key"), field("secret_key")},
                     field("server_public_key"),
                     field("enrolled_with")};
  if (!valid_curve_key(c.client.public_key) || !valid_curve_key(c.client.secret_key) ||
      !valid_curve_key(c.server_public_key)) {
    return error(farm_errc::invalid_argument,
                 file.string() +
                     " is not a farm credentials file (public_key, secret_key, "
                     "server_public_key: 40 characters of Z85 each)");
  }
  return c;
}

result<void> write_farm_credentials(const std::filesystem::path& file,
                                    const farm_credentials& credentials) {
  nlohmann::json j = {{"public_key", credentials.client.public_key},
                      {"secret_key", credentials.client.secret_key},
                      {"server_public_key", credentials.server_public_key},
                      {"enrolled_with", credentials.enrolled_with}};
  if (file.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) {
      return error(farm_errc::invalid_argument,
                   "cannot create " + file.parent_path().string() + ": " + ec.message());
    }
  }
  return write_file_atomically(file, j.dump(2) + "\n", 0600);
}

}  // namespace reelfarm::farm
