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

int Commands::ListAmends(const std::string& incident,
                         v1::ListAmendsResponse& resp) {
  v1::ListAmendsRequest req;
  req.set_incident(incident);
  return CallEveryPage(req, resp, &AftercareStub::ListAmends);
}

int Commands::ListAffected(const std::string& incident) {
  v1::ListAffectedCustomersRequest req;
  req.set_incident(incident);
  return ListAndPrint(
      &SubscriberStub::ListAffectedCustomers, req,
      &v1::ListAffectedCustomersResponse::customers,
      {.header = {"ID", "NAME", "ACCOUNT", "PLAN", "WHY"},
       .empty = absl::StrCat("No customer is affected by ", incident, ".")},
      [&](const v1::AffectedCustomer& c) -> std::vector<std::string> {
        const v1::Subscriber& sub = c.subscriber();
        std::vector<std::string> why;
        if (!c.component_ids().empty()) {
          why.push_back(absl::StrCat("subscribes to ",
                                     absl::StrJoin(c.component_ids(), ",")));
        }
        if (!c.alert_labels().empty()) {
          why.push_back(absl::StrCat("alert label ",
                                     absl::StrJoin(c.alert_labels(), ",")));
        }
        return {sub.id(), sub.name().empty() ? "-" : sub.name(),
                sub.account().empty() ? "-" : sub.account(),
                sub.plan().empty() ? "-" : sub.plan(),
                OneLine(absl::StrJoin(why, "; "), 100)};
      },
      [&](const v1::ListAffectedCustomersResponse& resp) {
        out_ << resp.customers_size() << " affected customer(s).\n";
      });
}

int Commands::Credits(const std::string& incident) {
  v1::ListAmendsResponse resp;
  if (int rc = ListAmends(incident, resp)) return rc;
  if (json()) return PrintJson(resp, out_), kExitOk;
  if (resp.amends().empty()) {
    out_ << "No customer is affected by " << incident << ".\n";
    return kExitOk;
  }
  Table t({"CUSTOMER", "ACCOUNT", "PLAN", "DURATION", "CREDIT", "AMOUNT",
           "VOUCHER"});
  int offered = 0;
  for (const v1::Amends& a : resp.amends()) {
    const v1::Credit& c = a.credit();
    const bool voucher = !c.voucher_value().empty();
    offered += c.percent() > 0 || voucher;
    t.Add({a.subscriber_id(), a.account().empty() ? "-" : a.account(),
           a.plan().empty() ? "-" : a.plan(),
           Duration(a.started_at(), a.ended_at()),
           c.percent() > 0 ? absl::StrCat(c.percent(), "%") : "-",
           c.amount_cents() > 0 ? Money(c.amount_cents(), c.currency()) : "-",
           !voucher ? "-"
           : c.voucher_code().empty()
               ? absl::StrCat(c.voucher_value(), " (code on approval)")
               : absl::StrCat(c.voucher_value(), ": ", c.voucher_code())});
  }
  t.Print(out_);
  out_ << offered << " of " << resp.amends_size()
       << " customer(s) are offered a credit or voucher"
       << (resp.fixed() ? ", fixed when the apology was approved.\n"
                        : "; the apology is not approved yet, so these are "
                          "what approving it now would fix.\n");
  out_ << "The point person may offer up to " << resp.authority_percent()
       << "% of the monthly fee";
  if (!resp.approved_by().empty()) {
    out_ << "; " << resp.approved_by() << " (admin) approved up to "
         << resp.approved_percent() << "%";
  }
  out_ << ".\n";
  if (resp.needs_admin()) {
    out_ << "A credit exceeds that: an admin must run `herald credits "
            "approve "
         << incident << "` before the apology can be approved.\n";
  }
  return kExitOk;
}

int Commands::ApproveCredits(const std::string& incident) {
  v1::ApproveCreditsRequest req;
  req.set_incident(incident);
  return CallAndPrint(
      &AftercareStub::ApproveCredits, req,
      [&](const v1::ApproveCreditsResponse& resp) {
        out_ << "Credits of " << resp.incident().ref() << " approved up to "
             << resp.approved_percent()
             << "% of the monthly fee; the apology can now be approved.\n";
        return kExitOk;
      });
}

int Commands::FollowUps(const std::string& incident, bool problems_only) {
  v1::ListAmendsResponse resp;
  if (int rc = ListAmends(incident, resp)) return rc;
  if (problems_only) {
    google::protobuf::RepeatedPtrField<v1::Amends> kept;
    for (v1::Amends& a : *resp.mutable_amends()) {
      if (a.service_answer() == v1::FOLLOW_UP_ANSWER_STILL_BROKEN ||
          a.credit_answer() == v1::FOLLOW_UP_ANSWER_CREDIT_MISSING) {
        *kept.Add() = std::move(a);
      }
    }
    resp.mutable_amends()->Swap(&kept);
  }
  if (json()) return PrintJson(resp, out_), kExitOk;
  if (!resp.fixed()) {
    out_ << "The apology of " << incident
         << " is not approved yet; its follow-up comes after it.\n";
    return kExitOk;
  }
  auto answer = [](v1::FollowUpAnswer a) {
    return a == v1::FOLLOW_UP_ANSWER_UNSPECIFIED
               ? std::string("-")
               : absl::StrReplaceAll(EnumLabel(a), {{"_", " "}});
  };
  Table t({"CUSTOMER", "NAME", "ACCOUNT", "SERVICE", "CREDIT", "ANSWERED"});
  int problems = 0, answered = 0;
  for (const v1::Amends& a : resp.amends()) {
    const bool problem =
        a.service_answer() == v1::FOLLOW_UP_ANSWER_STILL_BROKEN ||
        a.credit_answer() == v1::FOLLOW_UP_ANSWER_CREDIT_MISSING;
    problems += problem;
    answered += a.has_answered_at();
    t.Add({absl::StrCat(problem ? "! " : "", a.subscriber_id()),
           a.customer_name().empty() ? "-" : a.customer_name(),
           a.account().empty() ? "-" : a.account(), answer(a.service_answer()),
           answer(a.credit_answer()), When(a.answered_at())});
  }
  if (resp.amends().empty()) {
    out_ << (problems_only ? "No customer reported a problem.\n"
                           : "No customer is affected.\n");
    return kExitOk;
  }
  t.Print(out_);
  // What customers wrote, below the table: free text does not fit a column.
  bool wrote = false;
  for (const v1::Amends& a : resp.amends()) {
    if (a.answer_comment().empty()) continue;
    wrote = true;
    out_ << "\n" << a.subscriber_id() << " wrote:\n";
    for (absl::string_view line : absl::StrSplit(a.answer_comment(), '\n')) {
      out_ << "  " << ScrubText(line, /*keep_newlines=*/false) << "\n";
    }
  }
  if (wrote) out_ << "\n";
  if (!problems_only) {
    out_ << answered << " of " << resp.amends_size()
         << " customer(s) answered; ";
  }
  out_ << problems << " need(s) a person: still broken or credit missing"
       << (problems > 0 ? " (marked !)" : "") << ".\n";
  return kExitOk;
}

int Commands::Postmortem(const std::string& incident, const std::string& file) {
  absl::StatusOr<std::string> summary = ReadFile(file, "--file");
  if (!summary.ok()) return UsageError(summary.status());
  v1::AttachPostmortemRequest req;
  req.set_incident(incident);
  req.set_summary(*std::move(summary));
  return CallAndPrint(
      &AftercareStub::AttachPostmortem, req,
      [&](const v1::AttachPostmortemResponse& resp) {
        out_ << "Postmortem of " << resp.incident().ref()
             << " published; the status page shows it and its status is now "
                "postmortem.\n";
        return kExitOk;
      });
}

}  // namespace herald::cli
