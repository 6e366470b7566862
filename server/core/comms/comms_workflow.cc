#include "server/core/comms/comms_workflow.h"

#include <map>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "herald/enum_labels.h"
#include "server/base/locale_text.h"
#include "server/base/log.h"
#include "server/base/proto_time.h"
#include "server/base/text.h"
#include "server/core/comms/message_records.h"
#include "server/core/incidents/open_incident.h"
#include "server/core/incidents/public_incident.h"
#include "server/core/incidents/timeline.h"

namespace herald {
namespace {

constexpr char kSupersededByNewer[] =
    "a newer draft of the same kind replaced it";

bool AwaitingApproval(const v1::Message& m) {
  return m.state() == v1::MESSAGE_STATE_DRAFT ||
         m.state() == v1::MESSAGE_STATE_PENDING_APPROVAL;
}

bool Editable(const v1::Message& m) {
  return AwaitingApproval(m) || m.state() == v1::MESSAGE_STATE_REJECTED;
}

// Whether `m` is still the version its reviewer saw; an expected version of
// 0 accepts any unless `zero_is_any` is false.
absl::Status CheckVersion(const v1::Message& m, int32_t expected_version,
                          bool zero_is_any = true) {
  if ((expected_version != 0 || !zero_is_any) &&
      expected_version != m.version()) {
    return absl::AbortedError(absl::StrCat(
        m.ref(), " changed: you reviewed version ", expected_version,
        ", it is now version ", m.version(), "; review it again"));
  }
  return absl::OkStatus();
}

// Languages one message may be translated into.
constexpr size_t kMaxTranslations = 32;

// An edit's translations checked, keyed by canonical language tag and
// trimmed; one with neither title nor body stands for removing it.
absl::StatusOr<std::map<std::string, v1::Translation>> CheckTranslations(
    const std::map<std::string, v1::Translation>& raw,
    const Renderer& renderer) {
  if (raw.size() > kMaxTranslations) {
    return absl::InvalidArgumentError(
        absl::StrCat("translations: at most ", kMaxTranslations,
                     " languages, not ", raw.size()));
  }
  const std::string default_language = renderer.SpokenLocale("");
  std::map<std::string, v1::Translation> out;
  for (const auto& [tag, given] : raw) {
    const std::string field = absl::StrCat(
        "translations[",
        absl::CHexEscape(absl::string_view(tag).substr(0, kMaxLocaleTagBytes)),
        "]");
    absl::StatusOr<std::string> language = CanonicalLocaleTag(tag);
    if (!language.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": expected a language tag such as \"de\" or \"fr-CA\""));
    }
    v1::Translation t;
    t.set_title(std::string(absl::StripAsciiWhitespace(given.title())));
    t.set_body(UnixNewlines(absl::StripTrailingAsciiWhitespace(given.body())));
    if (t.title().empty() && t.body().empty()) {
      // A removal: whatever the language, it may always go.
      out.emplace(*language, std::move(t));
      continue;
    }
    if (PrimaryLanguage(*language) == PrimaryLanguage(default_language)) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": ", default_language,
          " is the default language (customer_comms.default_locale): edit "
          "the title and body instead"));
    }
    if (renderer.SpokenLocale(*language) != *language) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": herald has no templates in ", *language,
          ", so no reader would get this translation; add templates/",
          PrimaryLanguage(*language), "/ first (templates/README.md)"));
    }
    if (t.title().empty() != t.body().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          field,
          ": give both a title and a body, or neither to remove the "
          "translation"));
    }
    if (absl::Status s = CheckLength(absl::StrCat(field, ".title"), t.title(),
                                     kMaxMessageTitleBytes);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckLength(absl::StrCat(field, ".body"), t.body(),
                                     kMaxMessageBodyBytes);
        !s.ok()) {
      return s;
    }
    if (!out.emplace(*language, std::move(t)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": ", *language, " is named twice"));
    }
  }
  return out;
}

// Applies checked `translations` to `message`, whose title and body are
// already the new version's; returns what changed, for the audit log ("de
// translated, fr removed"), empty when nothing did. A translation whose
// text is unchanged keeps the default text it was written against.
std::string ApplyTranslations(
    const std::map<std::string, v1::Translation>& translations,
    v1::Message& message) {
  std::vector<std::string> changes;
  auto& stored = *message.mutable_translations();
  for (const auto& [language, t] : translations) {
    auto it = stored.find(language);
    if (t.title().empty()) {
      if (it != stored.end()) {
        stored.erase(it);
        changes.push_back(absl::StrCat(language, " removed"));
      }
      continue;
    }
    if (it != stored.end() && it->second.title() == t.title() &&
        it->second.body() == t.body()) {
      continue;
    }
    v1::Translation& kept = stored[language];
    kept.set_title(t.title());
    kept.set_body(t.body());
    kept.set_source_digest(TextDigest(message.title(), message.body()));
    changes.push_back(absl::StrCat(language, " translated"));
  }
  return absl::StrJoin(changes, ", ");
}

// Approves maintenance notice `m` to go out at its moment (the reminder
// before the window, "started" when it starts, "completed" when the work
// is done), or supersedes it when that moment has passed: a late notice
// would tell customers something no longer true.
absl::Status HoldNotice(StoreTxn& txn, const Organisation& org,
                        const std::string& approver, v1::Message& m,
                        const v1::Incident& incident, absl::string_view detail,
                        absl::Time now) {
  const bool passed =
      NoticeMomentPassed(m, incident, now, org.maintenance_reminder_before());
  m.set_state(passed ? v1::MESSAGE_STATE_SUPERSEDED
                     : v1::MESSAGE_STATE_APPROVED);
  if (!passed) m.set_approver_id(approver);
  *m.mutable_updated_at() = ToProtoTime(now);
  if (auto st = txn.UpdateMessage(m); !st.ok()) return st;
  return AuditMessage(txn, m, approver, passed ? "superseded" : "approved",
                      passed ? "its moment passed before it was approved"
                             : absl::StrCat(detail, "; held until it is due"),
                      now);
}

// Holds every notice `announcement`'s approval covers that still waits
// for a decision (a rejected one stays rejected until approved on its own).
// The four-eyes policy holds for each of them as for the announcement.
absl::Status HoldCoveredNotices(StoreTxn& txn, const Organisation& org,
                                const std::string& approver,
                                const v1::Message& announcement,
                                const v1::Incident& incident,
                                const ApprovalChoice& choice, absl::Time now) {
  absl::StatusOr<std::vector<v1::Message>> waiting = txn.ListMessages(
      {incident.id(),
       {v1::MESSAGE_STATE_DRAFT, v1::MESSAGE_STATE_PENDING_APPROVAL}});
  if (!waiting.ok()) return waiting.status();
  for (v1::Message& m : *waiting) {
    if (m.covered_by() != announcement.id()) continue;
    // Only the words the approver saw: a notice edited while they read
    // must be read again.
    if (choice.covered_versions.has_value()) {
      auto seen = choice.covered_versions->find(m.ref());
      if (seen == choice.covered_versions->end()) {
        return absl::AbortedError(
            absl::StrCat("approving ", announcement.ref(), " also approves ",
                         m.ref(), " (", m.maintenance_notice(),
                         "), which you did not review; ", "review it again"));
      }
      // Exactly: 0 here is no version the approver saw.
      if (auto st = CheckVersion(m, seen->second, /*zero_is_any=*/false);
          !st.ok()) {
        return st;
      }
    }
    if (org.config().comms().four_eyes() && m.last_editor_id() == approver) {
      return absl::PermissionDeniedError(absl::StrCat(
          "four eyes: ", approver, " wrote version ", m.version(), " of ",
          m.ref(), ", which approving ", announcement.ref(),
          " approves too, so someone else must approve it"));
    }
    if (auto st = HoldNotice(txn, org, approver, m, incident,
                             absl::StrCat("with ", announcement.ref()), now);
        !st.ok()) {
      return st;
    }
  }
  return absl::OkStatus();
}

// The audit log's detail of an edit.
std::string EditDetail(bool was_rejected, const std::string& translated) {
  std::vector<std::string> parts;
  if (was_rejected) parts.push_back("reworked after rejection");
  if (!translated.empty()) parts.push_back(translated);
  return absl::StrJoin(parts, "; ");
}

}  // namespace

absl::Status CommsWorkflow::CheckAuthority(const Caller& caller,
                                           const v1::Message& message,
                                           const v1::Incident& incident) const {
  if (caller.roles.contains(v1::ROLE_COMMS_LEAD)) return absl::OkStatus();
  const PointPersonResolver::Rota* rota =
      deps_.org->rotas().Find(incident.rota_id());
  const bool point_person = caller.person_id == incident.point_person_id();
  if (point_person && rota != nullptr) {
    for (int kind : rota->authority.approve_kinds()) {
      if (kind == message.kind()) return absl::OkStatus();
    }
  }
  std::string scope = "no message kinds";
  if (rota != nullptr && rota->authority.approve_kinds_size() > 0) {
    scope.clear();
    for (int kind : rota->authority.approve_kinds()) {
      absl::StrAppend(&scope, scope.empty() ? "" : ", ",
                      EnumLabel(static_cast<v1::MessageKind>(kind)));
    }
  }
  return absl::PermissionDeniedError(absl::StrCat(
      message.ref(), " is a ", EnumLabel(message.kind()), " message; ",
      point_person ? absl::StrCat("the authority of rota ", incident.rota_id(),
                                  " lets its point person approve ", scope)
                   : absl::StrCat(caller.person_id, " is not ", incident.ref(),
                                  "'s point person"),
      ", so a comms lead must approve it"));
}

CommsWorkflow::CommsWorkflow(const CoreDeps& deps,
                             const MessageDrafter& drafter,
                             const DeliveryPlanner& planner,
                             const CadenceKeeper& cadence,
                             const Aftercare& aftercare)
    : deps_(deps),
      drafter_(drafter),
      planner_(planner),
      cadence_(cadence),
      aftercare_(aftercare) {}

absl::StatusOr<PostedUpdate> CommsWorkflow::PostUpdate(
    const Caller& caller, int64_t incident_id, const std::string& text,
    const UpdateDetails& details) {
  absl::StatusOr<PostedUpdate> out;
  absl::Notification done;
  PostUpdateAsync(caller, incident_id, text, details,
                  [&](absl::StatusOr<PostedUpdate> r) {
                    out = std::move(r);
                    done.Notify();
                  });
  done.WaitForNotification();
  return out;
}

void CommsWorkflow::PostUpdateAsync(
    const Caller& caller, int64_t incident_id, const std::string& raw_text,
    const UpdateDetails& details,
    absl::AnyInvocable<void(absl::StatusOr<PostedUpdate>)> done) {
  const std::string text(absl::StripAsciiWhitespace(raw_text));
  const std::string next_step(absl::StripAsciiWhitespace(details.next_step));
  const v1::IncidentStatus status_hint = details.status_hint;
  const int32_t configured = deps_.org->config().comms().max_update_length();
  const size_t max_length = configured > 0 ? static_cast<size_t>(configured)
                                           : kDefaultMaxUpdateLength;
  if (text.empty()) {
    return done(absl::InvalidArgumentError("text: an update needs some text"));
  }
  if (text.size() > max_length) {
    return done(absl::InvalidArgumentError(
        absl::StrCat("text: updates are short notes of at most ", max_length,
                     " characters; this one has ", text.size())));
  }
  if (next_step.size() > max_length) {
    return done(absl::InvalidArgumentError(
        absl::StrCat("next: at most ", max_length, " characters; this has ",
                     next_step.size())));
  }
  if (details.eta < absl::ZeroDuration()) {
    return done(absl::InvalidArgumentError("eta: must be a duration from now"));
  }
  if (status_hint != v1::INCIDENT_STATUS_UNSPECIFIED &&
      status_hint != v1::INCIDENT_STATUS_IDENTIFIED &&
      status_hint != v1::INCIDENT_STATUS_MONITORING) {
    return done(absl::InvalidArgumentError(
        "status: an update may move an incident to identified or monitoring; "
        "use resolve to resolve it"));
  }
  // Shared by the transaction and the completion, which the store runs one
  // after the other, possibly on its writer thread.
  struct Pending {
    std::string author;
    PostedUpdate out;
    absl::AnyInvocable<void(absl::StatusOr<PostedUpdate>)> done;
  };
  auto pending = std::make_shared<Pending>();
  pending->author = caller.person_id;
  pending->done = std::move(done);
  const absl::Time now = deps_.clock.Now();
  const absl::Duration eta = details.eta;
  deps_.store.WriteAsync(
      [this, pending, incident_id, text, next_step, status_hint, eta,
       now](StoreTxn& txn) -> absl::Status {
        const std::string& author = pending->author;
        absl::StatusOr<v1::Incident> incident =
            LoadOpenIncident(txn, incident_id, "it takes no more updates");
        if (!incident.ok()) return incident.status();
        v1::Update update;
        update.set_incident_id(incident_id);
        update.set_author_id(author);
        update.set_text(text);
        update.set_status_hint(status_hint);
        *update.mutable_created_at() = ToProtoTime(now);
        if (eta > absl::ZeroDuration()) {
          *update.mutable_eta() = ToProtoTime(now + eta);
        }
        update.set_next_step(next_step);
        absl::StatusOr<int64_t> update_id = txn.InsertUpdate(update);
        if (!update_id.ok()) return update_id.status();
        update.set_id(*update_id);
        if (auto st = txn.AppendTimeline(
                TimelineEntry(incident_id, now, "update", author, text));
            !st.ok()) {
          return st;
        }

        const v1::IncidentStatus status =
            status_hint != v1::INCIDENT_STATUS_UNSPECIFIED ? status_hint
                                                           : incident->status();
        absl::StatusOr<v1::Message> draft =
            drafter_.DraftStatusUpdate(*incident, status, update);
        if (!draft.ok()) return draft.status();
        draft->set_source_update_id(*update_id);
        absl::StatusOr<int> replaced =
            SupersedeDrafts(txn, incident_id, {v1::MESSAGE_KIND_STATUS_UPDATE},
                            author, kSupersededByNewer, now);
        if (!replaced.ok()) return replaced.status();
        absl::StatusOr<v1::Message> stored =
            StoreDraft(txn, *std::move(draft), author, now);
        if (!stored.ok()) return stored.status();
        // A burst of updates makes a burst of drafts, each replacing the
        // last. The comms leads were told of the first and will find the
        // newest; one email each, not one per note.
        if (*replaced == 0) {
          if (auto st = planner_.NotifyDraftWaiting(txn, *stored, *incident);
              !st.ok()) {
            return st;
          }
        }
        pending->out.update = std::move(update);
        pending->out.draft = *std::move(stored);
        return absl::OkStatus();
      },
      [this, pending, incident_id](absl::Status s) {
        if (!s.ok()) return pending->done(std::move(s));
        deps_.Emit(incident_id, "update", pending->author,
                   pending->out.update.text());
        deps_.Emit(incident_id, "drafted", kHeraldActor,
                   pending->out.draft.title(), pending->out.draft.ref());
        pending->done(std::move(pending->out));
      });
}

absl::StatusOr<Resolution> CommsWorkflow::Resolve(const Caller& caller,
                                                  int64_t incident_id,
                                                  const std::string& raw_note) {
  const std::string note(absl::StripAsciiWhitespace(raw_note));
  if (absl::Status s = CheckLength("note", note, kMaxMessageBodyBytes);
      !s.ok()) {
    return s;
  }
  Resolution out;
  const absl::Time now = deps_.clock.Now();
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    out = {};
    absl::StatusOr<v1::Incident> incident =
        LoadOpenIncident(txn, incident_id, "it cannot be resolved again");
    if (!incident.ok()) return incident.status();
    // Internally resolved now; customers hear it when the resolution
    // notice is approved.
    incident->set_status(v1::INCIDENT_STATUS_RESOLVED);
    *incident->mutable_resolved_at() = ToProtoTime(now);
    *incident->mutable_updated_at() = ToProtoTime(now);
    if (auto st = txn.UpdateIncident(*incident); !st.ok()) return st;
    if (auto st = txn.AppendTimeline(
            TimelineEntry(incident_id, now, "resolved", caller.person_id,
                          note.empty() ? "Resolved" : note));
        !st.ok()) {
      return st;
    }
    if (auto st =
            SupersedeDrafts(txn, incident_id, {v1::MESSAGE_KIND_STATUS_UPDATE},
                            caller.person_id, kSupersededByNewer, now);
        !st.ok()) {
      return st.status();
    }
    absl::StatusOr<v1::Message> resolution =
        drafter_.DraftResolution(*incident, note);
    if (!resolution.ok()) return resolution.status();
    absl::StatusOr<v1::Message> apology =
        drafter_.DraftApology(*incident, note);
    if (!apology.ok()) return apology.status();
    for (v1::Message* m : {&*resolution, &*apology}) {
      absl::StatusOr<v1::Message> stored =
          StoreDraft(txn, std::move(*m), caller.person_id, now);
      if (!stored.ok()) return stored.status();
      if (auto st = planner_.NotifyDraftWaiting(txn, *stored, *incident);
          !st.ok()) {
        return st;
      }
      out.drafts.push_back(*std::move(stored));
    }
    if (auto st = aftercare_.ScheduleApologyReminder(txn, out.drafts.back());
        !st.ok()) {
      return st;
    }
    out.incident = *std::move(incident);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  deps_.Emit(incident_id, "resolved", caller.person_id,
             note.empty() ? "Resolved" : note);
  for (const v1::Message& m : out.drafts) {
    deps_.Emit(incident_id, "drafted", kHeraldActor, m.title(), m.ref());
  }
  return out;
}

absl::StatusOr<Publication> CommsWorkflow::Approve(const Caller& caller,
                                                   int64_t message_id,
                                                   int32_t expected_version,
                                                   ApprovalChoice choice) {
  Publication out;
  const absl::Time now = deps_.clock.Now();
  // For the metrics, once committed: how long the draft waited, and how
  // long customers waited for their first word (when this is it).
  absl::Duration waited, first_word = absl::InfiniteDuration();
  bool held = false;  // a maintenance notice, approved to go out later
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    held = false;
    v1::Incident owned;
    absl::StatusOr<v1::Message> message = LoadForDecision(
        txn, caller, message_id, expected_version, "approved", owned);
    if (!message.ok()) return message.status();
    if (message->covered_by() != 0) {
      // A maintenance notice goes with its announcement: approving the
      // announcement approves it, and approving it alone (after an edit
      // the comms lead asked for) holds it for its moment.
      absl::StatusOr<v1::Message> announcement =
          txn.GetMessage(message->covered_by());
      if (!announcement.ok()) return announcement.status();
      if (announcement->state() != v1::MESSAGE_STATE_PUBLISHED) {
        return absl::FailedPreconditionError(
            absl::StrCat(message->ref(), " is approved with the announcement ",
                         announcement->ref(), ": review and approve that"));
      }
      if (auto st = HoldNotice(
              txn, *deps_.org, caller.person_id, *message, owned,
              absl::StrCat("approved on its own after ", announcement->ref()),
              now);
          !st.ok()) {
        return st;
      }
      held = true;
      out.message = *std::move(message);
      return absl::OkStatus();
    }
    // Notes are for the point person to craft from, never sent as is by
    // accident.
    const std::vector<std::string> as_written = UneditedEngineerWords(*message);
    if (!as_written.empty() && !choice.publish_as_written) {
      return absl::FailedPreconditionError(absl::StrCat(
          message->ref(), " still holds an engineer's words as written: \"",
          absl::StrJoin(as_written, "\", \""),
          "\". Reword them for customers, or approve with --as-written "
          "(console: \"publish as written\"; API: publish_as_written) to "
          "send them as they are"));
    }
    v1::Incident* incident = &owned;
    waited = now - FromProtoTime(message->created_at());
    first_word = incident->customer_visible()
                     ? absl::InfiniteDuration()
                     : now - FromProtoTime(incident->opened_at());

    message->set_state(v1::MESSAGE_STATE_PUBLISHED);
    message->set_approver_id(caller.person_id);
    *message->mutable_updated_at() = ToProtoTime(now);
    *message->mutable_published_at() = ToProtoTime(now);

    if (message->kind() == v1::MESSAGE_KIND_STATUS_UPDATE ||
        message->kind() == v1::MESSAGE_KIND_RESOLUTION) {
      incident->set_customer_visible(true);
      incident->set_status(message->incident_status());
      *incident->mutable_updated_at() = ToProtoTime(now);
      if (auto st = txn.UpdateIncident(*incident); !st.ok()) return st;
      // What the message says; a message from before herald stored that
      // gets what its draft would have proposed.
      std::map<std::string, v1::ComponentStatus> statuses;
      for (const auto& [c, st] : message->component_statuses()) {
        statuses[c] = static_cast<v1::ComponentStatus>(st);
      }
      if (statuses.empty()) {
        for (const std::string& c : incident->component_ids()) {
          statuses[c] = message->kind() == v1::MESSAGE_KIND_RESOLUTION
                            ? v1::COMPONENT_STATUS_OPERATIONAL
                            : ComponentStatusFor(incident->impact());
        }
      }
      for (const auto& [c, status] : statuses) {
        v1::ComponentState state;
        state.set_component_id(c);
        state.set_status(status);
        *state.mutable_updated_at() = ToProtoTime(now);
        if (auto st = txn.PutComponentState(state); !st.ok()) return st;
      }
    }
    if (message->kind() == v1::MESSAGE_KIND_MAINTENANCE &&
        !incident->customer_visible()) {
      // The announcement shows the maintenance; its window, not the
      // message, sets the status and the components.
      incident->set_customer_visible(true);
      *incident->mutable_updated_at() = ToProtoTime(now);
      if (auto st = txn.UpdateIncident(*incident); !st.ok()) return st;
    }
    if (message->kind() == v1::MESSAGE_KIND_APOLOGY) {
      absl::StatusOr<int> fixed =
          aftercare_.FixForApproval(txn, caller, *message, *incident);
      if (!fixed.ok()) return fixed.status();
    }
    // What every delivery renders from, however long the fan-out takes:
    // the incident as customers know it once this message is out.
    absl::StatusOr<std::vector<v1::Message>> published =
        txn.ListMessages({.incident_id = incident->id(),
                          .states = {v1::MESSAGE_STATE_PUBLISHED}});
    if (!published.ok()) return published.status();
    published->push_back(*message);
    *message->mutable_published_incident() =
        PublicSnapshot(*incident, PublicView(*incident, *std::move(published)));
    if (auto st = txn.UpdateMessage(*message); !st.ok()) return st;
    absl::StatusOr<int64_t> queued =
        planner_.EnqueueMessage(txn, *message, *incident);
    if (!queued.ok()) return queued.status();
    if (auto st = cadence_.OnPublished(txn, *message, *incident); !st.ok()) {
      return st;
    }
    if (auto st = AuditMessage(
            txn, *message, caller.person_id, "approved",
            absl::StrCat(
                "published to ", *queued, " recipient(s)",
                as_written.empty()
                    ? ""
                    : absl::StrCat("; an engineer's words as "
                                   "written, by choice: \"",
                                   absl::StrJoin(as_written, "\", \""), "\"")),
            now);
        !st.ok()) {
      return st;
    }
    if (auto st = txn.AppendTimeline(TimelineEntry(
            incident->id(), now, "published", caller.person_id,
            absl::StrCat(message->ref(), " published: \"", message->title(),
                         "\" to ", *queued, " recipient(s)")));
        !st.ok()) {
      return st;
    }
    if (message->maintenance_notice() == "announcement") {
      if (auto st = HoldCoveredNotices(txn, *deps_.org, caller.person_id,
                                       *message, *incident, choice, now);
          !st.ok()) {
        return st;
      }
    }
    out.message = *std::move(message);
    out.deliveries_enqueued = *queued;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (held) {
    deps_.Emit(out.message.incident_id(), "approved", caller.person_id,
               absl::StrCat("version ", out.message.version(),
                            " held until its moment"),
               out.message.ref());
    return out;
  }
  deps_.metrics.messages_published.Increment();
  deps_.metrics.approval_latency_seconds.Observe(absl::ToDoubleSeconds(waited));
  if (out.message.published_incident().customer_visible() &&
      first_word != absl::InfiniteDuration()) {
    deps_.metrics.time_to_first_update_seconds.Observe(
        absl::ToDoubleSeconds(first_word));
  }
  deps_.Emit(out.message.incident_id(), "approved", caller.person_id,
             absl::StrCat("published version ", out.message.version(), " to ",
                          out.deliveries_enqueued, " recipient(s)"),
             out.message.ref());
  return out;
}

absl::StatusOr<v1::Message> CommsWorkflow::LoadForDecision(
    StoreTxn& txn, const Caller& caller, int64_t message_id,
    int32_t expected_version, absl::string_view verb,
    v1::Incident& incident) const {
  absl::StatusOr<v1::Message> message = txn.GetMessage(message_id);
  if (!message.ok()) return message.status();
  if (!AwaitingApproval(*message)) {
    return absl::FailedPreconditionError(
        absl::StrCat(message->ref(), " is ", EnumLabel(message->state()),
                     "; only drafts awaiting approval can be ", verb));
  }
  if (auto st = CheckVersion(*message, expected_version); !st.ok()) return st;
  absl::StatusOr<v1::Incident> found = txn.GetIncident(message->incident_id());
  if (!found.ok()) return found.status();
  incident = *std::move(found);
  if (auto st = CheckAuthority(caller, *message, incident); !st.ok()) {
    return st;
  }
  if (deps_.org->config().comms().four_eyes() &&
      message->last_editor_id() == caller.person_id) {
    return absl::PermissionDeniedError(absl::StrCat(
        "four eyes: ", caller.person_id, " wrote version ", message->version(),
        " of ", message->ref(), ", so someone else must decide on it"));
  }
  return message;
}

absl::StatusOr<v1::Message> CommsWorkflow::Edit(
    const Caller& caller, int64_t message_id, int32_t expected_version,
    const std::string& raw_title, const std::string& raw_body,
    const std::map<std::string, v1::ComponentStatus>& statuses,
    const std::map<std::string, v1::Translation>& raw_translations) {
  const std::string title(absl::StripAsciiWhitespace(raw_title));
  const std::string body =
      UnixNewlines(absl::StripTrailingAsciiWhitespace(raw_body));
  if (title.empty() && body.empty() && statuses.empty() &&
      raw_translations.empty()) {
    return absl::InvalidArgumentError(
        "an edit needs a new title, body, component status or translation");
  }
  absl::StatusOr<std::map<std::string, v1::Translation>> translations =
      CheckTranslations(raw_translations, deps_.renderer);
  if (!translations.ok()) return translations.status();
  if (absl::Status s = CheckLength("title", title, kMaxMessageTitleBytes);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckLength("body", body, kMaxMessageBodyBytes);
      !s.ok()) {
    return s;
  }
  for (const auto& [component, status] : statuses) {
    if (deps_.org->FindComponent(component) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "component_statuses: unknown component \"", component, "\""));
    }
    if (status == v1::COMPONENT_STATUS_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("component_statuses[", component,
                       "]: expected operational, "
                       "degraded_performance, partial_outage, major_outage or "
                       "under_maintenance"));
    }
  }
  v1::Message out;
  const absl::Time now = deps_.clock.Now();
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    absl::StatusOr<v1::Message> message = txn.GetMessage(message_id);
    if (!message.ok()) return message.status();
    if (!Editable(*message)) {
      return absl::FailedPreconditionError(absl::StrCat(
          message->ref(), " is ", EnumLabel(message->state()),
          "; only drafts, messages awaiting approval and rejected messages "
          "can be edited",
          message->state() == v1::MESSAGE_STATE_PUBLISHED
              ? " (post an update for a new message)"
              : ""));
    }
    if (auto st = CheckVersion(*message, expected_version); !st.ok()) {
      return st;
    }
    const std::string new_title = title.empty() ? message->title() : title;
    const std::string new_body = body.empty() ? message->body() : body;
    bool statuses_change = false;
    for (const auto& [component, status] : statuses) {
      auto it = message->component_statuses().find(component);
      statuses_change |=
          it == message->component_statuses().end() || it->second != status;
    }
    const bool text_change =
        new_title != message->title() || new_body != message->body();
    const bool was_rejected = message->state() == v1::MESSAGE_STATE_REJECTED;
    message->set_title(new_title);
    message->set_body(new_body);
    const std::string translated = ApplyTranslations(*translations, *message);
    if (!text_change && !statuses_change && translated.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the edit changes nothing in version ",
                       message->version(), " of ", message->ref()));
    }
    for (const auto& [component, status] : statuses) {
      (*message->mutable_component_statuses())[component] = status;
    }
    message->set_version(message->version() + 1);
    message->set_last_editor_id(caller.person_id);
    message->set_state(v1::MESSAGE_STATE_DRAFT);
    *message->mutable_updated_at() = ToProtoTime(now);
    if (auto st = txn.UpdateMessage(*message); !st.ok()) return st;
    if (auto st = StoreMessageVersion(txn, *message, now); !st.ok()) return st;
    if (auto st = AuditMessage(txn, *message, caller.person_id, "edited",
                               EditDetail(was_rejected, translated), now);
        !st.ok()) {
      return st;
    }
    out = *std::move(message);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  deps_.Emit(out.incident_id(), "edited", caller.person_id,
             absl::StrCat("version ", out.version(), ": ", out.title()),
             out.ref());
  return out;
}

absl::StatusOr<v1::Message> CommsWorkflow::Reject(
    const Caller& caller, int64_t message_id, int32_t expected_version,
    const std::string& raw_reason) {
  const std::string reason(absl::StripAsciiWhitespace(raw_reason));
  if (reason.empty()) {
    return absl::InvalidArgumentError(
        "reason: say why, so that the point person can fix the draft");
  }
  if (absl::Status s = CheckLength("reason", reason, kMaxReasonBytes);
      !s.ok()) {
    return s;
  }
  v1::Message out;
  const absl::Time now = deps_.clock.Now();
  absl::Status s = deps_.store.Write([&](StoreTxn& txn) -> absl::Status {
    v1::Incident incident;
    absl::StatusOr<v1::Message> message = LoadForDecision(
        txn, caller, message_id, expected_version, "rejected", incident);
    if (!message.ok()) return message.status();
    message->set_state(v1::MESSAGE_STATE_REJECTED);
    message->set_rejected_by(caller.person_id);
    message->set_rejection_reason(reason);
    *message->mutable_updated_at() = ToProtoTime(now);
    if (auto st = txn.UpdateMessage(*message); !st.ok()) return st;
    if (auto st = AuditMessage(txn, *message, caller.person_id, "rejected",
                               reason, now);
        !st.ok()) {
      return st;
    }
    if (auto st = txn.AppendTimeline(
            TimelineEntry(incident.id(), now, "rejected", caller.person_id,
                          absl::StrCat(message->ref(), " rejected: ", reason)));
        !st.ok()) {
      return st;
    }
    out = *std::move(message);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  deps_.Emit(out.incident_id(), "rejected", caller.person_id, reason,
             out.ref());
  return out;
}

}  // namespace herald
