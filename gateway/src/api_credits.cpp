// Credits: balance, history, plans, purchases and grants, plan upgrades.
#include <array>

#include "api_state.hpp"
#include "reelfarm/gateway/token_codec.hpp"
#include "reelfarm/store/project_repository.hpp"

namespace reelfarm::gateway {

namespace {

constexpr std::int64_t max_purchase = 1'000'000;

nlohmann::json entry_json(const ledger_entry& e) {
  return {{"id", e.id},
          {"kind", std::string(to_string(e.kind))},
          {"amount", e.amount},
          {"delta", e.delta},
          {"balance_after", e.balance_after},
          {"description", e.description},
          {"payment_ref", e.payment_ref ? nlohmann::json(*e.payment_ref) : nullptr},
          {"created_at", e.created_at},
          {"replayed", e.replayed}};
}

nlohmann::json plan_json(const plan& p) {
  return {{"name", p.name},
          {"display_name", p.display_name},
          {"price_cents", p.price_cents},
          {"monthly_credits", p.monthly_credits ? nlohmann::json(*p.monthly_credits) : nullptr},
          {"max_video_seconds", p.max_video.count()},
          {"watermark", p.watermark},
          {"priority", p.priority}};
}

// The Idempotency-Key header: required where a retry must not pay twice.
std::optional<std::string> idempotency_key(const http_request& req) {
  auto key = req.header("idempotency-key");
  if (!key || key->empty() || key->size() > 150) {
    return std::nullopt;
  }
  return "api:" + std::string(*key);
}

http_response balance(api_state& s, request_context& ctx) {
  auto user = s.accounts.get(ctx.caller->user_id);
  if (!user) {
    return from_error(user.error(), ctx.request);
  }
  auto j = user_json(*user);
  return json_response(200, dump_json({{"balance", user->credits_balance},
                                       {"unlimited", user->credits_unlimited},
                                       {"plan", user->plan},
                                       {"renews_on", j["credits_reset_date"]}}));
}

http_response history(api_state& s, request_context& ctx) {
  int limit = 20;
  std::int64_t before = 0;
  if (auto v = ctx.request.query_param("limit")) {
    auto n = parse_integer(*v, 1, 100);
    if (!n) {
      return error_response(400, "invalid_parameter", "limit must be an integer from 1 to 100");
    }
    limit = static_cast<int>(*n);
  }
  if (auto v = ctx.request.query_param("before")) {
    auto n = parse_integer(*v, 1, INT64_MAX);
    if (!n) {
      return error_response(400, "invalid_parameter", "before must be a positive integer");
    }
    before = *n;
  }
  auto page = s.directory.credit_history(ctx.caller->user_id, limit, before);
  if (!page) {
    return from_error(page.error(), ctx.request);
  }
  return json_response(200, dump_json(*page));
}

// The catalogue never changes while the process runs: serialise it once.
std::string plans_body(const plan_catalog& catalog) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& p : catalog.plans()) {
    items.push_back(plan_json(p));
  }
  return dump_json({{"items", items}});
}

http_response purchase(api_state& s, request_context& ctx) {
  static constexpr std::array<field_spec, 4> fields{{
      {"amount", json_kind::integer, true, 0},
      {"user_id", json_kind::string, false, 36},
      {"payment_ref", json_kind::string, false, 200},
      {"description", json_kind::string, false, 500},
  }};
  return with_json(ctx.request, fields, [&](const nlohmann::json& body) {
    auto key = idempotency_key(ctx.request);
    if (!key) {
      return error_response(400, "idempotency_key_required",
                            "send an Idempotency-Key header (1 to 150 characters) so a retry "
                            "cannot pay twice");
    }
    // An integer by the field spec; read by its stored kind so no other
    // type reaches get<>, and a huge unsigned value cannot wrap negative.
    auto given = body.find("amount");
    std::int64_t amount = 0;
    if (given != body.end() && given->is_number_unsigned()) {
      auto u = given->get<std::uint64_t>();
      amount = u > static_cast<std::uint64_t>(max_purchase) ? max_purchase + 1
                                                            : static_cast<std::int64_t>(u);
    } else if (given != body.end() && given->is_number_integer()) {
      amount = given->get<std::int64_t>();
    }
    if (amount < 1 || amount > max_purchase) {
      return error_response(422, "validation_failed", "amount must be from 1 to 1000000");
    }
    auto target = string_field(body, "user_id", ctx.caller->user_id);
    bool admin = ctx.caller->is_admin();
    if (!admin && target != ctx.caller->user_id) {
      return error_response(403, "forbidden", "only administrators credit other users");
    }
    if (!is_uuid(target)) {
      return error_response(404, "not_found", "no user with id '" + target + "'");
    }
    auto ref = string_field(body, "payment_ref");
    auto description = string_field(body, "description", admin ? "grant" : "top-up");
    if (!admin) {
      // A payment reference from the caller proves nothing: credits are
      // bought through Checkout and arrive with Stripe's signed webhook.
      return error_response(403, "forbidden",
                            s.options.billing.enabled()
                                ? "buy credits with POST /api/v1/billing/checkout "
                                  "{\"credit_pack\": ...}; they arrive when Stripe confirms the "
                                  "payment"
                                : "credits are granted by an administrator on this farm (billing "
                                  "is not configured)");
    }
    auto entry = ref.empty() ? s.ledger.grant(target, amount, description, *key)
                             : s.ledger.purchase(target, amount, ref, description, *key);
    if (!entry) {
      return from_error(entry.error(), ctx.request);
    }
    return json_response(entry->replayed ? 200 : 201, dump_json(entry_json(*entry)));
  });
}

// Plans are bought, never claimed: the old free upgrade route points to
// Checkout (or, without billing, to an administrator).
http_response upgrade(api_state& s, request_context&) {
  if (s.options.billing.enabled()) {
    return error_response(403, "forbidden",
                          "plans are bought: POST /api/v1/billing/checkout {\"plan\": ...} "
                          "answers a Stripe Checkout URL; the plan starts when Stripe confirms "
                          "the payment");
  }
  return error_response(503, "billing_disabled",
                        "plans are bought through the payment provider, which this farm has "
                        "not set up; an administrator can change a plan "
                        "(POST /api/v1/admin/users/{id}/plan)");
}

// An administrator moves a user to another plan, with a reason that goes to
// the audit trail in the same transaction.
http_response set_plan(api_state& s, request_context& ctx) {
  static constexpr std::array<field_spec, 2> fields{
      {{"plan", json_kind::string, true, 64}, {"reason", json_kind::string, true, 500}}};
  return with_json(ctx.request, fields, [&](const nlohmann::json& body) {
    const auto& target = ctx.param("id");
    if (!is_uuid(target)) {
      return error_response(404, "not_found", "no user with id '" + target + "'");
    }
    auto name = string_field(body, "plan");
    auto reason = string_field(body, "reason");
    if (reason.find_first_not_of(" \t\r\n") == std::string::npos) {
      return error_response(422, "validation_failed", "a plan change needs a 'reason'");
    }
    if (s.plans.find(name) == nullptr) {
      std::string known;
      for (const auto& p : s.plans.plans()) {
        known += (known.empty() ? "" : ", ") + p.name;
      }
      return error_response(422, "validation_failed",
                            "unknown plan '" + name + "'; plans are " + known);
    }
    if (auto user = s.accounts.get(target); !user) {
      return from_error(user.error(), ctx.request);  // 404 for no such user
    }
    auto key = idempotency_key(ctx.request).value_or("admin:" + random_token(12));
    auto change =
        s.ledger.change_plan(target, name, key, plan_change_audit{ctx.caller->user_id, reason});
    if (!change) {
      return from_error(change.error(), ctx.request);
    }
    nlohmann::json out = {{"from", change->from}, {"to", change->to}, {"changed", change->changed}};
    out["grant"] = change->grant ? entry_json(*change->grant) : nlohmann::json(nullptr);
    return json_response(200, dump_json(out));
  });
}

}  // namespace

void add_credit_routes(api_state& s) {
  auto bind = [&s](http_response (*f)(api_state&, request_context&)) {
    return [&s, f](request_context& ctx) { return f(s, ctx); };
  };
  auto& r = s.routes;
  r.add({"GET", "/api/v1/credits/balance", access::creator, limit_class::standard, true,
         bind(balance)});
  r.add({"GET", "/api/v1/credits/history", access::creator, limit_class::standard, true,
         bind(history)});
  r.add({"GET", "/api/v1/credits/plans", access::creator, limit_class::standard, false,
         [body = plans_body(s.plans)](request_context&) { return json_response(200, body); }});
  r.add({"POST", "/api/v1/credits/purchase", access::creator, limit_class::standard, true,
         bind(purchase)});
  r.add({"POST", "/api/v1/subscriptions/upgrade", access::creator, limit_class::standard, true,
         bind(upgrade)});
  r.add({"POST", "/api/v1/admin/users/{id}/plan", access::admin, limit_class::standard, true,
         bind(set_plan)});
}

}  // namespace reelfarm::gateway
