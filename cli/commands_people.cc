#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <dtl/dtl.hpp>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/editor.h"
#include "cli/safe_output.h"
#include "cli/subscriber_csv.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "herald/enum_labels.h"
#include "server/base/private_files.h"
#include "server/base/text.h"

namespace herald::cli {

int Commands::AddSubscriber(v1::Subscriber subscriber,
                            const std::vector<std::string>& contacts) {
  for (const std::string& text : contacts) {
    absl::StatusOr<v1::Contact> c = ParseContact(text);
    if (!c.ok()) {
      return UsageError("subscribers add", c.status().message());
    }
    *subscriber.add_contacts() = *std::move(c);
  }
  v1::AddSubscriberRequest req;
  *req.mutable_subscriber() = std::move(subscriber);
  return CallAndPrint(
      &SubscriberStub::AddSubscriber, req,
      [&](const v1::AddSubscriberResponse& resp) {
        const v1::Subscriber& added = resp.subscriber();
        out_ << "Subscriber " << added.id() << " added to "
             << absl::StrJoin(added.component_ids(), ", ") << ".\n";
        for (const v1::Contact& c : added.contacts()) {
          if (c.channel() != v1::CHANNEL_KIND_WEBHOOK) continue;
          out_
              << "Webhook " << c.address() << " is signed with "
              << absl::StrJoin(c.signing_secrets(), " ")
              << "\nGive this secret to the receiver now; herald will not show "
                 "it again.\n";
        }
        return kExitOk;
      });
}

int Commands::ListSubscribers(const std::string& component, bool all) {
  v1::ListSubscribersRequest req;
  req.set_component(component);
  req.set_include_unsubscribed(all);
  return ListAndPrint(
      &SubscriberStub::ListSubscribers, req,
      &v1::ListSubscribersResponse::subscribers,
      {.header = {"ID", "NAME", "ACCOUNT", "PLAN", "COMPONENTS", "CONTACTS",
                  "STATUS"},
       .empty = "No subscribers."},
      [&](const v1::Subscriber& sub) -> std::vector<std::string> {
        std::vector<std::string> contacts;
        for (const v1::Contact& c : sub.contacts()) {
          contacts.push_back(absl::StrCat(EnumLabel(c.channel()), ":",
                                          c.address(),
                                          c.disabled() ? " (disabled)" : ""));
        }
        if (contacts.empty() && !sub.email().empty()) {
          contacts.push_back(absl::StrCat("email:", sub.email()));
        }
        return {sub.id(),
                sub.name().empty() ? "-" : sub.name(),
                sub.account().empty() ? "-" : sub.account(),
                sub.plan().empty() ? "-" : sub.plan(),
                absl::StrJoin(sub.component_ids(), ","),
                OneLine(absl::StrJoin(contacts, " "), 100),
                EnumLabel(sub.status() == v1::SUBSCRIBER_STATUS_UNSPECIFIED
                              ? v1::SUBSCRIBER_STATUS_ACTIVE
                              : sub.status())};
      },
      [&](const v1::ListSubscribersResponse& resp) {
        out_ << resp.subscribers_size() << " subscriber(s).\n";
      });
}

int Commands::RemoveSubscriber(const std::string& id) {
  v1::RemoveSubscriberRequest req;
  req.set_id(id);
  return CallAndPrint(
      &SubscriberStub::RemoveSubscriber, req,
      [&](const v1::RemoveSubscriberResponse& resp) {
        out_ << "Subscriber " << id
             << " unsubscribed; messages not yet sent to them are cancelled.\n";
        return kExitOk;
      });
}

int Commands::ImportSubscribers(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return UsageError("subscribers import",
                      absl::StrCat("cannot read \"", path, "\""));
  }
  absl::StatusOr<CsvSubscribers> csv = ReadSubscriberCsv(path, in);
  if (!csv.ok()) {
    return UsageError("subscribers import", csv.status().message());
  }
  constexpr size_t kChunk = 2000;
  v1::ImportSubscribersResponse total;
  for (size_t from = 0; from < csv->subscribers.size(); from += kChunk) {
    const size_t to = std::min(from + kChunk, csv->subscribers.size());
    v1::ImportSubscribersRequest req;
    for (size_t i = from; i < to; ++i) {
      *req.add_subscribers() = csv->subscribers[i];
      req.add_sources(csv->sources[i]);
    }
    v1::ImportSubscribersResponse resp;
    if (int rc = CallMethod(&SubscriberStub::ImportSubscribers, req, resp)) {
      if (from > 0) {
        err_ << "herald subscribers import: rows before " << csv->sources[from]
             << " were imported\n";
      }
      return rc;
    }
    total.set_added(total.added() + resp.added());
    total.set_updated(total.updated() + resp.updated());
    total.set_skipped_unsubscribed(total.skipped_unsubscribed() +
                                   resp.skipped_unsubscribed());
  }
  if (json()) return PrintJson(total, out_), kExitOk;
  out_ << "Imported " << csv->subscribers.size() << " row(s): " << total.added()
       << " added, " << total.updated() << " updated, "
       << total.skipped_unsubscribed() << " skipped (they unsubscribed).\n";
  return kExitOk;
}

int Commands::AddOverride(const std::string& rota, const std::string& person,
                          const std::string& from, const std::string& until,
                          const std::string& reason) {
  v1::CreateOverrideRequest req;
  req.set_rota(rota);
  req.set_person(person);
  req.set_reason(reason);
  if (!from.empty()) {
    absl::StatusOr<absl::Time> t = ParseWhen(from, "--from", globals_.now);
    if (!t.ok()) return UsageError(t.status());
    req.mutable_starts_at()->set_seconds(absl::ToUnixSeconds(*t));
  }
  absl::StatusOr<absl::Time> t = ParseWhen(until, "--until", globals_.now);
  if (!t.ok()) return UsageError(t.status());
  req.mutable_ends_at()->set_seconds(absl::ToUnixSeconds(*t));
  return CallAndPrint(&OnCallStub::CreateOverride, req,
                      [&](const v1::CreateOverrideResponse& resp) {
                        const v1::RotaOverride& o = resp.override();
                        out_ << "Override " << o.id() << ": " << o.person_id()
                             << " holds rota " << o.rota_id() << " from "
                             << When(o.starts_at()) << " until "
                             << When(o.ends_at()) << " UTC.\n";
                        return kExitOk;
                      });
}

int Commands::ListOverrides(const std::string& rota) {
  v1::ListOverridesRequest req;
  req.set_rota(rota);
  return ListAndPrint(
      &OnCallStub::ListOverrides, req, &v1::ListOverridesResponse::overrides,
      {.header = {"ID", "ROTA", "PERSON", "FROM (UTC)", "UNTIL (UTC)", "BY",
                  "REASON"},
       .empty = "No overrides."},
      [](const v1::RotaOverride& o) -> std::vector<std::string> {
        return {absl::StrCat(o.id()),
                o.rota_id(),
                o.person_id(),
                When(o.starts_at()),
                When(o.ends_at()),
                o.created_by(),
                o.reason().empty() ? "-" : o.reason()};
      });
}

int Commands::RemoveOverride(int64_t id) {
  v1::DeleteOverrideRequest req;
  req.set_id(id);
  return CallAndPrint(&OnCallStub::DeleteOverride, req,
                      [&](const v1::DeleteOverrideResponse& resp) {
                        out_ << "Override " << id << " removed.\n";
                        return kExitOk;
                      });
}

int Commands::OnCall(const std::string& component, const std::string& at) {
  v1::GetOnCallRequest req;
  req.set_component(component);
  if (!at.empty()) {
    absl::StatusOr<absl::Time> t = ParseWhen(at, "--at", globals_.now);
    if (!t.ok()) return UsageError(t.status());
    req.mutable_at()->set_seconds(absl::ToUnixSeconds(*t));
  }
  return ListAndPrint(
      &OnCallStub::GetOnCall, req, &v1::GetOnCallResponse::assignments,
      {.header = {"ROTA", "POINT PERSON", "ESCALATION", "SHIFT ENDS (UTC)",
                  "MAY APPROVE ALONE", "MAX CREDIT", "COMPONENTS"},
       .empty = "No rotas."},
      [](const v1::OnCallAssignment& a) -> std::vector<std::string> {
        std::vector<std::string> path;
        if (!a.backup_id().empty()) path.push_back(a.backup_id());
        for (const auto& p : a.escalation()) path.push_back(p);
        std::vector<std::string> kinds;
        for (int k : a.authority().approve_kinds()) {
          kinds.push_back(EnumLabel(static_cast<v1::MessageKind>(k)));
        }
        return {a.rota_id(),
                absl::StrCat(a.point_person_name(), " (", a.point_person_id(),
                             ")", a.override_id() ? " [override]" : ""),
                path.empty() ? "-"
                             : absl::StrCat(absl::StrJoin(path, " > "),
                                            " after ", a.ack_timeout()),
                When(a.shift_end()),
                kinds.empty() ? "nothing" : absl::StrJoin(kinds, ", "),
                absl::StrCat(a.authority().max_credit_percent(), "%"),
                absl::StrJoin(a.component_ids(), ", ")};
      });
}

}  // namespace herald::cli
