#include "reelfarm/crm_sync/jwt.hpp"

#include <memory>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <nlohmann/json.hpp>

#include "reelfarm/crm_sync/errc.hpp"

namespace reelfarm::crm {

std::string base64url(std::string_view bytes) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(buffer >> bits) & 0x3f]);
    }
  }
  if (bits > 0) {
    out.push_back(alphabet[(buffer << (6 - bits)) & 0x3f]);
  }
  return out;
}

namespace {

struct evp_key_free {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct evp_ctx_free {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct bio_free {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

result<std::string> rs256_sign(const std::string& key_pem, const std::string& input) {
  std::unique_ptr<BIO, bio_free> bio(
      BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  std::unique_ptr<EVP_PKEY, evp_key_free> key(
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key || EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) {
    // Never echo the key material: it is a secret.
    return error(crm_errc::config, "the JWT signing key is not a PEM RSA private key");
  }
  std::unique_ptr<EVP_MD_CTX, evp_ctx_free> ctx(EVP_MD_CTX_new());
  std::size_t length = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return error(crm_errc::config, "OpenSSL could not prepare an RS256 signature");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return error(crm_errc::config, "OpenSSL could not sign the JWT assertion");
  }
  signature.resize(length);
  return signature;
}

}  // namespace

result<std::string> make_jwt_assertion(const std::string& key_pem, const jwt_claims& claims) {
  const auto exp =
      std::chrono::duration_cast<std::chrono::seconds>(claims.expires.time_since_epoch()).count();
  const nlohmann::json body = {
      {"iss", claims.issuer}, {"sub", claims.subject}, {"aud", claims.audience}, {"exp", exp}};
  const std::string input =
      base64url(R"({"alg":"RS256","typ":"JWT"})") + "." + base64url(body.dump());
  auto signature = rs256_sign(key_pem, input);
  if (!signature) {
    return std::move(signature).error();
  }
  return input + "." + base64url(*signature);
}

}  // namespace reelfarm::crm
