#include "reelfarm/billing/stripe_webhook.hpp"

#include <nlohmann/json.hpp>
#include <regex>

#include "reelfarm/billing/errc.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/store/errc.hpp"

namespace reelfarm::billing {
namespace {

using json = nlohmann::json;

std::string text_of(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool stripe_id(const std::string& id, std::string_view prefix) {
  static const std::regex shape("^[A-Za-z0-9_]{1,255}$");
  return id.starts_with(prefix) && std::regex_match(id, shape);
}

bool uuid(const std::string& id) {
  static const std::regex shape("^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$");
  return std::regex_match(id, shape);
}

// Stripe metadata values are strings: "250".
std::int64_t credits_of(const json& session) {
  auto metadata = session.find("metadata");
  if (metadata == session.end() || !metadata->is_object()) {
    return 0;
  }
  auto text = text_of(*metadata, "reelfarm_credits");
  if (text.empty() || text.size() > 7 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return 0;
  }
  return std::stoll(text);
}

}  // namespace

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
  if (out.type != "checkout.session.completed" &&
      out.type != "checkout.session.async_payment_succeeded") {
    out.note = "an event type that moves no credits";
    return out;
  }
  const json* session = nullptr;
  if (auto data = event.find("data"); data != event.end() && data->is_object()) {
    if (auto object = data->find("object"); object != data->end() && object->is_object()) {
      session = &*object;
    }
  }
  if (session == nullptr || text_of(*session, "object") != "checkout.session" ||
      !stripe_id(text_of(*session, "id"), "cs_")) {
    return error(billing_errc::malformed_event,
                 out.type + ": data.object is not a Checkout Session");
  }
  const auto session_id = text_of(*session, "id");
  if (text_of(*session, "mode") != "payment") {
    out.note = "not a one-time payment (subscriptions are not sold yet)";
    return out;
  }
  // Only money that arrived buys credits: an async payment (a bank debit)
  // completes the session unpaid and succeeds later in its own event.
  if (text_of(*session, "payment_status") != "paid") {
    out.note = "the session is not paid (yet)";
    return out;
  }
  const auto user = text_of(*session, "client_reference_id");
  const auto credits = credits_of(*session);
  if (!uuid(user) || credits < 1 || credits > max_credits_per_session) {
    return error(billing_errc::invalid_event,
                 "Checkout Session " + session_id +
                     " names no Reelfarm user (client_reference_id) or no credits "
                     "(metadata.reelfarm_credits 1.." +
                     std::to_string(max_credits_per_session) + ")");
  }
  auto payment = text_of(*session, "payment_intent");
  std::string amount;
  if (auto total = session->find("amount_total"); total != session->end() && total->is_number()) {
    amount = " (" + total->dump() + " " + text_of(*session, "currency") + ")";
  }
  // The key is the session, not the event: Stripe sends two events for an
  // async payment and may repeat any of them; the session is paid once.
  auto entry =
      ledger_.purchase(user, credits, payment.empty() ? session_id : payment,
                       "Stripe Checkout " + session_id + amount, "stripe:checkout:" + session_id);
  if (!entry) {
    if (entry.error().is(store_errc::not_found) || entry.error().is(store_errc::invalid_argument) ||
        entry.error().is(store_errc::conflict)) {
      return error(billing_errc::invalid_event,
                   "Checkout Session " + session_id + ": " + entry.error().message());
    }
    return error(billing_errc::ledger, "Checkout Session " + session_id +
                                           ": the ledger failed: " + entry.error().message());
  }
  out.user_id = user;
  out.credits = credits;
  out.what = entry->replayed ? webhook_outcome::effect::already_credited
                             : webhook_outcome::effect::credited;
  log::info("billing", entry->replayed ? "checkout already credited" : "checkout credited",
            {{"event", out.event_id}, {"session", session_id}, {"credits", credits}});
  return out;
}

}  // namespace reelfarm::billing
