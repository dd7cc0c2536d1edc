#include "reelfarm/billing/stripe_webhook.hpp"

#include <pqxx/pqxx>

#include <nlohmann/json.hpp>
#include <regex>

#include "json_fields.hpp"
#include "reelfarm/billing/errc.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/store/errc.hpp"

namespace reelfarm::billing {
namespace {

using json = nlohmann::json;
using effect = webhook_outcome::effect;

bool stripe_id(const std::string& id, std::string_view prefix) {
  static const std::regex shape("^[A-Za-z0-9_]{1,255}$");
  return id.starts_with(prefix) && std::regex_match(id, shape);
}

// A reference Stripe sends as an id, or as the object when expanded.
std::string id_of(const json& object, const char* key, std::string_view prefix) {
  auto it = object.find(key);
  std::string id;
  if (it != object.end() && it->is_string()) {
    id = it->get<std::string>();
  } else if (it != object.end() && it->is_object()) {
    id = text_of(*it, "id");
  }
  return stripe_id(id, prefix) ? id : std::string();
}

std::chrono::sys_days day_of(std::int64_t unix_seconds) {
  return std::chrono::sys_days(std::chrono::days(unix_seconds / 86400));
}

// Refusing an event rolls its transaction back; apply() turns this into the
// error it carries.
struct refused_event : std::runtime_error {
  refused_event(billing_errc c, const std::string& m) : std::runtime_error(m), code(c) {}
  billing_errc code;
};

// Applies one event inside one transaction.
class event_applier {
 public:
  event_applier(pqxx::transaction_base& tx, const plan_catalog& plans, std::int64_t created,
                std::vector<ledger_entry>& moved, webhook_outcome& out)
      : tx_(tx), plans_(plans), created_(created), moved_(moved), out_(out) {}

  void checkout(const json& session);
  void invoice_paid(const json& invoice);
  void payment_failed(const json& invoice);
  void subscription_changed(const json& subscription, bool deleted);
  void charge_refunded(const json& charge);

 private:
  const plan& plan_named(const std::string& name) const;
  bool renew_for_invoice(const std::string& invoice, const std::string& user,
                         const std::string& subscription, std::int64_t amount,
                         const std::string& currency, const plan& p);
  void ignore(std::string why) {
    out_.what = effect::ignored;
    out_.note = std::move(why);
  }

  pqxx::transaction_base& tx_;
  const plan_catalog& plans_;
  std::int64_t created_;
  std::vector<ledger_entry>& moved_;
  webhook_outcome& out_;
};

const plan& event_applier::plan_named(const std::string& name) const {
  const auto* p = plans_.find(name);
  if (p == nullptr) {
    throw refused_event(billing_errc::invalid_event, "no plan named '" + name + "' any more");
  }
  return *p;
}

void event_applier::checkout(const json& session) {
  const auto id = text_of(session, "id");
  const auto mode = text_of(session, "mode");
  // Only money that arrived counts: an async payment (a bank debit)
  // completes the session unpaid and succeeds later in its own event.
  if (text_of(session, "payment_status") != "paid") {
    return ignore("the session is not paid (yet)");
  }
  auto row = tx_.exec_params(
      "SELECT user_id::text, kind, product, credits, amount_cents, currency "
      "FROM billing_checkouts WHERE session_id = $1 FOR UPDATE",
      id);
  if (row.empty()) {
    throw refused_event(billing_errc::invalid_event,
                        "Checkout Session " + id + " was not created by this farm");
  }
  const auto user = row[0][0].as<std::string>();
  const auto kind = row[0][1].as<std::string>();
  const auto product = row[0][2].as<std::string>();
  const auto asked = row[0][4].as<std::int64_t>();
  const auto currency = row[0][5].as<std::string>();
  const auto paid = integer_of(session, "amount_total").value_or(-1);
  auto reference = text_of(session, "client_reference_id");
  if ((!reference.empty() && reference != user) || paid != asked ||
      text_of(session, "currency") != currency ||
      mode != (kind == "plan" ? "subscription" : "payment")) {
    throw refused_event(
        billing_errc::invalid_event,
        "Checkout Session " + id + " is not what was sold: " + std::to_string(paid) + " " +
            text_of(session, "currency") + " in mode " + mode + ", asked " + std::to_string(asked) +
            " " + currency + " for " + kind + " " + product);
  }
  out_.user_id = user;
  const auto customer = id_of(session, "customer", "cus_");
  if (kind == "credit_pack") {
    const auto credits = row[0][3].as<std::int64_t>();
    const auto payment = id_of(session, "payment_intent", "pi_");
    auto entry = credit_ledger::purchase_in(
        tx_, user, credits, payment.empty() ? id : payment,
        "Stripe Checkout " + id + " (" + std::to_string(paid) + " " + currency +
            (customer.empty() ? "" : ", customer " + customer) + ")",
        "stripe:checkout:" + id);
    out_.what = entry.replayed ? effect::already_applied : effect::credited;
    out_.credits = credits;
    moved_.push_back(std::move(entry));
    if (!payment.empty()) {
      tx_.exec_params0(
          "INSERT INTO billing_payments (payment_intent, user_id, session_id, credits, "
          "amount_cents, currency) VALUES ($1, $2::uuid, $3, $4, $5, $6) "
          "ON CONFLICT (payment_intent) DO NOTHING",
          payment, user, id, credits, paid, currency);
    }
  } else {
    const auto subscription = id_of(session, "subscription", "sub_");
    if (subscription.empty()) {
      throw refused_event(billing_errc::invalid_event,
                          "subscription Checkout Session " + id + " names no subscription");
    }
    const auto& p = plan_named(product);
    tx_.exec_params0(
        "INSERT INTO billing_subscriptions (subscription_id, user_id, plan, status) "
        "VALUES ($1, $2::uuid, $3, 'active') ON CONFLICT (subscription_id) DO NOTHING",
        subscription, user, p.name);
    auto ended = tx_.exec_params1(
        "SELECT ended FROM billing_subscriptions WHERE subscription_id = $1 FOR UPDATE",
        subscription)[0];
    if (ended.as<bool>()) {
      return ignore("the subscription ended before its checkout was reported");
    }
    credit_ledger::set_plan_in(tx_, user, p, std::nullopt);
    auto invoice = id_of(session, "invoice", "in_");
    bool renewed = renew_for_invoice(invoice.empty() ? "start:" + subscription : invoice, user,
                                     subscription, paid, currency, p);
    out_.what = renewed ? effect::subscribed : effect::already_applied;
  }
  tx_.exec_params0(
      "UPDATE billing_checkouts SET completed_at = coalesce(completed_at, now()) "
      "WHERE session_id = $1",
      id);
}

// The credits of one paid period, once per invoice.
bool event_applier::renew_for_invoice(const std::string& invoice, const std::string& user,
                                      const std::string& subscription, std::int64_t amount,
                                      const std::string& currency, const plan& p) {
  tx_.exec_params0(
      "INSERT INTO billing_invoices (invoice_id, user_id, subscription_id, amount_paid, currency) "
      "VALUES ($1, $2::uuid, $3, $4, $5) ON CONFLICT (invoice_id) DO NOTHING",
      invoice, user, subscription, amount, currency);
  auto renewed =
      tx_.exec_params1("SELECT renewed FROM billing_invoices WHERE invoice_id = $1 FOR UPDATE",
                       invoice)[0]
          .as<bool>();
  if (renewed) {
    return false;
  }
  if (!p.unlimited()) {
    auto entry = credit_ledger::renew_in(
        tx_, user, *p.monthly_credits,
        p.display_name + " plan credits for the period paid by Stripe invoice " + invoice,
        "stripe:invoice:" + invoice);
    if (entry) {
      out_.credits = entry->amount;
      moved_.push_back(std::move(*entry));
    }
  }
  tx_.exec_params0("UPDATE billing_invoices SET renewed = true WHERE invoice_id = $1", invoice);
  return true;
}

void event_applier::invoice_paid(const json& invoice) {
  const auto id = text_of(invoice, "id");
  const auto subscription = id_of(invoice, "subscription", "sub_");
  if (subscription.empty()) {
    return ignore("not a subscription invoice");
  }
  auto row = tx_.exec_params(
      "SELECT user_id::text, plan, ended FROM billing_subscriptions WHERE subscription_id = $1 "
      "FOR UPDATE",
      subscription);
  if (row.empty()) {
    throw refused_event(billing_errc::not_ready, "invoice " + id + " is for subscription " +
                                                     subscription +
                                                     ", not known yet (its checkout comes first)");
  }
  if (row[0][2].as<bool>()) {
    return ignore("the subscription has ended");
  }
  const auto user = row[0][0].as<std::string>();
  const auto& p = plan_named(row[0][1].as<std::string>());
  out_.user_id = user;
  bool renewed =
      renew_for_invoice(id, user, subscription, integer_of(invoice, "amount_paid").value_or(0),
                        text_of(invoice, "currency"), p);
  tx_.exec_params0(
      "UPDATE billing_subscriptions SET status = 'active', past_due_since = NULL, "
      "updated_at = now() WHERE subscription_id = $1",
      subscription);
  credit_ledger::set_plan_in(tx_, user, p, std::nullopt);
  out_.what = renewed ? effect::renewed : effect::already_applied;
}

void event_applier::payment_failed(const json& invoice) {
  const auto id = text_of(invoice, "id");
  const auto subscription = id_of(invoice, "subscription", "sub_");
  if (subscription.empty()) {
    return ignore("not a subscription invoice");
  }
  auto row = tx_.exec_params(
      "SELECT user_id::text, ended FROM billing_subscriptions WHERE subscription_id = $1 FOR "
      "UPDATE",
      subscription);
  if (row.empty()) {
    throw refused_event(billing_errc::not_ready, "invoice " + id + " is for subscription " +
                                                     subscription + ", not known yet");
  }
  if (row[0][1].as<bool>()) {
    return ignore("the subscription has ended");
  }
  out_.user_id = row[0][0].as<std::string>();
  tx_.exec_params0(
      "UPDATE billing_subscriptions SET status = 'past_due', "
      "past_due_since = coalesce(past_due_since, to_timestamp($2)), updated_at = now() "
      "WHERE subscription_id = $1",
      subscription, created_);
  out_.what = effect::past_due;
}

void event_applier::subscription_changed(const json& object, bool deleted) {
  const auto id = text_of(object, "id");
  const auto status = text_of(object, "status");
  const bool terminal =
      deleted || status == "canceled" || status == "unpaid" || status == "incomplete_expired";
  const auto period_end = integer_of(object, "current_period_end").value_or(0);
  const bool cancel_at_end = flag_of(object, "cancel_at_period_end");
  auto row = tx_.exec_params(
      "SELECT user_id::text, plan, ended, last_event_at FROM billing_subscriptions "
      "WHERE subscription_id = $1 FOR UPDATE",
      id);
  if (row.empty()) {
    // Overtook its checkout: remember what Stripe said; the plan itself
    // comes with the payment (checkout.session.completed).
    auto customer =
        tx_.exec_params("SELECT user_id::text FROM billing_customers WHERE customer_id = $1",
                        id_of(object, "customer", "cus_"));
    std::string plan_name;
    if (auto m = object.find("metadata"); m != object.end() && m->is_object()) {
      plan_name = text_of(*m, "reelfarm_plan");
    }
    if (customer.empty() || plans_.find(plan_name) == nullptr) {
      return ignore("not a subscription this farm sold");
    }
    out_.user_id = customer[0][0].as<std::string>();
    tx_.exec_params0(
        "INSERT INTO billing_subscriptions (subscription_id, user_id, plan, status, "
        "current_period_end, cancel_at_period_end, ended, last_event_at) "
        "VALUES ($1, $2::uuid, $3, $4, to_timestamp($5), $6, $7, $8)",
        id, out_.user_id, plan_name, status, period_end, cancel_at_end, terminal, created_);
    out_.what = effect::updated;
    return;
  }
  const auto user = row[0][0].as<std::string>();
  out_.user_id = user;
  if (row[0][2].as<bool>()) {
    return ignore("the subscription has ended");
  }
  if (created_ < row[0][3].as<std::int64_t>()) {
    return ignore("older than the subscription state already recorded");
  }
  tx_.exec_params0(
      "UPDATE billing_subscriptions SET status = $2::text, current_period_end = "
      "CASE WHEN $3::bigint > 0 THEN to_timestamp($3) ELSE current_period_end END, "
      "cancel_at_period_end = $4, last_event_at = $5::bigint, ended = $6, "
      "past_due_since = CASE WHEN $2::text = 'active' THEN NULL "
      "WHEN $2::text = 'past_due' THEN coalesce(past_due_since, to_timestamp($5::bigint)) "
      "ELSE past_due_since END, updated_at = now() WHERE subscription_id = $1",
      id, status, period_end, cancel_at_end, created_, terminal);
  out_.what = effect::updated;
  if (!terminal) {
    return;
  }
  // Back to the default plan, renewed by Reelfarm's calendar from now on,
  // unless another subscription holds the user's plan.
  auto current = tx_.exec_params1("SELECT plan FROM credit_lock_user($1::uuid)", user)[0];
  auto others = tx_.exec_params(
      "SELECT 1 FROM billing_subscriptions WHERE user_id = $1::uuid AND NOT ended "
      "AND subscription_id <> $2 AND status IN ('active', 'trialing', 'past_due')",
      user, id);
  if (current.as<std::string>() == row[0][1].as<std::string>() && others.empty()) {
    credit_ledger::set_plan_in(tx_, user, plans_.default_plan(),
                               day_of(created_) + std::chrono::days(30));
  }
  out_.what = effect::plan_ended;
}

void event_applier::charge_refunded(const json& charge) {
  const auto payment = id_of(charge, "payment_intent", "pi_");
  auto row = tx_.exec_params(
      "SELECT user_id::text, credits, amount_cents, currency, refunded_cents, credits_taken_back "
      "FROM billing_payments WHERE payment_intent = $1 FOR UPDATE",
      payment);
  if (payment.empty() || row.empty()) {
    return ignore("not a payment for credits (a plan's refund keeps the period's credits)");
  }
  const auto user = row[0][0].as<std::string>();
  const auto credits = row[0][1].as<std::int64_t>();
  const auto amount = row[0][2].as<std::int64_t>();
  const auto currency = row[0][3].as<std::string>();
  out_.user_id = user;
  if (integer_of(charge, "amount").value_or(-1) != amount ||
      text_of(charge, "currency") != currency || amount <= 0) {
    throw refused_event(billing_errc::invalid_event,
                        "refunded charge of " + payment + " is not the payment recorded");
  }
  const auto refunded = std::min(integer_of(charge, "amount_refunded").value_or(0), amount);
  if (refunded <= row[0][4].as<std::int64_t>()) {
    out_.what = effect::already_applied;
    return;
  }
  // The credits the refunded share bought, rounded up; those already spent
  // stay spent (the balance never goes below zero).
  const auto owed = std::min(credits, (credits * refunded + amount - 1) / amount);
  const auto take = owed - row[0][5].as<std::int64_t>();
  out_.what = effect::reversed;
  if (take > 0) {
    auto entry = credit_ledger::reverse_in(
        tx_, user, take, payment,
        "Stripe refund of " + payment + " (" + std::to_string(refunded) + " of " +
            std::to_string(amount) + " " + currency + " refunded): unused credits taken back",
        "stripe:refund:" + payment + ":" + std::to_string(refunded));
    if (entry) {
      out_.credits = entry->amount;
      moved_.push_back(std::move(*entry));
    }
  }
  tx_.exec_params0(
      "UPDATE billing_payments SET refunded_cents = $2, credits_taken_back = $3 "
      "WHERE payment_intent = $1",
      payment, refunded, owed);
}

// The object prefix each handled event type carries in data.object.
struct handled_type {
  std::string_view type;
  std::string_view object;
  std::string_view prefix;
};
constexpr handled_type handled[] = {
    {"checkout.session.completed", "checkout.session", "cs_"},
    {"checkout.session.async_payment_succeeded", "checkout.session", "cs_"},
    {"invoice.paid", "invoice", "in_"},
    {"invoice.payment_failed", "invoice", "in_"},
    {"customer.subscription.created", "subscription", "sub_"},
    {"customer.subscription.updated", "subscription", "sub_"},
    {"customer.subscription.deleted", "subscription", "sub_"},
    {"charge.refunded", "charge", "ch_"},
};

}  // namespace

std::string_view to_string(webhook_outcome::effect e) noexcept {
  switch (e) {
    case effect::credited:
      return "credited";
    case effect::already_applied:
      return "already_applied";
    case effect::subscribed:
      return "subscribed";
    case effect::renewed:
      return "renewed";
    case effect::past_due:
      return "past_due";
    case effect::plan_ended:
      return "plan_ended";
    case effect::updated:
      return "updated";
    case effect::reversed:
      return "reversed";
    case effect::ignored:
      return "ignored";
  }
  return "ignored";
}

result<webhook_outcome> stripe_webhook::apply(std::string_view payload) {
  auto event = json::parse(payload, nullptr, false);
  if (!event.is_object() || text_of(event, "object") != "event" ||
      !stripe_id(text_of(event, "id"), "evt_") || text_of(event, "type").empty()) {
    return error(billing_errc::malformed_event,
                 "the body is not a Stripe event (object \"event\", id evt_..., type)");
  }
  webhook_outcome out;
  out.event_id = text_of(event, "id");
  out.type = text_of(event, "type");
  const handled_type* kind = nullptr;
  for (const auto& h : handled) {
    if (h.type == out.type) {
      kind = &h;
    }
  }
  if (kind == nullptr) {
    out.note = "an event type that changes nothing here";
    return out;
  }
  const json* object = nullptr;
  if (auto data = event.find("data"); data != event.end() && data->is_object()) {
    if (auto o = data->find("object"); o != data->end() && o->is_object()) {
      object = &*o;
    }
  }
  if (object == nullptr || text_of(*object, "object") != kind->object ||
      !stripe_id(text_of(*object, "id"), kind->prefix)) {
    return error(billing_errc::malformed_event,
                 out.type + ": data.object is not a " + std::string(kind->object));
  }
  const auto created = integer_of(event, "created").value_or(0);
  std::optional<refused_event> refused;
  webhook_outcome applied;
  auto done = ledger_.transact(
      "stripe_event", [&](pqxx::transaction_base& tx, std::vector<ledger_entry>& moved) {
        applied = out;
        refused.reset();
        auto seen =
            tx.exec_params("SELECT effect FROM billing_events WHERE event_id = $1", out.event_id);
        if (!seen.empty()) {
          applied.what = effect::already_applied;
          return;
        }
        event_applier apply(tx, ledger_.plans(), created, moved, applied);
        try {
          if (kind->object == "checkout.session") {
            apply.checkout(*object);
          } else if (out.type == "invoice.paid") {
            apply.invoice_paid(*object);
          } else if (out.type == "invoice.payment_failed") {
            apply.payment_failed(*object);
          } else if (kind->object == "subscription") {
            apply.subscription_changed(*object, out.type == "customer.subscription.deleted");
          } else {
            apply.charge_refunded(*object);
          }
        } catch (const refused_event& e) {
          refused = e;
          throw;
        }
        tx.exec_params0("INSERT INTO billing_events (event_id, type, effect) VALUES ($1, $2, $3)",
                        out.event_id, out.type, std::string(to_string(applied.what)));
      });
  if (refused) {
    return error(refused->code, out.type + " " + out.event_id + ": " + refused->what());
  }
  if (!done) {
    const auto& e = done.error();
    if (e.is(store_errc::not_found) || e.is(store_errc::invalid_argument) ||
        e.is(store_errc::conflict)) {
      return error(billing_errc::invalid_event, out.type + " " + out.event_id + ": " + e.message());
    }
    return error(billing_errc::ledger,
                 out.type + " " + out.event_id + ": the ledger failed: " + e.message());
  }
  log::info("billing", "stripe event applied",
            {{"event", applied.event_id},
             {"type", applied.type},
             {"effect", std::string(to_string(applied.what))},
             {"user", applied.user_id},
             {"credits", applied.credits}});
  return applied;
}

}  // namespace reelfarm::billing
