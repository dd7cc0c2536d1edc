#include "reelfarm/store/plan_catalog.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "reelfarm/store/errc.hpp"

namespace reelfarm {
namespace {

const std::set<std::string> plan_keys = {"display_name",      "price_usd", "monthly_credits",
                                         "max_video_minutes", "watermark", "priority"};

std::string position(const std::string& source, const YAML::Mark& mark) {
  if (mark.is_null()) {
    return source;
  }
  return source + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

error plan_error(const std::string& where, const std::string& what) {
  return error(store_errc::plan_file, where + ": " + what);
}

result<std::int64_t> parse_whole(const std::string& text, const std::string& where,
                                 const std::string& key) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0) {
    return plan_error(where,
                      "'" + key + "' must be a whole number of 0 or more, not '" + text + "'");
  }
  return v;
}

// Prices are parsed from the text, not through a double, so 9.99 is exactly 999 cents.
result<std::int64_t> parse_price_cents(const std::string& text, const std::string& where) {
  auto dot = text.find('.');
  auto whole_text = text.substr(0, dot);
  std::string frac = dot == std::string::npos ? "" : text.substr(dot + 1);
  auto bad = [&] {
    return plan_error(
        where,
        "'price_usd' must be an amount like 9.99 (at most two decimals), not '" + text + "'");
  };
  if (whole_text.empty() || frac.size() > 2 || (dot != std::string::npos && frac.empty())) {
    return bad();
  }
  for (char c : whole_text + frac) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return bad();
    }
  }
  while (frac.size() < 2) {
    frac += '0';
  }
  auto whole = parse_whole(whole_text, where, "price_usd");
  if (!whole) {
    return bad();
  }
  return *whole * 100 + std::stoll(frac);
}

result<bool> parse_bool(const YAML::Node& node, const std::string& where, const std::string& key) {
  const auto& s = node.Scalar();
  if (s == "true") {
    return true;
  }
  if (s == "false") {
    return false;
  }
  return plan_error(where, "'" + key + "' must be true or false, not '" + s + "'");
}

result<void> apply_key(plan& p, const std::string& key, const YAML::Node& value,
                       const std::string& where) {
  if (!value.IsScalar()) {
    return plan_error(where, "'" + key + "' must be a single value");
  }
  const auto& text = value.Scalar();
  if (key == "display_name") {
    p.display_name = text;
  } else if (key == "price_usd") {
    auto cents = parse_price_cents(text, where);
    if (!cents) {
      return cents.error();
    }
    p.price_cents = *cents;
  } else if (key == "monthly_credits") {
    if (text == "unlimited") {
      p.monthly_credits.reset();
    } else {
      auto credits = parse_whole(text, where, key + "' (or 'unlimited'");
      if (!credits) {
        return credits.error();
      }
      p.monthly_credits = *credits;
    }
  } else if (key == "max_video_minutes") {
    auto minutes = parse_whole(text, where, key);
    if (!minutes) {
      return minutes.error();
    }
    p.max_video = std::chrono::minutes(*minutes);
  } else {
    auto flag = parse_bool(value, where, key);
    if (!flag) {
      return flag.error();
    }
    (key == "watermark" ? p.watermark : p.priority) = *flag;
  }
  return ok();
}

std::string join_keys() {
  std::string out;
  for (const auto& k : plan_keys) {
    out += (out.empty() ? "" : ", ") + k;
  }
  return out;
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 40) {
    return false;
  }
  for (char c : name) {
    if (!std::islower(static_cast<unsigned char>(c)) &&
        !std::isdigit(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

result<plan> parse_plan(const std::string& name, const YAML::Node& body,
                        const std::string& source) {
  auto where = position(source, body.Mark());
  if (!body.IsMap()) {
    return plan_error(where, "plan '" + name + "' must be a mapping of " + join_keys());
  }
  plan p;
  p.name = name;
  p.display_name = name;
  p.display_name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
  p.monthly_credits = -1;  // marks "not given"
  bool price_given = false;
  for (const auto& entry : body) {
    auto key = entry.first.Scalar();
    auto key_where = position(source, entry.first.Mark());
    if (plan_keys.count(key) == 0) {
      return plan_error(
          key_where, "unknown key 'plans." + name + "." + key + "' (known: " + join_keys() + ")");
    }
    if (auto applied =
            apply_key(p, key, entry.second,
                      position(source, entry.second.Mark()) + " (plans." + name + "." + key + ")");
        !applied) {
      return applied.error();
    }
    price_given = price_given || key == "price_usd";
  }
  if (!price_given || p.monthly_credits == -1) {
    return plan_error(where, "plan '" + name + "' needs both price_usd and monthly_credits");
  }
  return p;
}

result<std::vector<plan>> parse_plans(const YAML::Node& node, const std::string& source) {
  if (!node || !node.IsMap() || node.size() == 0) {
    return plan_error(position(source, node ? node.Mark() : YAML::Mark::null_mark()),
                      "'plans' must be a non-empty mapping of plan names to plans");
  }
  std::vector<plan> out;
  std::set<std::string> seen;
  for (const auto& entry : node) {
    auto name = entry.first.Scalar();
    auto where = position(source, entry.first.Mark());
    if (!valid_name(name)) {
      return plan_error(
          where, "plan name '" + name + "' must be lower-case letters, digits, '_' or '-' (1-40)");
    }
    if (!seen.insert(name).second) {
      return plan_error(where, "plan '" + name + "' appears twice");
    }
    auto p = parse_plan(name, entry.second, source);
    if (!p) {
      return p.error();
    }
    out.push_back(std::move(p).value());
  }
  return out;
}

}  // namespace

std::int64_t credits_for_duration(std::chrono::milliseconds duration) noexcept {
  if (duration.count() <= 0) {
    return 0;
  }
  auto started_minutes = (duration.count() + 59999) / 60000;
  return started_minutes * 3;
}

plan_catalog plan_catalog::defaults() {
  using std::chrono::minutes;
  std::vector<plan> plans = {
      {"free", "Free", 0, 3, minutes(1), true, false},
      {"standard", "Standard", 999, 30, minutes(3), false, false},
      {"pro", "Pro", 2999, 100, minutes(5), false, true},
      {"enterprise", "Enterprise", 29999, std::nullopt, minutes(0), false, true},
  };
  return plan_catalog(std::move(plans), 0);
}

result<plan_catalog> plan_catalog::load_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) {
    return error(store_errc::plan_file, file.string() + ": cannot read the plans file");
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), file.string());
}

result<plan_catalog> plan_catalog::parse(const std::string& yaml, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return plan_error(position(source, e.mark), "not valid YAML: " + e.msg);
  }
  if (!root.IsMap()) {
    return plan_error(position(source, root.Mark()),
                      "the top level must be a mapping with default_plan and plans");
  }
  for (const auto& entry : root) {
    auto key = entry.first.Scalar();
    if (key != "default_plan" && key != "plans") {
      return plan_error(position(source, entry.first.Mark()),
                        "unknown key '" + key + "' (known: default_plan, plans)");
    }
  }
  auto plans = parse_plans(root["plans"], source);
  if (!plans) {
    return plans.error();
  }
  auto default_node = root["default_plan"];
  std::string default_name = default_node ? default_node.Scalar() : "free";
  for (std::size_t i = 0; i < plans->size(); ++i) {
    if ((*plans)[i].name == default_name) {
      return plan_catalog(std::move(plans).value(), i);
    }
  }
  return plan_error(position(source, default_node ? default_node.Mark() : root.Mark()),
                    "default_plan '" + default_name + "' is not one of the plans");
}

const plan* plan_catalog::find(const std::string& name) const noexcept {
  for (const auto& p : plans_) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

result<plan> plan_catalog::get(const std::string& name) const {
  if (const auto* p = find(name)) {
    return *p;
  }
  std::string known;
  for (const auto& p : plans_) {
    known += (known.empty() ? "" : ", ") + p.name;
  }
  return error(store_errc::not_found, "no plan called '" + name + "' (known: " + known + ")");
}

const plan& plan_catalog::default_plan() const noexcept {
  return plans_[default_index_];
}

}  // namespace reelfarm
