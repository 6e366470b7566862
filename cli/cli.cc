#include "cli/cli.h"

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
#include "cli/safe_output.h"
#include "cli/subscriber_csv.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "herald/enum_labels.h"
#include "server/base/private_files.h"
#include "server/base/text.h"

namespace herald::cli {
namespace {

// What the user calls argument `i`: its flag ("--account" for
// "--account=x" or "--account x"), else its position.
std::string ArgumentName(const char* const* argv, int i) {
  const absl::string_view arg = argv[i];
  if (absl::StartsWith(arg, "--") && arg.find('=') != arg.npos) {
    return std::string(arg.substr(0, arg.find('=')));
  }
  if (i > 1 && absl::StartsWith(argv[i - 1], "-") && IsValidUtf8(argv[i - 1])) {
    return argv[i - 1];
  }
  return absl::StrCat("argument ", i);
}

}  // namespace

int Run(int argc, const char* const* argv, const Connector& connect,
        const std::function<std::string(const char*)>& env,
        std::ostream& raw_out, std::ostream& raw_err, absl::Time now) {
  // Everything printed, tables, JSON, help and errors, is scrubbed of
  // terminal escapes (safe_output.h).
  ScrubbingStreambuf out_buf(raw_out), err_buf(raw_err);
  std::ostream out(&out_buf), err(&err_buf);
  // Every argument is text a person typed: it is checked here, before
  // anything is sent, and the error names the flag.
  for (int i = 1; i < argc; ++i) {
    if (absl::Status s = CheckText(ArgumentName(argv, i), argv[i]); !s.ok()) {
      err << "herald: " << s.message() << " (see --help)\n";
      return kExitUsage;
    }
  }
  Globals g;
  g.now = now;
  g.connect.server = env("HERALD_SERVER");
  if (g.connect.server.empty()) g.connect.server = kDefaultServer;
  g.connect.token = env("HERALD_TOKEN");
  g.connect.ca_cert_file = env("HERALD_CA_CERT");

  CLI::App app{
      "herald: incident communication from the command line.\n"
      "Engineers post short updates; comms leads approve what customers read."};
  app.name("herald");
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand
  app.add_option("--server", g.connect.server,
                 "heraldd gRPC address (env HERALD_SERVER)")
      ->capture_default_str();
  app.add_option("--token", g.connect.token,
                 "your API token (env HERALD_TOKEN)");
  app.add_option("--ca-cert", g.connect.ca_cert_file,
                 "PEM file of the CA that signed heraldd's certificate; "
                 "connects with TLS (env HERALD_CA_CERT)")
      ->check(CLI::ExistingFile);
  app.add_option("-o,--output", g.output, "output format: table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();

  Commands cmd(g, connect, out, err);
  int rc = kExitOk;

  bool all = false;
  auto* incidents = app.add_subcommand(
      "incidents", "List open incidents (--all: resolved too)");
  incidents->add_flag("-a,--all", all, "include resolved incidents");
  incidents->callback([&] { rc = cmd.Incidents(all); });

  std::string incident;
  auto* show = app.add_subcommand(
      "show", "Show an incident: alerts, messages and timeline");
  show->add_option("INCIDENT", incident, "incident id, e.g. INC-12")
      ->required();
  show->callback([&] { rc = cmd.Show(incident); });

  std::string text, status, eta, next;
  auto* update = app.add_subcommand("update",
                                    "Post a short engineer update (engineer "
                                    "role); drafts a customer message");
  update->add_option("INCIDENT", incident, "incident id, e.g. INC-12")
      ->required();
  update
      ->add_option("TEXT", text,
                   "what changed, in a sentence or two (max 500 characters)")
      ->required();
  update
      ->add_option("--status", status,
                   "move the incident to identified or monitoring")
      ->check(CLI::IsMember({"identified", "monitoring"}));
  update->add_option("--eta", eta,
                     "when you expect the fix, from now (e.g. 30m, 2h)");
  update->add_option("--next", next, "what the team does next");
  update->callback([&] { rc = cmd.Update(incident, text, status, eta, next); });

  std::string note;
  auto* resolve = app.add_subcommand(
      "resolve",
      "Resolve an incident; drafts the resolution notice and the apologies");
  resolve->add_option("INCIDENT", incident, "incident id, e.g. INC-12")
      ->required();
  resolve->add_option("--note", note,
                      "what happened and what was done, for customers");
  resolve->callback([&] { rc = cmd.Resolve(incident, note); });

  std::vector<std::string> states;
  auto* messages = app.add_subcommand(
      "messages", "List messages (default: drafts awaiting approval)");
  messages->add_option("--incident", incident, "only this incident");
  messages
      ->add_option("--state", states, "states to list, e.g. --state published")
      ->delimiter(',');
  messages->callback([&] {
    if (messages->get_subcommands().empty())
      rc = cmd.Messages(incident, states);
  });

  app.add_subcommand("inbox",
                     "Messages waiting for approval, newest incident first, "
                     "with their audience and when customers are due their "
                     "next update")
      ->callback([&] { rc = cmd.Inbox(); });

  std::string message;
  int version = 0;
  auto* preview = messages->add_subcommand(
      "preview", "Show exactly what each channel will send for a message");
  preview->add_option("MESSAGE", message, "message id, e.g. MSG-40")
      ->required();
  preview->callback([&] { rc = cmd.Preview(message); });

  Commands::TextEdit text_edit;
  auto* edit = messages->add_subcommand(
      "edit",
      "Write a new version of a draft (comms, comms_lead): opens $EDITOR on "
      "the title, a blank line and the body, unless --title or --body-file "
      "is given");
  edit->add_option("MESSAGE", message, "message id, e.g. MSG-40")->required();
  edit->add_option("--title", text_edit.title, "the new title");
  edit->add_option("--body-file", text_edit.body_file,
                   "a file holding the new body ('-' is not supported)");
  edit->add_option("--component", text_edit.components,
                   "the public status publishing sets, e.g. "
                   "--component checkout=partial_outage (repeatable)");
  edit->add_option("--language", text_edit.language,
                   "edit the translation into this language (e.g. de) "
                   "instead of the message's own text; readers in it get the "
                   "translation, the others the default text");
  edit->add_flag("--remove-translation", text_edit.remove_translation,
                 "remove the --language translation: its readers get the "
                 "default text again");
  edit->callback([&] { rc = cmd.Edit(message, text_edit, env("EDITOR")); });

  int diff_from = 0, diff_to = 0;
  auto* diff = messages->add_subcommand(
      "diff",
      "Show how a message changed between versions (default: the "
      "last edit)");
  diff->add_option("MESSAGE", message, "message id, e.g. MSG-40")->required();
  diff->add_option("--from", diff_from,
                   "older version (default: the one before --to)");
  diff->add_option("--to", diff_to, "newer version (default: the current one)");
  diff->callback([&] { rc = cmd.Diff(message, diff_from, diff_to); });
  auto* approve = app.add_subcommand(
      "approve", "Approve and publish a message (comms_lead role)");
  approve->add_option("MESSAGE", message, "message id, e.g. MSG-40")
      ->required();
  approve->add_option(
      "--version", version,
      "refuse if the message is no longer at this version (what you reviewed)");
  bool as_written = false;
  approve->add_flag(
      "--as-written", as_written,
      "publish even though the text still holds an engineer's words exactly "
      "as they wrote them (herald messages preview marks them)");
  approve->callback([&] { rc = cmd.Approve(message, version, as_written); });

  std::string reject_reason;
  auto* reject = app.add_subcommand(
      "reject",
      "Send a draft back to the point person with a reason (comms_lead)");
  reject->add_option("MESSAGE", message, "message id, e.g. MSG-40")->required();
  reject->add_option("--reason", reject_reason, "what must change")->required();
  reject->add_option(
      "--version", version,
      "refuse if the message is no longer at this version (what you reviewed)");
  reject->callback([&] { rc = cmd.Reject(message, version, reject_reason); });

  auto* audit = app.add_subcommand(
      "audit", "The audit log: every draft, edit, approval and rejection");
  audit->add_option("INCIDENT", incident, "only this incident");
  audit->callback([&] { rc = cmd.AuditLog(incident); });

  std::string component;
  std::string at;
  auto* oncall = app.add_subcommand(
      "oncall",
      "Show who is the communication point person, their escalation path and "
      "authority");
  oncall->add_option("COMPONENT", component,
                     "only the rota for this component");
  oncall->add_option("--at", at,
                     "at this time instead of now: RFC 3339 "
                     "(2026-11-24T03:00:00+01:00) or a duration from now (8h)");
  oncall->callback([&] {
    if (oncall->get_subcommands().empty()) rc = cmd.OnCall(component, at);
  });

  auto* override_cmd = oncall->add_subcommand(
      "override", "Temporary replacements of a rota's point person");
  override_cmd->require_subcommand(1);
  std::string rota, person, from, until, reason;
  auto* override_add =
      override_cmd->add_subcommand("add",
                                   "PERSON holds ROTA's point-person role "
                                   "until --until (comms_lead, admin)");
  override_add->add_option("ROTA", rota, "rota id, e.g. customer-comms")
      ->required();
  override_add->add_option("PERSON", person, "person id, e.g. erin")
      ->required();
  override_add->add_option(
      "--from", from, "start (default now): RFC 3339 or a duration from now");
  override_add
      ->add_option("--until", until,
                   "end: RFC 3339 or a duration from now (e.g. 12h)")
      ->required();
  override_add->add_option("--reason", reason, "why, for the record");
  override_add->callback(
      [&] { rc = cmd.AddOverride(rota, person, from, until, reason); });
  auto* override_list =
      override_cmd->add_subcommand("list", "Current and future overrides");
  override_list->add_option("ROTA", rota, "only this rota");
  override_list->callback([&] { rc = cmd.ListOverrides(rota); });
  int64_t override_id = 0;
  auto* override_remove = override_cmd->add_subcommand(
      "remove", "Remove an override (comms_lead, admin)");
  override_remove
      ->add_option("ID", override_id, "override id from `oncall override list`")
      ->required();
  override_remove->callback([&] { rc = cmd.RemoveOverride(override_id); });

  bool failed_only = false;
  auto* deliveries = app.add_subcommand(
      "deliveries",
      "Each recipient's delivery of a message, or every delivery that gave up "
      "(comms, comms_lead, admin)");
  deliveries->add_option("MESSAGE", message, "message id, e.g. MSG-40");
  deliveries->add_flag("--failed", failed_only,
                       "every delivery that exhausted its attempts, newest "
                       "first");
  int deliveries_limit = -1;
  deliveries
      ->add_option("--limit", deliveries_limit,
                   "show at most this many (0: all; default: 100 with "
                   "--failed, all for a message)")
      ->check(CLI::NonNegativeNumber);
  std::string retry_since, retry_channel;
  auto* retry = deliveries->add_subcommand(
      "retry",
      "Queue failed deliveries again: a message's, or every failed one "
      "(comms, comms_lead, admin)");
  retry->add_option("MESSAGE", message, "message id, e.g. MSG-40");
  retry->add_flag("--failed", failed_only, "every failed delivery");
  retry->add_option("--since", retry_since,
                    "with --failed: only those queued since then (RFC 3339, "
                    "or a duration ago: 2h)");
  retry->add_option("--channel", retry_channel,
                    "with --failed: only those that failed on this channel "
                    "(email, webhook, slack, sms)");
  retry->callback([&] {
    rc = cmd.RetryDeliveries(message, failed_only, retry_since, retry_channel);
  });
  deliveries->callback([&] {
    if (retry->parsed()) return;  // `deliveries retry` ran instead
    const int limit = deliveries_limit >= 0 ? deliveries_limit
                      : failed_only         ? 100
                                            : 0;
    rc = cmd.Deliveries(message, failed_only, limit);
  });

  auto* subscribers = app.add_subcommand(
      "subscribers",
      "Who receives status messages: add, list, remove, import (comms, "
      "comms_lead, admin)");
  subscribers->require_subcommand(1);
  v1::Subscriber new_subscriber;
  std::vector<std::string> sub_components, sub_contacts;
  auto* sub_add = subscribers->add_subcommand(
      "add", "Add a subscriber, active at once (you vouch for them)");
  sub_add
      ->add_option_function<std::string>(
          "ID", [&](const std::string& v) { new_subscriber.set_id(v); },
          "a stable id, e.g. the customer's account id")
      ->required();
  sub_add->add_option_function<std::string>(
      "--name", [&](const std::string& v) { new_subscriber.set_name(v); },
      "how messages address them");
  sub_add->add_option_function<std::string>(
      "--email", [&](const std::string& v) { new_subscriber.set_email(v); },
      "their email address; the only contact when no --contact is given");
  sub_add->add_option_function<std::string>(
      "--account", [&](const std::string& v) { new_subscriber.set_account(v); },
      "the customer account they belong to");
  sub_add->add_option_function<std::string>(
      "--plan", [&](const std::string& v) { new_subscriber.set_plan(v); },
      "their plan, for credit policies");
  sub_add->add_option_function<std::string>(
      "--locale", [&](const std::string& v) { new_subscriber.set_locale(v); },
      "the language of their messages, a BCP 47 tag such as de or en-GB "
      "(default: the organisation's)");
  sub_add->add_option_function<std::string>(
      "--preferred-name",
      [&](const std::string& v) { new_subscriber.set_preferred_name(v); },
      "what letters call them, e.g. Grace (default: --name)");
  sub_add->add_option_function<std::string>(
      "--time-zone",
      [&](const std::string& v) { new_subscriber.set_time_zone(v); },
      "the IANA time zone their messages' times are in, e.g. Europe/Berlin "
      "(default: the organisation's)");
  sub_add
      ->add_option("--component", sub_components,
                   "a component they hear about (repeat for more)")
      ->required();
  sub_add->add_option(
      "--contact", sub_contacts,
      "channel:address, tried in the order given (repeat): email:ann@x.com, "
      "sms:+4915112345678, slack:https://hooks..., webhook:https://... "
      "(webhooks get a new signing secret unless one follows a '|')");
  sub_add->callback([&] {
    for (const std::string& c : sub_components) {
      new_subscriber.add_component_ids(c);
    }
    rc = cmd.AddSubscriber(new_subscriber, sub_contacts);
  });
  std::string affected_incident;
  auto* affected = app.add_subcommand(
      "affected",
      "The customers an incident affected, each once, and why: they "
      "subscribe to an affected component, or an alert's customer label "
      "(intake.customer_labels) names their account (comms, comms_lead, "
      "admin)");
  affected
      ->add_option("INCIDENT", affected_incident, "incident id, e.g. INC-12")
      ->required();
  affected->callback([&] { rc = cmd.ListAffected(affected_incident); });
  auto* admin = app.add_subcommand("admin", "Operating herald (admin)");
  admin->require_subcommand(1);
  std::string backup_file;
  auto* backup = admin->add_subcommand(
      "backup",
      "Copy the whole database, consistently, while heraldd keeps serving; "
      "restore by stopping heraldd and putting the copy in place of "
      "DATA_DIR/herald.db");
  backup->add_option("FILE", backup_file, "where to write it (must not exist)")
      ->required();
  backup->callback([&] { rc = cmd.Backup(backup_file); });

  std::string credits_incident;
  auto* credits = app.add_subcommand(
      "credits",
      "Each affected customer's credit or voucher for an incident: before "
      "the apology is approved, what approving it would give; after, what "
      "was fixed, with voucher codes (comms, comms_lead, admin)");
  credits->add_option("INCIDENT", credits_incident, "incident id, e.g. INC-12");
  auto* credits_approve = credits->add_subcommand(
      "approve",
      "Let the incident's apology offer credits above the rota's authority "
      "(admin)");
  credits_approve
      ->add_option("INCIDENT", credits_incident, "incident id, e.g. INC-12")
      ->required();
  credits_approve->callback([&] { rc = cmd.ApproveCredits(credits_incident); });
  credits->callback([&] {
    if (!credits->get_subcommands().empty()) return;
    if (credits_incident.empty()) {
      throw CLI::RequiredError("INCIDENT");
    }
    rc = cmd.Credits(credits_incident);
  });

  std::string follow_ups_incident;
  bool problems_only = false;
  auto* follow_ups = app.add_subcommand(
      "follow-ups",
      "Customers' answers to an incident's follow-up; those still broken or "
      "missing a credit need a person (comms, comms_lead, admin)");
  follow_ups
      ->add_option("INCIDENT", follow_ups_incident, "incident id, e.g. INC-12")
      ->required();
  follow_ups->add_flag("--problems", problems_only,
                       "only customers who answered still broken or credit "
                       "missing");
  follow_ups->callback(
      [&] { rc = cmd.FollowUps(follow_ups_incident, problems_only); });

  std::string postmortem_incident, postmortem_file;
  auto* postmortem = app.add_subcommand(
      "postmortem",
      "Publish the public postmortem of a resolved incident (comms_lead, "
      "admin): the status page shows it, apologies and follow-ups link to it");
  postmortem
      ->add_option("INCIDENT", postmortem_incident, "incident id, e.g. INC-12")
      ->required();
  postmortem
      ->add_option("--file", postmortem_file,
                   "the summary, plain text; blank lines separate paragraphs")
      ->required();
  postmortem->callback(
      [&] { rc = cmd.Postmortem(postmortem_incident, postmortem_file); });

  std::string sub_component;
  bool sub_all = false;
  auto* sub_list = subscribers->add_subcommand("list", "List subscribers");
  sub_list->add_option("--component", sub_component, "only this component's");
  sub_list->add_flag("--all", sub_all, "include those who unsubscribed");
  sub_list->callback([&] { rc = cmd.ListSubscribers(sub_component, sub_all); });
  std::string sub_id;
  auto* sub_remove = subscribers->add_subcommand(
      "remove",
      "Unsubscribe someone; the record stays so nothing re-adds them");
  sub_remove->add_option("ID", sub_id, "subscriber id")->required();
  sub_remove->callback([&] { rc = cmd.RemoveSubscriber(sub_id); });
  std::string sub_file;
  auto* sub_import = subscribers->add_subcommand(
      "import",
      "Add or update subscribers from CSV with a header row: id, components "
      "(space or ';' separated) and optionally name, preferred_name, email, "
      "account, plan, locale (de, en-GB), time_zone (Europe/Berlin), contacts "
      "(space separated channel:address)");
  sub_import->add_option("FILE", sub_file, "the CSV file")
      ->required()
      ->check(CLI::ExistingFile);
  sub_import->callback([&] { rc = cmd.ImportSubscribers(sub_file); });

  auto* maintenance = app.add_subcommand(
      "maintenance", "Announce planned maintenance ahead of time");
  maintenance->require_subcommand(1);
  std::vector<std::string> maintenance_components;
  std::string maintenance_to, maintenance_title, maintenance_text;
  auto* schedule = maintenance->add_subcommand(
      "schedule",
      "Schedule maintenance and draft its announcement, with the reminder, "
      "\"started\" and \"completed\" notices its approval covers; the "
      "components go under_maintenance when the window starts (engineer, "
      "comms, "
      "comms_lead)");
  schedule
      ->add_option("--component", maintenance_components,
                   "affected component id; repeat for several")
      ->required();
  schedule
      ->add_option("--from", from,
                   "window start: RFC 3339 (2026-11-24T02:00:00Z) or a "
                   "duration from now (48h)")
      ->required();
  schedule
      ->add_option("--to", maintenance_to,
                   "window end: RFC 3339 or a duration from now")
      ->required();
  schedule->add_option(
      "--title", maintenance_title,
      "headline (default \"Scheduled maintenance: <components>\")");
  schedule
      ->add_option("TEXT", maintenance_text,
                   "what is done and what customers may notice")
      ->required();
  schedule->callback([&] {
    rc = cmd.ScheduleMaintenance(maintenance_components, from, maintenance_to,
                                 maintenance_title, maintenance_text);
  });
  auto* complete = maintenance->add_subcommand(
      "complete",
      "Mark a maintenance in progress done: its components get their status "
      "back and the approved \"completed\" notice goes out (engineer, comms, "
      "comms_lead)");
  complete->add_option("INCIDENT", incident, "the maintenance, e.g. INC-7")
      ->required();
  complete->callback([&] { rc = cmd.CompleteMaintenance(incident); });
  auto* cancel = maintenance->add_subcommand(
      "cancel",
      "Call off a maintenance that has not started: its notices not yet sent "
      "are withdrawn, and if customers were told, a cancellation notice is "
      "drafted for approval (engineer, comms, comms_lead); once it has "
      "started, use complete");
  cancel->add_option("INCIDENT", incident, "the maintenance, e.g. INC-7")
      ->required();
  cancel->add_option("--reason", reason,
                     "why; it goes into the cancellation notice's draft");
  cancel->callback([&] { rc = cmd.CancelMaintenance(incident, reason); });

  auto* ack = app.add_subcommand(
      "ack", "Acknowledge an incident as its point person; stops escalation");
  ack->add_option("INCIDENT", incident, "incident id, e.g. INC-12")->required();
  ack->callback([&] { rc = cmd.Acknowledge(incident); });

  bool unrouted = false;
  auto* alerts = app.add_subcommand(
      "alerts",
      "List an incident's alerts, or every alert that matched no component");
  alerts->add_option("INCIDENT", incident, "incident id, e.g. INC-12");
  alerts->add_flag("--unrouted", unrouted,
                   "alerts that matched no component's matchers (sent to the "
                   "default component)");
  int alerts_limit = 0;
  alerts
      ->add_option("--limit", alerts_limit,
                   "show at most this many (default: every one, fetched a "
                   "page at a time)")
      ->check(CLI::PositiveNumber);
  alerts->callback([&] { rc = cmd.Alerts(incident, unrouted, alerts_limit); });

  auto* health = app.add_subcommand(
      "health",
      "Ask heraldd whether it is serving (the standard gRPC health check; "
      "no token needed). Exit 0 when SERVING, 1 otherwise: a probe for "
      "containers and scripts");
  health->callback([&] { rc = cmd.Health(); });

  auto* watch = app.add_subcommand(
      "watch",
      "Stream what happens (alerts, updates, drafts, approvals, deliveries) "
      "until interrupted");
  int watch_count = 0;
  watch->add_option("INCIDENT", incident, "only this incident");
  watch
      ->add_option("--count", watch_count,
                   "stop after this many events (the first says what is "
                   "watched)")
      ->check(CLI::PositiveNumber);
  watch->callback([&] { rc = cmd.Watch(incident, watch_count); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    out << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp& e) {
    out << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    if (!app.get_subcommands().empty() && e.get_exit_code() != 0) {
      err << "herald " << app.get_subcommands().front()->get_name() << ": "
          << what << " (see --help)\n";
    } else {
      err << "herald: " << what << " (see --help)\n";
    }
    return e.get_exit_code() == 0 ? kExitOk : kExitUsage;
  }
  return rc;
}

Connector GrpcConnector() {
  return [](const ConnectOptions& o) {
    std::shared_ptr<grpc::ChannelCredentials> credentials =
        grpc::InsecureChannelCredentials();
    if (!o.ca_cert_file.empty()) {
      // Checked to exist when parsed; an unreadable file leaves no roots,
      // and the handshake then fails with gRPC's own message.
      std::ifstream in(o.ca_cert_file, std::ios::binary);
      std::stringstream pem;
      pem << in.rdbuf();
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = pem.str();
      credentials = grpc::SslCredentials(ssl);
    }
    auto channel = grpc::CreateChannel(o.server, credentials);
    Stubs stubs;
    stubs.incidents = v1::IncidentService::NewStub(channel);
    stubs.messages = v1::MessageService::NewStub(channel);
    stubs.oncall = v1::OnCallService::NewStub(channel);
    stubs.subscribers = v1::SubscriberService::NewStub(channel);
    stubs.aftercare = v1::AftercareService::NewStub(channel);
    stubs.admin = v1::AdminService::NewStub(channel);
    stubs.health = grpc::health::v1::Health::NewStub(channel);
    return stubs;
  };
}

}  // namespace herald::cli
