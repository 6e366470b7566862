#include "server/core/org/organisation.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/base/locale_text.h"
#include "server/base/text.h"
#include "server/core/org/config_fields.h"
#include "server/core/subscribers/contacts.h"

namespace herald {
namespace {

// A signatory and a reply address, as a rota or customer_comms gives them.
absl::Status ValidateVoice(const std::string& path,
                           const v1::Signatory& signed_by,
                           const std::string& reply_to) {
  if (signed_by.name().empty() != signed_by.title().empty()) {
    return FieldError(path + ".signed_by",
                      "give both name and title (\"Carol Jones\", \"Head of "
                      "Customer Care\"), or neither");
  }
  for (const auto& [field, text] :
       {std::pair<const char*, const std::string&>{"name", signed_by.name()},
        {"title", signed_by.title()}}) {
    if (absl::Status st = CheckLength(field, text, 200); !st.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".signed_by.", st.message()));
    }
  }
  if (!reply_to.empty()) {
    v1::Contact email;
    email.set_channel(v1::CHANNEL_KIND_EMAIL);
    email.set_address(reply_to);
    if (!ValidateContact(email).ok()) {
      return FieldError(
          path + ".reply_to",
          absl::StrCat("expected an email address, got \"", reply_to, "\""));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<AftercareSettings> ParseAftercare(
    const v1::AftercareConfig& config) {
  AftercareSettings out;
  std::vector<CreditPolicy::Tier> tiers;
  for (int i = 0; i < config.credit_tiers_size(); ++i) {
    const v1::CreditTier& t = config.credit_tiers(i);
    const std::string field = absl::StrCat("aftercare.credit_tiers[", i, "]");
    CreditPolicy::Tier tier;
    tier.plans = {t.plans().begin(), t.plans().end()};
    if (auto st =
            ParsePositiveDuration(absl::StrCat(field, ".min_duration"),
                                  t.min_duration(), "30m", &tier.min_duration);
        !st.ok()) {
      return st;
    }
    if (!(t.percent() > 0 && t.percent() <= 100)) {
      return FieldError(absl::StrCat(field, ".percent"),
                        "expected a share of the monthly fee above 0 and at "
                        "most 100");
    }
    tier.percent = t.percent();
    tiers.push_back(std::move(tier));
  }
  std::vector<CreditPolicy::Voucher> vouchers;
  for (int i = 0; i < config.vouchers_size(); ++i) {
    const v1::VoucherRule& v = config.vouchers(i);
    const std::string field = absl::StrCat("aftercare.vouchers[", i, "]");
    CreditPolicy::Voucher voucher;
    voucher.plans = {v.plans().begin(), v.plans().end()};
    if (auto st = ParsePositiveDuration(absl::StrCat(field, ".min_duration"),
                                        v.min_duration(), "30m",
                                        &voucher.min_duration);
        !st.ok()) {
      return st;
    }
    voucher.value = std::string(absl::StripAsciiWhitespace(v.value()));
    if (voucher.value.empty()) {
      return FieldError(absl::StrCat(field, ".value"),
                        "say what the voucher gives, e.g. \"one month free\"");
    }
    vouchers.push_back(std::move(voucher));
  }
  std::set<std::string> plan_ids;
  for (int i = 0; i < config.plans_size(); ++i) {
    const v1::PlanConfig& p = config.plans(i);
    const std::string field = absl::StrCat("aftercare.plans[", i, "]");
    if (p.id().empty() || !plan_ids.insert(p.id()).second) {
      return FieldError(absl::StrCat(field, ".id"),
                        p.id().empty() ? "required" : "used twice");
    }
    if (p.monthly_fee_cents() < 0) {
      return FieldError(absl::StrCat(field, ".monthly_fee_cents"),
                        "expected a fee in cents, 0 or more");
    }
    if (p.monthly_fee_cents() > 0 &&
        (p.currency().size() != 3 ||
         !std::all_of(p.currency().begin(), p.currency().end(),
                      absl::ascii_isupper))) {
      return FieldError(absl::StrCat(field, ".currency"),
                        "expected an ISO 4217 code such as EUR");
    }
  }
  out.credits = CreditPolicy(std::move(tiers), std::move(vouchers),
                             {config.plans().begin(), config.plans().end()});
  if (auto st = ParsePositiveDuration("aftercare.follow_up_after",
                                      config.follow_up_after(), "7d",
                                      &out.follow_up_after);
      !st.ok()) {
    return st;
  }
  if (auto st = ParsePositiveDuration("aftercare.apology_reminder_after",
                                      config.apology_reminder_after(), "2h",
                                      &out.apology_reminder_after);
      !st.ok()) {
    return st;
  }
  return out;
}

bool ValidId(const std::string& id) {
  if (id.empty()) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.')
      return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Organisation>> Organisation::Create(
    v1::Config config) {
  std::map<std::string, int> components, people;
  std::vector<ComponentRouter::Rule> routes;
  for (int i = 0; i < config.components_size(); ++i) {
    const auto& c = config.components(i);
    const std::string path = absl::StrCat("components[", i, "]");
    if (!ValidId(c.id())) {
      return FieldError(
          path + ".id",
          "expected a non-empty id of letters, digits, '-', '_' or '.'");
    }
    if (!components.emplace(c.id(), i).second) {
      return FieldError(path + ".id", absl::StrCat("duplicate component id \"",
                                                   c.id(), "\""));
    }
    if (c.name().empty())
      return FieldError(path + ".name", "expected a display name");
    ComponentRouter::Rule route{c.id(), {}};
    for (int j = 0; j < c.matchers_size(); ++j) {
      auto m = LabelMatcher::Parse(c.matchers(j));
      if (!m.ok())
        return FieldError(absl::StrCat(path, ".matchers[", j, "]"),
                          m.status().message());
      route.matchers.push_back(*std::move(m));
    }
    routes.push_back(std::move(route));
  }
  if (components.empty())
    return FieldError("components", "expected at least one component");
  std::map<std::string, std::string> grouped;  // component -> its group
  std::set<std::string> group_ids;
  for (int i = 0; i < config.component_groups_size(); ++i) {
    const auto& g = config.component_groups(i);
    const std::string path = absl::StrCat("component_groups[", i, "]");
    if (!ValidId(g.id())) {
      return FieldError(
          path + ".id",
          "expected a non-empty id of letters, digits, '-', '_' or '.'");
    }
    if (components.contains(g.id()) || !group_ids.insert(g.id()).second) {
      return FieldError(
          path + ".id",
          absl::StrCat("\"", g.id(), "\" is already a component or group id"));
    }
    if (g.name().empty())
      return FieldError(path + ".name", "expected a display name");
    if (g.components_size() == 0) {
      return FieldError(path + ".components",
                        "expected at least one component id");
    }
    for (int j = 0; j < g.components_size(); ++j) {
      const std::string member_path =
          absl::StrCat(path, ".components[", j, "]");
      if (!components.contains(g.components(j))) {
        return FieldError(member_path, absl::StrCat("unknown component \"",
                                                    g.components(j), "\""));
      }
      auto [it, added] = grouped.emplace(g.components(j), g.id());
      if (!added) {
        return FieldError(member_path, absl::StrCat("\"", g.components(j),
                                                    "\" is already in group \"",
                                                    it->second, "\""));
      }
    }
  }

  for (int i = 0; i < config.people_size(); ++i) {
    const auto& p = config.people(i);
    const std::string path = absl::StrCat("people[", i, "]");
    if (!ValidId(p.id())) {
      return FieldError(
          path + ".id",
          "expected a non-empty id of letters, digits, '-', '_' or '.'");
    }
    if (!people.emplace(p.id(), i).second) {
      return FieldError(path + ".id",
                        absl::StrCat("duplicate person id \"", p.id(), "\""));
    }
    if (p.roles_size() == 0) {
      return FieldError(
          path + ".roles",
          "expected at least one of engineer, comms, comms_lead, admin");
    }
    for (int j = 0; j < p.contacts_size(); ++j) {
      if (absl::Status st = ValidateContact(p.contacts(j)); !st.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ".contacts[", j, "].", st.message()));
      }
    }
    if (!p.token_sha256().empty()) {
      bool hex = p.token_sha256().size() == 64;
      for (char ch : p.token_sha256()) hex = hex && absl::ascii_isxdigit(ch);
      if (!hex)
        return FieldError(path + ".token_sha256",
                          "expected 64 hex characters (SHA-256)");
    }
  }

  auto check_component = [&](const std::string& path,
                             const std::string& id) -> absl::Status {
    if (!components.contains(id)) {
      return FieldError(path, absl::StrCat("unknown component \"", id, "\""));
    }
    return absl::OkStatus();
  };
  auto check_person = [&](const std::string& path,
                          const std::string& id) -> absl::Status {
    if (!people.contains(id))
      return FieldError(path, absl::StrCat("unknown person \"", id, "\""));
    return absl::OkStatus();
  };

  std::vector<PointPersonResolver::Rota> rotas;
  for (int i = 0; i < config.rotas_size(); ++i) {
    const auto& r = config.rotas(i);
    const std::string path = absl::StrCat("rotas[", i, "]");
    for (int j = 0; j < r.component_ids_size(); ++j) {
      if (auto s =
              check_component(absl::StrCat(path, ".component_ids[", j, "]"),
                              r.component_ids(j));
          !s.ok()) {
        return s;
      }
    }
    for (int j = 0; j < r.members_size(); ++j) {
      if (auto s = check_person(absl::StrCat(path, ".members[", j, "]"),
                                r.members(j));
          !s.ok()) {
        return s;
      }
    }
    if (!r.backup().empty()) {
      if (auto s = check_person(path + ".backup", r.backup()); !s.ok())
        return s;
    }
    for (int j = 0; j < r.escalation_size(); ++j) {
      if (auto s = check_person(absl::StrCat(path, ".escalation[", j, "]"),
                                r.escalation(j));
          !s.ok()) {
        return s;
      }
    }
    if (r.authority().max_credit_percent() < 0 ||
        r.authority().max_credit_percent() > 100) {
      return FieldError(path + ".authority.max_credit_percent",
                        "expected a percentage from 0 to 100");
    }
    if (absl::Status st = ValidateVoice(path, r.signed_by(), r.reply_to());
        !st.ok()) {
      return st;
    }
    auto rota = PointPersonResolver::RotaFromConfig(r);
    if (!rota.ok()) return FieldError(path, rota.status().message());
    rotas.push_back(*std::move(rota));
  }

  const v1::CustomerCommsConfig& cc = config.customer_comms();
  if (absl::Status st =
          ValidateVoice("customer_comms", cc.signed_by(), cc.reply_to());
      !st.ok()) {
    return st;
  }
  if (!cc.default_locale().empty()) {
    absl::StatusOr<std::string> tag = CanonicalLocaleTag(cc.default_locale());
    if (!tag.ok()) {
      return FieldError("customer_comms.default_locale",
                        absl::StrCat(tag.status().message(), ", got \"",
                                     cc.default_locale(), "\""));
    }
    config.mutable_customer_comms()->set_default_locale(*tag);
  } else {
    config.mutable_customer_comms()->set_default_locale("en");
  }
  if (cc.time_zone().empty()) {
    config.mutable_customer_comms()->set_time_zone("UTC");
  } else if (absl::Status st = ValidateTimeZoneName(cc.time_zone()); !st.ok()) {
    return FieldError(
        "customer_comms.time_zone",
        absl::StrCat(st.message(), ", got \"", cc.time_zone(), "\""));
  }

  for (int i = 0; i < config.subscribers_size(); ++i) {
    const auto& s = config.subscribers(i);
    const std::string path = absl::StrCat("subscribers[", i, "]");
    if (absl::Status st = ValidateSubscriber(
            s, [&](const std::string& c) { return components.contains(c); });
        !st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ".", st.message()));
    }
  }

  const std::string& default_component = config.intake().default_component();
  if (default_component.empty()) {
    return FieldError("intake.default_component",
                      "required: the component that alerts matching no "
                      "component's matchers go to, so none is dropped");
  }
  if (auto s = check_component("intake.default_component", default_component);
      !s.ok()) {
    return s;
  }
  absl::Duration reopen_window = absl::Hours(1);
  if (!config.intake().reopen_window().empty() &&
      (!absl::ParseDuration(config.intake().reopen_window(), &reopen_window) ||
       reopen_window < absl::ZeroDuration())) {
    return FieldError(
        "intake.reopen_window",
        absl::StrCat("expected a duration like \"1h\" or \"0s\", got \"",
                     config.intake().reopen_window(), "\""));
  }

  absl::StatusOr<IntakeLimits> intake_limits =
      IntakeLimits::FromConfig(config.intake().limits());
  if (!intake_limits.ok()) return intake_limits.status();

  // Defaults, then what the config says.
  std::map<v1::Impact, absl::Duration> cadence = {
      {v1::IMPACT_CRITICAL, absl::Minutes(30)},
      {v1::IMPACT_MAJOR, absl::Hours(1)},
      {v1::IMPACT_MINOR, absl::Hours(2)}};
  for (const auto& [impact_name, text] : config.comms().update_cadence()) {
    const std::string path =
        absl::StrCat("comms.update_cadence[", impact_name, "]");
    v1::Impact impact;
    if (!v1::Impact_Parse(
            absl::StrCat("IMPACT_", absl::AsciiStrToUpper(impact_name)),
            &impact) ||
        impact == v1::IMPACT_UNSPECIFIED) {
      return FieldError(path,
                        "expected an impact: none, minor, major or critical");
    }
    absl::Duration d;
    if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration()) {
      return FieldError(path, absl::StrCat("expected a duration like \"30m\" "
                                           "(\"0s\": no cadence), got \"",
                                           text, "\""));
    }
    cadence[impact] = d;
  }
  absl::Duration reminder_before = absl::Hours(24);
  if (const std::string& text = config.comms().maintenance_reminder_before();
      !text.empty() && (!absl::ParseDuration(text, &reminder_before) ||
                        reminder_before < absl::ZeroDuration())) {
    return FieldError("comms.maintenance_reminder_before",
                      absl::StrCat("expected a duration like \"24h\" (\"0s\": "
                                   "no reminder), got \"",
                                   text, "\""));
  }

  absl::StatusOr<DeliverySettings> delivery =
      ParseDeliverySettings(config.delivery());
  if (!delivery.ok()) return delivery.status();
  if (config.smtp().timeout_seconds() > kMaxSendTimeoutSeconds) {
    return FieldError("smtp.timeout_seconds", "expected seconds, at most 300");
  }
  const v1::DeliveryConfig& dc = config.delivery();
  const std::string& sms = dc.sms_gateway().url();
  if (!sms.empty() && !absl::StartsWith(sms, "https://") &&
      !absl::StartsWith(sms, "http://")) {
    return FieldError("delivery.sms_gateway.url",
                      "expected an http:// or https:// URL");
  }

  SelfServiceSettings self_service;
  const v1::SelfServiceConfig& ssc = config.self_service();
  self_service.enabled = !ssc.disabled();
  if (auto st = ParsePositiveDuration("self_service.confirmation_ttl",
                                      ssc.confirmation_ttl(), "48h",
                                      &self_service.confirmation_ttl);
      !st.ok()) {
    return st;
  }
  if (auto st = ParsePositiveDuration("self_service.resend_interval",
                                      ssc.resend_interval(), "10m",
                                      &self_service.resend_interval);
      !st.ok()) {
    return st;
  }
  if (ssc.max_requests_per_minute() < 0) {
    return FieldError("self_service.max_requests_per_minute",
                      "expected a positive count (0: default 60)");
  }
  if (ssc.max_requests_per_minute() > 0) {
    self_service.max_requests_per_minute = ssc.max_requests_per_minute();
  }

  absl::StatusOr<AftercareSettings> aftercare =
      ParseAftercare(config.aftercare());
  if (!aftercare.ok()) return aftercare.status();

  auto org = std::shared_ptr<Organisation>(new Organisation(
      std::move(config), ComponentRouter(std::move(routes), default_component),
      PointPersonResolver(std::move(rotas))));
  org->component_index_ = std::move(components);
  org->person_index_ = std::move(people);
  org->reopen_window_ = reopen_window;
  org->intake_limits_ = *intake_limits;
  org->update_cadence_ = std::move(cadence);
  org->maintenance_reminder_before_ = reminder_before;
  org->delivery_ = *std::move(delivery);
  org->self_service_ = self_service;
  org->aftercare_ = *std::move(aftercare);
  return std::shared_ptr<const Organisation>(std::move(org));
}

Organisation::Organisation(v1::Config config, ComponentRouter router,
                           PointPersonResolver rotas)
    : config_(std::move(config)),
      router_(std::move(router)),
      rotas_(std::move(rotas)) {}

absl::Duration Organisation::UpdateCadence(v1::Impact impact) const {
  auto it = update_cadence_.find(impact);
  return it == update_cadence_.end() ? absl::ZeroDuration() : it->second;
}

const v1::ComponentConfig* Organisation::FindComponent(
    const std::string& id) const {
  auto it = component_index_.find(id);
  return it == component_index_.end() ? nullptr
                                      : &config_.components(it->second);
}

const v1::PersonConfig* Organisation::FindPerson(const std::string& id) const {
  auto it = person_index_.find(id);
  return it == person_index_.end() ? nullptr : &config_.people(it->second);
}

std::string Organisation::ComponentNames(
    const std::vector<std::string>& ids) const {
  std::vector<std::string> names;
  for (const auto& id : ids) {
    const auto* c = FindComponent(id);
    names.push_back(c ? c->name() : id);
  }
  if (names.size() <= 1) return absl::StrJoin(names, "");
  const std::string last = names.back();
  names.pop_back();
  return absl::StrCat(absl::StrJoin(names, ", "), " and ", last);
}

v1::Impact Organisation::ImpactFor(const Labels& labels) const {
  const auto& intake = config_.intake();
  const std::string label =
      intake.severity_label().empty() ? "severity" : intake.severity_label();
  auto it = labels.find(label);
  if (it != labels.end()) {
    auto mapped = intake.severity_impact().find(it->second);
    if (mapped != intake.severity_impact().end()) return mapped->second;
  }
  return v1::IMPACT_MINOR;
}

std::string IncidentRef(int64_t id) { return absl::StrCat("INC-", id); }
std::string MessageRef(int64_t id) { return absl::StrCat("MSG-", id); }

LetterVoice Organisation::VoiceFor(absl::string_view rota_id) const {
  const v1::CustomerCommsConfig& cc = config_.customer_comms();
  LetterVoice out{cc.signed_by().name(), cc.signed_by().title(), cc.reply_to()};
  for (const v1::RotaConfig& rota : config_.rotas()) {
    if (rota.id() != rota_id) continue;
    if (!rota.signed_by().name().empty()) {
      out.signer_name = rota.signed_by().name();
      out.signer_title = rota.signed_by().title();
    }
    if (!rota.reply_to().empty()) out.reply_to = rota.reply_to();
  }
  return out;
}

absl::StatusOr<int64_t> ParseRef(absl::string_view prefix,
                                 absl::string_view ref) {
  absl::string_view digits = ref;
  if (digits.size() > prefix.size() + 1 &&
      absl::EqualsIgnoreCase(digits.substr(0, prefix.size()), prefix) &&
      digits[prefix.size()] == '-') {
    digits.remove_prefix(prefix.size() + 1);
  }
  int64_t id = 0;
  if (!absl::SimpleAtoi(digits, &id) || id <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected an id like ", prefix, "-12, got \"", ref, "\""));
  }
  return id;
}

}  // namespace herald
