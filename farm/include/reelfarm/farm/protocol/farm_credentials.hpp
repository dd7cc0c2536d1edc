#pragma once

// CURVE keys and join tokens of the farm socket (docs/protocol.md,
// "Authentication"). Every peer of the coordinator's ROUTER socket speaks
// CURVE: the coordinator holds the server keypair, each node and each
// operator tool a client keypair the coordinator has enrolled.
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include "reelfarm/common/result.hpp"

namespace reelfarm::farm {

/// A CURVE keypair, each key 40 characters of Z85 (what libzmq takes).
struct curve_keypair {
  std::string public_key;
  std::string secret_key;
};

/// What a client of the farm socket needs: its own keypair and the
/// coordinator's public key (CURVE authenticates the server to the client).
struct farm_credentials {
  curve_keypair client;
  std::string server_public_key;
  /// The coordinator key this client key was enrolled with (a node's file):
  /// equal to server_public_key once the node needs no token any more.
  std::string enrolled_with;
};

/// A join token as an operator hands it out: the coordinator's public key
/// (so a new node knows whom it talks to) and the secret half of a
/// short-lived bootstrap keypair the coordinator admits until the token
/// expires, for one thing only: an `enroll` frame naming the node's own key.
/// So the ZAP handler never admits an unknown key. Text form:
/// `rfj1-<64 hex: server public key>-<64 hex: bootstrap secret key>`, safe
/// in a shell.
struct join_token {
  std::string server_public_key;  ///< Z85
  curve_keypair bootstrap;        ///< Z85; the public half derived from the secret
};

/// True when libzmq was built with CURVE (Debian's is).
bool curve_available() noexcept;

/// A fresh keypair from libzmq (libsodium underneath).
result<curve_keypair> generate_curve_keypair();

/// True for 40 characters of valid Z85 that decode to 32 bytes.
bool valid_curve_key(std::string_view z85) noexcept;

/// The Z85 form of a 32-byte binary key (as a ZAP request carries it).
std::string curve_key_from_binary(std::string_view bytes);

/// Text form of a token (see join_token).
std::string format_join_token(const join_token& token);
/// Parses and checks a token's shape; the error says what is wrong with it.
result<join_token> parse_join_token(std::string_view text);

/// Reads credentials written by `write_farm_credentials`. Its
/// `enrolled_with` (may be empty) is the coordinator key the client key was
/// enrolled with.
result<farm_credentials> read_farm_credentials(const std::filesystem::path& file);
/// Writes credentials atomically, readable by the owner only (0600).
result<void> write_farm_credentials(const std::filesystem::path& file,
                                    const farm_credentials& credentials);

}  // namespace reelfarm::farm
