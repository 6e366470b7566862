// Organisation is the validated, indexed view of the config that the rest of
// the server reads: components, people, rotas, routing and intake policy.
// Immutable after construction; thread-safe.
#ifndef HERALD_SERVER_CORE_ORG_ORGANISATION_H_
#define HERALD_SERVER_CORE_ORG_ORGANISATION_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "herald/v1/config.pb.h"
#include "server/core/aftercare/credit_policy.h"
#include "server/core/incidents/intake_limits.h"
#include "server/core/incidents/label_matcher.h"
#include "server/core/oncall/point_person_resolver.h"
#include "server/core/org/delivery_settings.h"

namespace herald {

// Self-service subscription, from `self_service` in the config.
struct SelfServiceSettings {
  bool enabled = true;
  absl::Duration confirmation_ttl = absl::Hours(48);
  absl::Duration resend_interval = absl::Minutes(10);
  int max_requests_per_minute = 60;
};

// After an incident, from `aftercare` in the config.
struct AftercareSettings {
  CreditPolicy credits;
  absl::Duration follow_up_after = absl::Hours(7 * 24);
  absl::Duration apology_reminder_after = absl::Hours(2);
};

// Who signs a customer letter, and where the customer's reply goes.
struct LetterVoice {
  std::string signer_name;  // empty: signed with server.page_name
  std::string signer_title;
  std::string reply_to;  // empty: no Reply-To, and no invitation to reply
};

class Organisation {
 public:
  // Validates references between the parts of `config` and builds the
  // indexes. Returns InvalidArgument whose message starts with the field path
  // ("rotas[0].members[1]: ...").
  static absl::StatusOr<std::shared_ptr<const Organisation>> Create(
      v1::Config config);

  const v1::Config& config() const { return config_; }
  const ComponentRouter& router() const { return router_; }
  const PointPersonResolver& rotas() const { return rotas_; }

  // How long after resolution a firing alert reopens its incident.
  absl::Duration reopen_window() const { return reopen_window_; }
  // Sizes and counts alerts may bring (intake.limits, defaults filled in).
  const IntakeLimits& intake_limits() const { return intake_limits_; }

  const DeliverySettings& delivery() const { return delivery_; }
  const SelfServiceSettings& self_service() const { return self_service_; }
  const AftercareSettings& aftercare() const { return aftercare_; }

  // The language and time zone of customers who chose none
  // (customer_comms, defaults "en" and "UTC" filled in).
  const std::string& default_locale() const {
    return config_.customer_comms().default_locale();
  }
  const std::string& default_time_zone() const {
    return config_.customer_comms().time_zone();
  }
  // The voice of letters about incidents of rota `rota_id`: what the rota
  // names, field by field, else what customer_comms names.
  LetterVoice VoiceFor(absl::string_view rota_id) const;

  // How often an open public incident of `impact` must be updated; zero when
  // it has no cadence.
  absl::Duration UpdateCadence(v1::Impact impact) const;
  // How long before a maintenance window its reminder goes out; zero: none.
  absl::Duration maintenance_reminder_before() const {
    return maintenance_reminder_before_;
  }

  // nullptr when unknown.
  const v1::ComponentConfig* FindComponent(const std::string& id) const;
  const v1::PersonConfig* FindPerson(const std::string& id) const;

  // "Checkout", "Checkout and Public API", "A, B and C"; unknown ids as is.
  std::string ComponentNames(const std::vector<std::string>& ids) const;

  // The impact for an alert's labels by the intake severity mapping;
  // IMPACT_MINOR when the label is absent or unmapped.
  v1::Impact ImpactFor(const Labels& labels) const;

 private:
  Organisation(v1::Config config, ComponentRouter router,
               PointPersonResolver rotas);

  v1::Config config_;
  ComponentRouter router_;
  PointPersonResolver rotas_;
  std::map<std::string, int> component_index_;
  std::map<std::string, int> person_index_;
  absl::Duration reopen_window_;
  IntakeLimits intake_limits_;
  std::map<v1::Impact, absl::Duration> update_cadence_;
  absl::Duration maintenance_reminder_before_ = absl::Hours(24);
  DeliverySettings delivery_;
  SelfServiceSettings self_service_;
  AftercareSettings aftercare_;
};

// "INC-12" -> "INC-12"; formats an id with its prefix.
std::string IncidentRef(int64_t id);
std::string MessageRef(int64_t id);

// Accepts "INC-12", "inc-12" or "12". Returns InvalidArgument otherwise.
absl::StatusOr<int64_t> ParseRef(absl::string_view prefix,
                                 absl::string_view ref);

}  // namespace herald

#endif  // HERALD_SERVER_CORE_ORG_ORGANISATION_H_
