#include "server/core/oncall/rota_overrides.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/base/log.h"
#include "server/base/proto_time.h"

namespace herald {

absl::Status AssignPointPerson(StoreReader& reader, const Organisation& org,
                               absl::Time now, v1::Incident& incident) {
  absl::StatusOr<std::vector<v1::RotaOverride>> overrides =
      reader.ListOverrides("", now);
  if (!overrides.ok()) return overrides.status();
  for (const auto& c : incident.component_ids()) {
    absl::StatusOr<v1::OnCallAssignment> who =
        org.rotas().ForComponent(c, now, *overrides);
    if (who.ok()) {
      incident.set_point_person_id(who->point_person_id());
      incident.set_rota_id(who->rota_id());
      break;
    }
  }
  return absl::OkStatus();
}

RotaOverrides::RotaOverrides(const CoreDeps& deps) : deps_(deps) {}

absl::StatusOr<v1::RotaOverride> RotaOverrides::Create(
    const Caller& caller, v1::RotaOverride override) const {
  const absl::Time now = deps_.clock.Now();
  if (deps_.org->rotas().Find(override.rota_id()) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("rota: no rota \"", override.rota_id(), "\""));
  }
  if (deps_.org->FindPerson(override.person_id()) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("person: no person \"", override.person_id(), "\""));
  }
  if (!override.has_starts_at())
    *override.mutable_starts_at() = ToProtoTime(now);
  const absl::Time starts = FromProtoTime(override.starts_at());
  const absl::Time ends = FromProtoTime(override.ends_at());
  if (!override.has_ends_at() || ends <= starts) {
    return absl::InvalidArgumentError(
        "until: the override must end after it starts");
  }
  if (ends <= now) {
    return absl::InvalidArgumentError(
        "until: the override would already be over");
  }
  override.set_created_by(caller.person_id);
  int64_t id = 0;
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    absl::StatusOr<int64_t> inserted = txn.InsertOverride(override);
    if (!inserted.ok()) return inserted.status();
    id = *inserted;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  override.set_id(id);
  LogInfo("rota override created", {{"rota", override.rota_id()},
                                    {"person", override.person_id()},
                                    {"by", caller.person_id},
                                    {"until", FormatUtc(ends)}});
  return override;
}

absl::StatusOr<std::vector<v1::RotaOverride>> RotaOverrides::List(
    const std::string& rota_id) const {
  if (!rota_id.empty() && deps_.org->rotas().Find(rota_id) == nullptr) {
    return absl::NotFoundError(absl::StrCat("no rota \"", rota_id, "\""));
  }
  std::vector<v1::RotaOverride> out;
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<std::vector<v1::RotaOverride>> list =
        r.ListOverrides(rota_id, deps_.clock.Now());
    if (!list.ok()) return list.status();
    out = *std::move(list);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status RotaOverrides::Delete(const Caller& caller, int64_t id) const {
  absl::Status s =
      deps_.store.Write([&](StoreTxn& txn) { return txn.DeleteOverride(id); });
  if (s.ok()) {
    LogInfo("rota override deleted",
            {{"id", absl::StrCat(id)}, {"by", caller.person_id}});
  }
  return s;
}

}  // namespace herald
