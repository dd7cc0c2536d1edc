#include "reelfarm/gateway/jwt.hpp"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "reelfarm/gateway/errc.hpp"
#include "reelfarm/gateway/token_codec.hpp"

namespace reelfarm::gateway {

namespace {

std::string hmac_sha256(std::string_view key, std::string_view data) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(data.data()),
                                data.size());
  std::string mac(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(mac.data()));
  return mac;
}

error invalid(std::string why) {
  return error(gateway_errc::token_invalid, "the access token is invalid: " + std::move(why));
}

// The JSON object of one base64url part, or a discarded value.
nlohmann::json decode_part(std::string_view part) {
  auto raw = base64url_decode(part);
  if (!raw) {
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  auto value = nlohmann::json::parse(*raw, nullptr, false);
  return value.is_object() ? value : nlohmann::json(nlohmann::json::value_t::discarded);
}

result<jwt_claims> read_claims(const nlohmann::json& body) {
  jwt_claims c;
  auto text = [&](const char* key, std::string& out) {
    auto it = body.find(key);
    if (it == body.end() || !it->is_string()) {
      return false;
    }
    out = it->get<std::string>();
    return true;
  };
  auto number = [&](const char* key, std::int64_t& out) {
    auto it = body.find(key);
    if (it == body.end() || !it->is_number_integer()) {
      return false;
    }
    out = it->get<std::int64_t>();
    return true;
  };
  if (!text("sub", c.subject) || !text("role", c.role) || !text("iss", c.issuer) ||
      !number("iat", c.issued_at) || !number("exp", c.expires_at) || !number("ver", c.version) ||
      !text("sid", c.session)) {
    return invalid("a claim (sub, role, iss, iat, exp, ver, sid) is missing or of the wrong type");
  }
  return c;
}

}  // namespace

std::string jwt_sign(const jwt_claims& claims, std::string_view secret) {
  nlohmann::json header = {{"alg", "HS256"}, {"typ", "JWT"}};
  nlohmann::json body = {{"sub", claims.subject},    {"role", claims.role},
                         {"iss", claims.issuer},     {"iat", claims.issued_at},
                         {"exp", claims.expires_at}, {"ver", claims.version},
                         {"sid", claims.session}};
  auto signing_input = base64url_encode(header.dump()) + "." + base64url_encode(body.dump());
  return signing_input + "." + base64url_encode(hmac_sha256(secret, signing_input));
}

result<jwt_claims> jwt_verify(std::string_view token, std::string_view secret,
                              std::string_view issuer, std::int64_t now, std::int64_t leeway) {
  if (token.size() > 4096) {
    return invalid("it is too long");
  }
  auto first = token.find('.');
  auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return invalid("it is not a compact JWS of three parts");
  }
  auto header = decode_part(token.substr(0, first));
  if (header.is_discarded()) {
    return invalid("its header is not base64url JSON");
  }
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || alg->get<std::string>() != "HS256") {
    return invalid("only alg HS256 is accepted");
  }
  auto signature = base64url_decode(token.substr(second + 1));
  auto expected = hmac_sha256(secret, token.substr(0, second));
  if (!signature || signature->size() != expected.size() ||
      crypto_verify_32(reinterpret_cast<const unsigned char*>(signature->data()),
                       reinterpret_cast<const unsigned char*>(expected.data())) != 0) {
    return invalid("the signature does not match");
  }
  auto body = decode_part(token.substr(first + 1, second - first - 1));
  if (body.is_discarded()) {
    return invalid("its claims are not base64url JSON");
  }
  auto claims = read_claims(body);
  if (!claims) {
    return claims;
  }
  if (claims->issuer != issuer) {
    return invalid("it was issued by someone else");
  }
  if (claims->issued_at > now + leeway) {
    return invalid("it was issued in the future");
  }
  if (claims->expires_at <= now) {
    return error(gateway_errc::token_expired, "the access token has expired; refresh it");
  }
  return claims;
}

}  // namespace reelfarm::gateway
