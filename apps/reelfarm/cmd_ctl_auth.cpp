// `reelfarm ctl login|register|logout`: the token pair in the credentials file.
#include "api_json.hpp"
#include "ctl_api.hpp"

namespace reelfarm::app {
namespace {

using json = nlohmann::json;

result<std::string> email_of(const ctl_session& s) {
  if (auto email = s.args.value("--email"); !email.empty()) {
    return email;
  }
  auto typed = prompt_line("Email: ");
  if (!typed) {
    return error(ctl_errc::local, "no email: pass --email E");
  }
  return typed;
}

// POST /auth/login or /auth/register, then stores the pair with the API URL.
int sign_in(ctl_session& s, const char* route, json body, const char* done) {
  auto api = s.client();
  auto answer = api.call("POST", route, body);
  if (!answer) {
    return fail(answer.error());
  }
  credentials c{api.api(), body["email"].get<std::string>(), text_of(*answer, "access_token"),
                text_of(*answer, "refresh_token")};
  const auto& user = member(*answer, "user");
  if (auto saved = save_credentials(s.credentials_file, c); !saved) {
    return fail(saved.error());
  }
  std::printf("%s %s as %s (role %s, plan %s)\ncredentials saved in %s\n", done, c.api.c_str(),
              c.email.c_str(), text_or(user, "role", "?").c_str(),
              text_or(user, "plan", "?").c_str(), s.credentials_file.c_str());
  return exit_ok;
}

int credentials_from_terminal(ctl_session& s, const char* route, const char* done) {
  if (s.args.words.size() != 1) {
    print_ctl_usage(stderr);
    return exit_usage;
  }
  auto email = email_of(s);
  if (!email) {
    return fail(email.error());
  }
  auto password = read_password(s.args.has("--password-stdin"));
  if (!password) {
    return fail(password.error());
  }
  json body{{"email", *email}, {"password", *password}};
  if (auto name = s.args.value("--full-name"); !name.empty()) {
    body["full_name"] = name;
  }
  return sign_in(s, route, std::move(body), done);
}

}  // namespace

int ctl_login(ctl_session& s) {
  return credentials_from_terminal(s, "/auth/login", "logged in to");
}

int ctl_register(ctl_session& s) {
  return credentials_from_terminal(s, "/auth/register", "registered and logged in to");
}

// Revokes the refresh token (its whole family) and deletes the file; the
// file goes even when the server cannot be reached, with a warning.
int ctl_logout(ctl_session& s) {
  if (!s.login) {
    std::printf("not logged in (no %s)\n", s.credentials_file.c_str());
    return exit_ok;
  }
  api_client api(s.login->api, s.login, s.credentials_file);
  auto revoked = api.call("POST", "/auth/logout", json{{"refresh_token", s.login->refresh_token}});
  if (!revoked) {
    std::fprintf(stderr, "reelfarm ctl: warning: the server did not revoke the session: %s\n",
                 revoked.error().message().c_str());
  }
  if (auto removed = remove_credentials(s.credentials_file); !removed) {
    return fail(removed.error());
  }
  std::printf("logged out of %s\n", s.login->api.c_str());
  return exit_ok;
}

}  // namespace reelfarm::app
