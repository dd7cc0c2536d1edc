#include "reelfarm/billing/billing_service.hpp"

#include <pqxx/pqxx>

#include "json_fields.hpp"
#include "reelfarm/billing/errc.hpp"
#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/log.hpp"

namespace reelfarm::billing {
namespace {

using json = nlohmann::json;

// Subscriptions that hold a plan: not yet ended and in a state Stripe still
// bills (past_due keeps the plan through the grace period).
constexpr const char* live_subscription_sql =
    "SELECT subscription_id, plan, status, extract(epoch FROM current_period_end)::bigint, "
    "cancel_at_period_end, extract(epoch FROM past_due_since)::bigint "
    "FROM billing_subscriptions WHERE user_id = $1::uuid AND NOT ended "
    "AND status IN ('active', 'trialing', 'past_due', 'incomplete') "
    "ORDER BY updated_at DESC LIMIT 1";

template <class T>
std::optional<T> nullable(const pqxx::field& f) {
  return f.is_null() ? std::nullopt : std::optional<T>(f.as<T>());
}

subscription_view view_from(const pqxx::row& r) {
  subscription_view v;
  v.subscription_id = r[0].as<std::string>();
  v.plan = r[1].as<std::string>();
  v.status = r[2].as<std::string>();
  v.current_period_end = nullable<std::int64_t>(r[3]);
  v.cancel_at_period_end = r[4].as<bool>();
  v.past_due_since = nullable<std::int64_t>(r[5]);
  return v;
}

// Billing's reads and writes go through the ledger's transaction runner:
// one pool, one retry policy, one error mapping for every money table.
template <class Body>
result<void> in_transaction(credit_ledger& ledger, const char* what, Body&& body) {
  auto done = ledger.transact(
      what, [&](pqxx::transaction_base& tx, std::vector<ledger_entry>&) { body(tx); });
  if (!done) {
    return done.error();
  }
  return {};
}

}  // namespace

billing_service::billing_service(billing_options options, credit_ledger& ledger,
                                 stripe_client& stripe)
    : options_(std::move(options)), ledger_(ledger), stripe_(stripe) {}

result<std::string> billing_service::customer_of(const std::string& user_id, bool create) {
  std::string customer;
  std::string email;
  std::string name;
  auto read = in_transaction(ledger_, "billing_customer", [&](pqxx::transaction_base& tx) {
    auto r = tx.exec_params(
        "SELECT c.customer_id, u.email, u.full_name FROM users u "
        "LEFT JOIN billing_customers c ON c.user_id = u.id WHERE u.id = $1::uuid",
        user_id);
    if (r.empty()) {
      throw std::invalid_argument("no user with id " + user_id);
    }
    customer = r[0][0].is_null() ? std::string() : r[0][0].as<std::string>();
    email = r[0][1].as<std::string>();
    name = r[0][2].is_null() ? std::string() : r[0][2].as<std::string>();
  });
  if (!read) {
    return read.error();
  }
  if (!customer.empty() || !create) {
    return customer;
  }
  // One customer per user even when two checkouts race: the key makes
  // Stripe answer both with the same customer.
  auto made = stripe_.post("customers",
                           {{"email", email},
                            {"name", name.empty() ? email : name},
                            {"metadata[reelfarm_user]", user_id}},
                           "reelfarm-customer-" + user_id);
  if (!made) {
    return made.error();
  }
  auto id = text_of(*made, "id");
  if (!id.starts_with("cus_")) {
    return error(billing_errc::stripe_bad_response, "POST /v1/customers answered no customer id");
  }
  auto stored = in_transaction(ledger_, "billing_customer", [&](pqxx::transaction_base& tx) {
    tx.exec_params0(
        "INSERT INTO billing_customers (user_id, customer_id) VALUES ($1::uuid, $2) "
        "ON CONFLICT (user_id) DO NOTHING",
        user_id, id);
    customer = tx.exec_params1("SELECT customer_id FROM billing_customers WHERE user_id = $1::uuid",
                               user_id)[0]
                   .as<std::string>();
  });
  if (!stored) {
    return stored.error();
  }
  return customer;
}

result<void> billing_service::ensure_coupon() {
  if (coupon_ready_.load()) {
    return {};
  }
  const auto& id = options_.data_sharing_coupon;
  auto found = stripe_.get("coupons/" + http::url_encode(id));
  if (!found && !found.error().is(billing_errc::stripe_refused)) {
    return found.error();
  }
  if (!found) {
    auto made =
        stripe_.post("coupons",
                     {{"id", id},
                      {"percent_off", std::to_string(options_.data_sharing_percent_off)},
                      {"duration", "forever"},
                      {"name", "Data-sharing membership " +
                                   std::to_string(options_.data_sharing_percent_off) + "% off"}},
                     "reelfarm-coupon-" + id);
    if (!made) {
      return made.error();
    }
  }
  coupon_ready_ = true;
  return {};
}

result<checkout_link> billing_service::checkout(const std::string& user_id,
                                                const checkout_request& request) {
  if (request.plan.empty() == request.credit_pack.empty()) {
    return error(billing_errc::invalid_request, "name either a 'plan' or a 'credit_pack'");
  }
  const bool is_plan = !request.plan.empty();
  std::int64_t price = 0;
  std::optional<std::int64_t> credits;
  std::string label;
  if (is_plan) {
    const auto* p = ledger_.plans().find(request.plan);
    if (p == nullptr || p->price_cents <= 0) {
      return error(billing_errc::invalid_request,
                   p == nullptr ? "no plan named '" + request.plan + "'"
                                : "the " + p->display_name +
                                      " plan is free: it needs no checkout (cancel the paid "
                                      "plan to return to it at the end of the period)");
    }
    price = p->price_cents;
    label = "Reelfarm " + p->display_name + " plan (monthly)";
  } else {
    const auto* pack = options_.find_pack(request.credit_pack);
    if (pack == nullptr) {
      std::string known;
      for (const auto& k : options_.credit_packs) {
        known += (known.empty() ? "" : ", ") + k.name;
      }
      return error(billing_errc::invalid_request,
                   "no credit pack named '" + request.credit_pack + "'; packs are " + known);
    }
    price = pack->price_cents;
    credits = pack->credits;
    label = "Reelfarm " + std::to_string(pack->credits) + " credits";
  }
  bool opted_in = false;
  std::optional<subscription_view> live;
  auto read = in_transaction(ledger_, "billing_checkout", [&](pqxx::transaction_base& tx) {
    auto r = tx.exec_params("SELECT data_sharing_opt_in FROM users WHERE id = $1::uuid", user_id);
    if (r.empty()) {
      throw std::invalid_argument("no user with id " + user_id);
    }
    opted_in = r[0][0].as<bool>();
    auto s = tx.exec_params(live_subscription_sql, user_id);
    live = s.empty() ? std::nullopt : std::optional(view_from(s[0]));
  });
  if (!read) {
    return read.error();
  }
  if (is_plan && live) {
    return error(billing_errc::conflict,
                 "you already subscribe to the " + live->plan +
                     " plan; cancel it (it runs to the end of the paid period) or change it in "
                     "the customer portal");
  }
  auto customer = customer_of(user_id, true);
  if (!customer) {
    return customer.error();
  }
  if (opted_in) {
    if (auto coupon = ensure_coupon(); !coupon) {
      return coupon.error();
    }
  }
  const auto sep = options_.return_url.find('?') == std::string::npos ? "?" : "&";
  const std::string product = is_plan ? request.plan : request.credit_pack;
  stripe_params params{
      {"mode", is_plan ? "subscription" : "payment"},
      {"success_url", options_.return_url + sep + "checkout=success&session={CHECKOUT_SESSION_ID}"},
      {"cancel_url", options_.return_url + sep + "checkout=cancelled"},
      {"customer", *customer},
      {"client_reference_id", user_id},
      {"line_items[0][quantity]", "1"},
      {"line_items[0][price_data][currency]", options_.currency},
      {"line_items[0][price_data][unit_amount]", std::to_string(price)},
      {"line_items[0][price_data][product_data][name]", label},
      {"metadata[reelfarm_user]", user_id},
      {"metadata[reelfarm_kind]", is_plan ? "plan" : "credit_pack"},
      {"metadata[reelfarm_product]", product},
  };
  if (is_plan) {
    params.push_back({"line_items[0][price_data][recurring][interval]", "month"});
    params.push_back({"subscription_data[metadata][reelfarm_user]", user_id});
    params.push_back({"subscription_data[metadata][reelfarm_plan]", request.plan});
  } else {
    params.push_back({"metadata[reelfarm_credits]", std::to_string(*credits)});
    params.push_back({"payment_intent_data[metadata][reelfarm_user]", user_id});
  }
  if (opted_in) {
    params.push_back({"discounts[0][coupon]", options_.data_sharing_coupon});
  }
  auto suffix = random_hex(12);
  if (!suffix) {
    return suffix.error();
  }
  auto session = stripe_.post("checkout/sessions", params, "reelfarm-checkout-" + *suffix);
  if (!session) {
    return session.error();
  }
  checkout_link link;
  link.session_id = text_of(*session, "id");
  link.url = text_of(*session, "url");
  link.currency = text_of(*session, "currency");
  link.amount_cents = integer_of(*session, "amount_total").value_or(-1);
  link.discounted = opted_in;
  // What Stripe will charge must be the price, or the price less at most
  // the membership discount: anything else is not what was asked for.
  const auto floor = price - (price * options_.data_sharing_percent_off + 99) / 100;
  if (!link.session_id.starts_with("cs_") || link.url.empty() ||
      link.currency != options_.currency || link.amount_cents > price ||
      link.amount_cents < (opted_in ? floor : price)) {
    return error(billing_errc::stripe_bad_response,
                 "POST /v1/checkout/sessions answered a session that is not the one asked for "
                 "(id, url, currency or amount_total)");
  }
  auto stored = in_transaction(ledger_, "billing_checkout", [&](pqxx::transaction_base& tx) {
    tx.exec_params0(
        "INSERT INTO billing_checkouts (session_id, user_id, kind, product, credits, "
        "amount_cents, currency, discounted) VALUES ($1, $2::uuid, $3, $4, $5, $6, $7, $8)",
        link.session_id, user_id, is_plan ? "plan" : "credit_pack", product, credits,
        link.amount_cents, link.currency, opted_in);
  });
  if (!stored) {
    return stored.error();
  }
  log::info("billing", "checkout started",
            {{"user", user_id}, {"session", link.session_id}, {"product", product}});
  return link;
}

result<std::optional<subscription_view>> billing_service::subscription(const std::string& user_id) {
  std::optional<subscription_view> out;
  auto read = in_transaction(ledger_, "billing_subscription", [&](pqxx::transaction_base& tx) {
    auto r = tx.exec_params(live_subscription_sql, user_id);
    out = r.empty() ? std::nullopt : std::optional(view_from(r[0]));
  });
  if (!read) {
    return read.error();
  }
  return out;
}

result<subscription_view> billing_service::cancel_at_period_end(const std::string& user_id) {
  auto live = subscription(user_id);
  if (!live) {
    return live.error();
  }
  if (!*live) {
    return error(billing_errc::conflict, "you have no subscription to cancel");
  }
  auto& view = **live;
  auto updated =
      stripe_.post("subscriptions/" + view.subscription_id, {{"cancel_at_period_end", "true"}},
                   "reelfarm-cancel-" + view.subscription_id);
  if (!updated) {
    return updated.error();
  }
  view.cancel_at_period_end = true;
  auto stored = in_transaction(ledger_, "billing_cancel", [&](pqxx::transaction_base& tx) {
    tx.exec_params0(
        "UPDATE billing_subscriptions SET cancel_at_period_end = true, updated_at = now() "
        "WHERE subscription_id = $1",
        view.subscription_id);
  });
  if (!stored) {
    return stored.error();
  }
  log::info("billing", "subscription cancelled at period end",
            {{"user", user_id}, {"subscription", view.subscription_id}});
  return view;
}

result<json> billing_service::invoices(const std::string& user_id, int limit) {
  auto customer = customer_of(user_id, false);
  if (!customer) {
    return customer.error();
  }
  json items = json::array();
  if (customer->empty()) {
    return json{{"items", items}, {"has_more", false}};
  }
  auto list = stripe_.get("invoices", {{"customer", *customer}, {"limit", std::to_string(limit)}});
  if (!list) {
    return list.error();
  }
  auto data = list->find("data");
  if (data == list->end() || !data->is_array()) {
    return error(billing_errc::stripe_bad_response, "GET /v1/invoices answered no list");
  }
  for (const auto& i : *data) {
    if (!i.is_object() || text_of(i, "customer") != *customer) {
      continue;  // never show one customer's invoice to another
    }
    items.push_back({{"id", text_of(i, "id")},
                     {"number", text_of(i, "number")},
                     {"status", text_of(i, "status")},
                     {"amount_due", integer_of(i, "amount_due").value_or(0)},
                     {"amount_paid", integer_of(i, "amount_paid").value_or(0)},
                     {"currency", text_of(i, "currency")},
                     {"created", integer_of(i, "created").value_or(0)},
                     {"period_start", integer_of(i, "period_start").value_or(0)},
                     {"period_end", integer_of(i, "period_end").value_or(0)},
                     {"hosted_invoice_url", text_of(i, "hosted_invoice_url")},
                     {"invoice_pdf", text_of(i, "invoice_pdf")}});
  }
  auto more = list->find("has_more");
  return json{{"items", items}, {"has_more", more != list->end() && more->is_boolean() && *more}};
}

result<std::string> billing_service::portal_url(const std::string& user_id) {
  auto customer = customer_of(user_id, false);
  if (!customer) {
    return customer.error();
  }
  if (customer->empty()) {
    return error(billing_errc::conflict,
                 "there is nothing to manage yet: the customer portal opens after the first "
                 "checkout");
  }
  auto suffix = random_hex(12);
  if (!suffix) {
    return suffix.error();
  }
  auto session = stripe_.post("billing_portal/sessions",
                              {{"customer", *customer}, {"return_url", options_.return_url}},
                              "reelfarm-portal-" + *suffix);
  if (!session) {
    return session.error();
  }
  auto url = text_of(*session, "url");
  if (url.empty()) {
    return error(billing_errc::stripe_bad_response,
                 "POST /v1/billing_portal/sessions answered no url");
  }
  return url;
}

result<std::int64_t> billing_service::expire_overdue(std::chrono::system_clock::time_point now) {
  const auto cutoff =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() -
      options_.grace_period.count();
  const auto& fallback = ledger_.plans().default_plan();
  const auto today = std::chrono::floor<std::chrono::days>(now);
  std::vector<std::string> lapsed;
  auto done = ledger_.transact(
      "billing_expire", [&](pqxx::transaction_base& tx, std::vector<ledger_entry>&) {
        lapsed.clear();
        auto due = tx.exec_params(
            "UPDATE billing_subscriptions SET status = 'lapsed', ended = true, updated_at = now() "
            "WHERE NOT ended AND status = 'past_due' AND past_due_since IS NOT NULL "
            "AND past_due_since <= to_timestamp($1) RETURNING subscription_id, user_id::text",
            cutoff);
        for (const auto& row : due) {
          lapsed.push_back(row[0].as<std::string>());
          credit_ledger::set_plan_in(tx, row[1].as<std::string>(), fallback,
                                     std::chrono::sys_days(today) + std::chrono::days(30));
        }
      });
  if (!done) {
    return done.error();
  }
  for (const auto& id : lapsed) {
    log::warn("billing", "subscription lapsed after its grace period; back to the default plan",
              {{"subscription", id}});
    // Stop Stripe from billing a plan the user no longer has.
    if (auto cancelled = stripe_.del("subscriptions/" + id, "reelfarm-lapse-" + id); !cancelled) {
      log::error("billing", "could not cancel a lapsed subscription at Stripe",
                 {{"subscription", id}, {"error", cancelled.error().message()}});
    }
  }
  return static_cast<std::int64_t>(lapsed.size());
}

}  // namespace reelfarm::billing
