#include "server/core/aftercare/aftercare.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/base/proto_time.h"
#include "server/core/aftercare/credit_policy.h"
#include "server/core/comms/message_records.h"
#include "server/core/incidents/timeline.h"

namespace herald {
namespace {

// As the rota's authority reads in the config: "12.5%", unrounded.
std::string PlainPercent(double p) { return absl::StrCat(p, "%"); }

// Voucher codes have 100 random bits; a clash is all but impossible, but
// the store refuses one, and a fresh code costs nothing.
constexpr int kVoucherAttempts = 3;

// The published apology of `incident_id`, or null.
absl::StatusOr<std::optional<v1::Message>> PublishedApology(
    StoreReader& reader, int64_t incident_id) {
  absl::StatusOr<std::vector<v1::Message>> published = reader.ListMessages(
      {.incident_id = incident_id, .states = {v1::MESSAGE_STATE_PUBLISHED}});
  if (!published.ok()) return published.status();
  for (v1::Message& m : *published) {
    if (m.kind() == v1::MESSAGE_KIND_APOLOGY) return std::move(m);
  }
  return std::nullopt;
}

}  // namespace

double LargestCredit(const std::vector<v1::Amends>& amends) {
  double out = 0;
  for (const v1::Amends& a : amends) out = std::max(out, a.credit().percent());
  return out;
}

Aftercare::Aftercare(const CoreDeps& deps, const AffectedCustomers& affected,
                     const DeliveryPlanner& planner)
    : deps_(deps), affected_(affected), planner_(planner) {}

absl::Status Aftercare::ScheduleApologyReminder(
    StoreTxn& txn, const v1::Message& apology) const {
  v1::Job job;
  job.set_kind(v1::JOB_KIND_APOLOGY_REMINDER);
  job.set_incident_id(apology.incident_id());
  job.set_message_id(apology.id());
  job.set_step(1);
  *job.mutable_due_at() = ToProtoTime(
      deps_.clock.Now() + deps_.org->aftercare().apology_reminder_after);
  return txn.InsertJob(job).status();
}

absl::Status Aftercare::RunApologyReminder(StoreTxn& txn,
                                           const v1::Job& job) const {
  absl::StatusOr<v1::Message> apology = txn.GetMessage(job.message_id());
  if (!apology.ok()) return apology.status();
  if (apology->state() != v1::MESSAGE_STATE_DRAFT &&
      apology->state() != v1::MESSAGE_STATE_PENDING_APPROVAL) {
    return absl::OkStatus();  // decided on (or replaced) meanwhile
  }
  absl::StatusOr<v1::Incident> incident = txn.GetIncident(job.incident_id());
  if (!incident.ok()) return incident.status();
  const absl::Duration after = deps_.org->aftercare().apology_reminder_after;
  const absl::Time now = deps_.clock.Now();
  const std::map<std::string, std::string> values = {
      {"waiting_text",
       HumanDuration(now - FromProtoTime(apology->created_at()))}};
  const std::string event =
      absl::StrCat("apology-", apology->id(), "-reminder-", job.step());
  std::string told;
  if (job.step() <= 1) {
    if (auto st = planner_.NotifyCommsLeads(txn, event, "apology_waiting",
                                            *incident, &*apology, values);
        !st.ok()) {
      return st;
    }
    told = "the comms leads";
    v1::Job next = job;
    next.clear_id();
    next.set_done(false);
    next.set_step(2);
    *next.mutable_due_at() = ToProtoTime(now + after);
    if (auto id = txn.InsertJob(next); !id.ok()) return id.status();
  } else {
    const PointPersonResolver::Rota* rota =
        deps_.org->rotas().Find(incident->rota_id());
    if (rota == nullptr || rota->backup.empty()) return absl::OkStatus();
    if (auto st =
            planner_.NotifyPerson(txn, event, "apology_waiting", *incident,
                                  rota->backup, &*apology, values);
        !st.ok()) {
      return st;
    }
    told = rota->backup;
  }
  return txn.AppendTimeline(TimelineEntry(
      incident->id(), now, "reminded", kHeraldActor,
      absl::StrCat(apology->ref(), " still waits for approval; reminded ",
                   told)));
}

double Aftercare::AuthorityPercent(const v1::Incident& incident) const {
  const PointPersonResolver::Rota* rota =
      deps_.org->rotas().Find(incident.rota_id());
  return rota == nullptr ? 0 : rota->authority.max_credit_percent();
}

absl::StatusOr<std::vector<v1::Amends>> Aftercare::Propose(
    StoreReader& reader, const v1::Incident& incident) const {
  absl::StatusOr<std::vector<v1::AffectedCustomer>> customers =
      affected_.Find(reader, incident);
  if (!customers.ok()) return customers.status();
  const absl::Time start = FromProtoTime(incident.opened_at());
  const absl::Time end = incident.has_resolved_at()
                             ? FromProtoTime(incident.resolved_at())
                             : deps_.clock.Now();
  const CreditPolicy& policy = deps_.org->aftercare().credits;
  std::vector<v1::Amends> out;
  out.reserve(customers->size());
  for (const v1::AffectedCustomer& c : *customers) {
    const v1::Subscriber& s = c.subscriber();
    v1::Amends a;
    a.set_incident_id(incident.id());
    a.set_subscriber_id(s.id());
    a.set_customer_name(s.name());
    a.set_account(s.account());
    a.set_plan(s.plan());
    // Named only by an alert: every component the incident touched.
    a.mutable_component_ids()->CopyFrom(c.component_ids_size() > 0
                                            ? c.component_ids()
                                            : incident.component_ids());
    a.mutable_alert_labels()->CopyFrom(c.alert_labels());
    *a.mutable_started_at() = ToProtoTime(start);
    *a.mutable_ended_at() = ToProtoTime(end);
    *a.mutable_credit() = policy.For(s.plan(), end - start);
    out.push_back(std::move(a));
  }
  return out;
}

absl::StatusOr<int> Aftercare::FixForApproval(
    StoreTxn& txn, const Caller& caller, const v1::Message& apology,
    const v1::Incident& incident) const {
  absl::StatusOr<std::vector<v1::Amends>> proposed = Propose(txn, incident);
  if (!proposed.ok()) return proposed.status();
  const double largest = LargestCredit(*proposed);
  const double authority = AuthorityPercent(incident);
  const double allowed =
      std::max(authority, incident.credits_approved_percent());
  if (largest > allowed && !caller.roles.contains(v1::ROLE_ADMIN)) {
    std::string who;
    for (const v1::Amends& a : *proposed) {
      if (a.credit().percent() == largest) {
        who = a.account().empty() ? a.subscriber_id() : a.account();
        break;
      }
    }
    return absl::PermissionDeniedError(absl::StrCat(
        apology.ref(), " offers a credit of ", PlainPercent(largest), " (", who,
        "), more than the ", PlainPercent(authority), " rota ",
        incident.rota_id(), "'s authority allows",
        incident.credits_approved_percent() > 0
            ? absl::StrCat(" and the ",
                           PlainPercent(incident.credits_approved_percent()),
                           " an admin approved")
            : "",
        "; an admin must approve the credits first: herald credits approve ",
        incident.ref()));
  }
  absl::StatusOr<std::vector<v1::Amends>> existing =
      txn.ListAmends(incident.id());
  if (!existing.ok()) return existing.status();
  std::map<std::string, v1::Amends> earlier;
  for (v1::Amends& a : *existing) {
    earlier[a.subscriber_id()] = std::move(a);
  }
  int credits = 0, vouchers = 0;
  for (v1::Amends& a : *proposed) {
    a.set_apology_message_id(apology.id());
    credits += a.credit().percent() > 0;
    const bool voucher = !a.credit().voucher_value().empty();
    vouchers += voucher;
    auto it = earlier.find(a.subscriber_id());
    if (it != earlier.end()) {
      const v1::Amends& before = it->second;
      a.set_id(before.id());
      if (voucher) {
        a.mutable_credit()->set_voucher_code(
            before.credit().voucher_code().empty()
                ? NewVoucherCode(deps_.random)
                : before.credit().voucher_code());
      }
      a.set_service_answer(before.service_answer());
      a.set_credit_answer(before.credit_answer());
      if (before.has_answered_at()) {
        *a.mutable_answered_at() = before.answered_at();
      }
      if (auto st = txn.UpdateAmends(a); !st.ok()) return st;
      continue;
    }
    absl::Status inserted;
    for (int attempt = 0; attempt < kVoucherAttempts; ++attempt) {
      if (voucher)
        a.mutable_credit()->set_voucher_code(NewVoucherCode(deps_.random));
      inserted = txn.InsertAmends(a).status();
      if (!voucher || !absl::IsAlreadyExists(inserted)) break;
    }
    if (!inserted.ok()) return inserted;
  }
  const absl::Time now = deps_.clock.Now();
  if (proposed->empty()) {
    // Nobody to apologise to: nobody to follow up with either.
    if (auto st = txn.AppendTimeline(TimelineEntry(
            incident.id(), now, "amends", caller.person_id,
            absl::StrCat(apology.ref(), " has no affected customer to reach")));
        !st.ok()) {
      return st;
    }
    return 0;
  }
  v1::Job follow_up;
  follow_up.set_kind(v1::JOB_KIND_FOLLOW_UP);
  follow_up.set_incident_id(incident.id());
  follow_up.set_message_id(apology.id());
  *follow_up.mutable_due_at() =
      ToProtoTime(now + deps_.org->aftercare().follow_up_after);
  if (auto id = txn.InsertJob(follow_up); !id.ok()) return id.status();
  if (auto st = txn.AppendTimeline(TimelineEntry(
          incident.id(), now, "amends", caller.person_id,
          absl::StrCat(
              apology.ref(), " fixed the amends of ", proposed->size(),
              " customer(s): ", credits, " credit(s), ", vouchers,
              " voucher(s); follow-up on ",
              absl::FormatTime("%Y-%m-%d",
                               now + deps_.org->aftercare().follow_up_after,
                               absl::UTCTimeZone()))));
      !st.ok()) {
    return st;
  }
  return static_cast<int>(proposed->size());
}

absl::StatusOr<AmendsPage> Aftercare::ListAmends(
    int64_t incident_id, const PageRequest& page) const {
  AmendsPage out;
  absl::Status s = deps_.store.Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<v1::Incident> incident = r.GetIncident(incident_id);
    if (!incident.ok()) return incident.status();
    absl::StatusOr<std::optional<v1::Message>> apology =
        PublishedApology(r, incident_id);
    if (!apology.ok()) return apology.status();
    out.fixed = apology->has_value();
    absl::StatusOr<std::vector<v1::Amends>> amends =
        out.fixed ? r.ListAmends(incident_id) : Propose(r, *incident);
    if (!amends.ok()) return amends.status();
    const double authority = AuthorityPercent(*incident);
    out.authority_percent = authority;
    out.approved_percent = incident->credits_approved_percent();
    out.approved_by = incident->credits_approved_by();
    out.needs_admin =
        !out.fixed &&
        LargestCredit(*amends) >
            std::max(authority, incident->credits_approved_percent());
    absl::StatusOr<Page<v1::Amends>> shown =
        SlicePage(*std::move(amends), page,
                  [](const v1::Amends& a) { return a.subscriber_id(); });
    if (!shown.ok()) return shown.status();
    out.amends = std::move(shown->items);
    out.next_page_token = std::move(shown->next_page_token);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<CreditApproval> Aftercare::ApproveCredits(
    const Caller& caller, int64_t incident_id) const {
  CreditApproval out;
  const absl::Time now = deps_.clock.Now();
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    absl::StatusOr<v1::Incident> incident = txn.GetIncident(incident_id);
    if (!incident.ok()) return incident.status();
    if (!incident->has_resolved_at()) {
      return absl::FailedPreconditionError(absl::StrCat(
          incident->ref(),
          " is still open; its credits are worked out when it is resolved"));
    }
    absl::StatusOr<std::optional<v1::Message>> apology =
        PublishedApology(txn, incident_id);
    if (!apology.ok()) return apology.status();
    if (apology->has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat((*apology)->ref(), ", the apology of ", incident->ref(),
                       ", is already approved; its credits were fixed then"));
    }
    absl::StatusOr<std::vector<v1::Amends>> proposed = Propose(txn, *incident);
    if (!proposed.ok()) return proposed.status();
    const double largest = LargestCredit(*proposed);
    const double authority = AuthorityPercent(*incident);
    if (largest <= authority) {
      return absl::InvalidArgumentError(absl::StrCat(
          "no credit of ", incident->ref(), " exceeds the ",
          PlainPercent(authority), " rota ", incident->rota_id(),
          "'s authority allows (the largest is ", PlainPercent(largest),
          "); there is nothing to approve"));
    }
    incident->set_credits_approved_by(caller.person_id);
    incident->set_credits_approved_percent(largest);
    *incident->mutable_updated_at() = ToProtoTime(now);
    if (auto st = txn.UpdateIncident(*incident); !st.ok()) return st;
    if (auto st = txn.AppendTimeline(TimelineEntry(
            incident_id, now, "credits_approved", caller.person_id,
            absl::StrCat("credits up to ", PlainPercent(largest),
                         " of the monthly fee approved, above the ",
                         PlainPercent(authority), " authority")));
        !st.ok()) {
      return st;
    }
    out.approved_percent = largest;
    out.incident = *std::move(incident);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  deps_.Emit(incident_id, "credits_approved", caller.person_id,
             absl::StrCat("credits up to ", PlainPercent(out.approved_percent),
                          " approved"));
  return out;
}

absl::StatusOr<v1::Incident> Aftercare::AttachPostmortem(
    const Caller& caller, int64_t incident_id,
    const std::string& raw_summary) const {
  const std::string summary(absl::StripAsciiWhitespace(raw_summary));
  if (summary.empty()) {
    return absl::InvalidArgumentError(
        "summary: the postmortem needs some text");
  }
  if (summary.size() > kMaxPostmortemLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("summary: at most ", kMaxPostmortemLength,
                     " characters; this has ", summary.size()));
  }
  v1::Incident out;
  const absl::Time now = deps_.clock.Now();
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    absl::StatusOr<v1::Incident> incident = txn.GetIncident(incident_id);
    if (!incident.ok()) return incident.status();
    if (!incident->has_resolved_at()) {
      return absl::FailedPreconditionError(
          absl::StrCat(incident->ref(),
                       " is still open; attach the postmortem once it is "
                       "resolved"));
    }
    if (!incident->customer_visible()) {
      return absl::FailedPreconditionError(absl::StrCat(
          incident->ref(),
          " was never public (no message about it was published), so it has "
          "no public postmortem"));
    }
    const bool replaced = incident->has_postmortem();
    v1::Postmortem* pm = incident->mutable_postmortem();
    pm->set_summary(summary);
    pm->set_author_id(caller.person_id);
    *pm->mutable_published_at() = ToProtoTime(now);
    *incident->mutable_updated_at() = ToProtoTime(now);
    if (auto st = txn.UpdateIncident(*incident); !st.ok()) return st;
    if (auto st = txn.AppendTimeline(TimelineEntry(
            incident_id, now, "postmortem", caller.person_id,
            replaced ? "postmortem replaced" : "postmortem published"));
        !st.ok()) {
      return st;
    }
    out = *std::move(incident);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  deps_.Emit(incident_id, "postmortem", caller.person_id,
             "postmortem published");
  return out;
}

}  // namespace herald
