// Commands: one method per `herald` subcommand, each calling the herald.v1
// services through Stubs and printing a table or, with `-o json`, the
// response as JSON (output.h). The methods live in one file per area
// (commands_*.cc); cli.cc parses the arguments and calls them. Not
// thread-safe: one invocation, one thread.
#ifndef HERALD_CLI_COMMANDS_H_
#define HERALD_CLI_COMMANDS_H_

#include <algorithm>
#include <chrono>
#include <ostream>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "grpcpp/grpcpp.h"

namespace herald::cli {

inline constexpr char kDefaultServer[] = "127.0.0.1:7601";

// The generated stubs, by service.
using IncidentStub = v1::IncidentService::StubInterface;
using MessageStub = v1::MessageService::StubInterface;
using OnCallStub = v1::OnCallService::StubInterface;
using SubscriberStub = v1::SubscriberService::StubInterface;
using AftercareStub = v1::AftercareService::StubInterface;
using AdminStub = v1::AdminService::StubInterface;
using HealthStub = grpc::health::v1::Health::StubInterface;

// The stub of `Service` in `stubs`.
template <typename Service>
Service& StubOf(Stubs& s) {
  return *std::get<std::unique_ptr<Service>&>(
      std::tie(s.incidents, s.messages, s.oncall, s.subscribers, s.aftercare,
               s.admin, s.health));
}

// A unary method of a generated stub, e.g. &IncidentStub::ResolveIncident.
template <typename Service, typename Request, typename Response>
using UnaryMethod = grpc::Status (Service::*)(grpc::ClientContext*,
                                              const Request&, Response*);

// A list in a reply, e.g. &v1::ListAuditResponse::entries.
template <typename Response, typename Item>
using ListField =
    const google::protobuf::RepeatedPtrField<Item>& (Response::*)() const;

// How a list prints as a table: the header, what it says when empty, and
// for a paged list, how many items it shows at most (0: all).
struct ListSpec {
  std::vector<std::string> header;
  std::string empty;  // e.g. "No overrides."
  int limit = 0;
};

// The options every subcommand shares.
struct Globals {
  ConnectOptions connect;
  std::string output = "table";
  // When the command runs: durations such as `--at 8h` count from it.
  absl::Time now;
};

class Commands {
 public:
  Commands(const Globals& globals, const Connector& connect, std::ostream& out,
           std::ostream& err)
      : globals_(globals), connect_(connect), out_(out), err_(err) {}

  // The caller's token, as gRPC metadata.
  void AddCredentials(grpc::ClientContext& ctx) const {
    if (!globals_.connect.token.empty()) {
      ctx.AddMetadata("authorization",
                      absl::StrCat("Bearer ", globals_.connect.token));
    }
  }

  // A failed call's message; for an unreachable server, with where herald
  // looked and how (plain text or TLS).
  std::string ErrorText(const grpc::Status& s) const {
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE) {
      return s.error_message();
    }
    return absl::StrCat("cannot reach heraldd at ", globals_.connect.server,
                        " (--server or HERALD_SERVER)",
                        globals_.connect.ca_cert_file.empty()
                            ? "; if it serves TLS, pass --ca-cert"
                            : absl::StrCat(" over TLS with the CA in ",
                                           globals_.connect.ca_cert_file),
                        ": ", s.error_message());
  }

  // Calls `rpc` on a fresh context carrying the token; prints errors.
  template <typename Fn>
  int Call(Fn rpc) {
    if (!stubs_.incidents) stubs_ = connect_(globals_.connect);
    grpc::ClientContext ctx;
    AddCredentials(ctx);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(30));
    grpc::Status s = rpc(ctx, stubs_);
    if (s.ok()) return kExitOk;
    const std::string msg = ErrorText(s);
    err_ << "herald: " << CodeName(s.error_code()) << ": " << OneLine(msg, 400)
         << "\n";
    return kExitError;
  }

  // Calls `method` with `request`, into `reply`; prints errors.
  template <typename Service, typename Request, typename Response>
  int CallMethod(UnaryMethod<Service, Request, Response> method,
                 const Request& request, Response& reply) {
    return Call([&](grpc::ClientContext& c, Stubs& s) {
      return (StubOf<Service>(s).*method)(&c, request, &reply);
    });
  }

  // Calls `method` and prints its reply: as JSON with -o json, otherwise as
  // `print(reply)` writes it. Returns the exit code (`print`'s).
  template <typename Service, typename Request, typename Response,
            typename Print>
  int CallAndPrint(UnaryMethod<Service, Request, Response> method,
                   const Request& request, Print print) {
    Response reply;
    if (int rc = CallMethod(method, request, reply)) return rc;
    if (json()) return PrintJson(reply, out_), kExitOk;
    return print(reply);
  }

  // Gathers the list `method` returns (every page of it, or `spec.limit`
  // items) and prints it: as JSON with -o json (the list's key always
  // there, [] when empty), otherwise a table of `spec.header` with the row
  // `row(item)` of each item of `items`, then `footer(reply)` if given; or
  // `spec.empty` when there is no item.
  template <typename Service, typename Request, typename Response,
            typename Item, typename Row, typename Footer = std::nullptr_t>
  int ListAndPrint(UnaryMethod<Service, Request, Response> method,
                   const Request& request, ListField<Response, Item> items,
                   ListSpec spec, Row row, Footer footer = nullptr) {
    Response all;
    int rc;
    if constexpr (requires { all.next_page_token(); }) {
      rc = CallEveryPage(request, all, method, spec.limit, items);
    } else {
      rc = CallMethod(method, request, all);
    }
    if (rc != kExitOk) return rc;
    if (json()) return PrintJson(all, out_), kExitOk;
    if ((all.*items)().empty()) {
      out_ << spec.empty << "\n";
      return kExitOk;
    }
    Table t(std::move(spec.header));
    for (const Item& item : (all.*items)()) t.Add(row(item));
    t.Print(out_);
    if constexpr (!std::is_same_v<Footer, std::nullptr_t>) footer(all);
    return kExitOk;
  }

  // Calls the list `method` a page at a time and gathers every page into
  // `all`: repeated fields append, and `all`'s next_page_token is left
  // empty. With `limit` (0: all), stops once `(all.*items)()` holds that
  // many, and leaves the token of what follows in next_page_token.
  template <typename Service, typename Request, typename Response,
            typename Item = std::nullptr_t>
  int CallEveryPage(Request request, Response& all,
                    UnaryMethod<Service, Request, Response> method,
                    int limit = 0, ListField<Response, Item> items = nullptr) {
    constexpr int kMostPerPage = 1000;  // the server's largest page
    // How many more `limit` allows.
    auto left = [&] {
      if constexpr (!std::is_same_v<Item, std::nullptr_t>) {
        if (limit > 0 && items != nullptr) return limit - (all.*items)().size();
      }
      return kMostPerPage;
    };
    do {
      request.set_page_size(std::min(left(), kMostPerPage));
      Response page;
      if (int rc = CallMethod(method, request, page)) return rc;
      if (!page.next_page_token().empty() &&
          page.next_page_token() == request.page_token()) {
        err_ << "herald: the server returned the same page twice; stopped\n";
        return kExitError;
      }
      request.set_page_token(page.next_page_token());
      all.MergeFrom(page);
    } while (!request.page_token().empty() && left() > 0);
    all.set_next_page_token(request.page_token());
    return kExitOk;
  }

  bool json() const { return globals_.output == "json"; }

  std::ostream& out() { return out_; }

  // Incidents, alerts and maintenance (commands_incidents.cc).
  int Incidents(bool all);
  int Show(const std::string& incident);
  int Update(const std::string& incident, const std::string& text,
             const std::string& status, const std::string& eta,
             const std::string& next);
  int Resolve(const std::string& incident, const std::string& note);
  int AuditLog(const std::string& incident);
  void PrintAlerts(const google::protobuf::RepeatedPtrField<v1::Alert>& list,
                   const std::string& indent);
  int Acknowledge(const std::string& incident);
  // Streams events until the server ends the stream or the process is
  // interrupted. One line per event (or one JSON object per line).
  // `count` > 0: stop after that many events (the first says what is
  // watched), for scripts.
  int Watch(const std::string& incident, int count);
  // Every alert, a page per call, or the first `limit` (0: all). With -o
  // json, one ListAlertsResponse holding them all; its next_page_token is
  // set when `limit` stopped it early.
  int Alerts(const std::string& incident, bool unrouted, int limit);
  int ScheduleMaintenance(const std::vector<std::string>& components,
                          const std::string& from, const std::string& to,
                          const std::string& title, const std::string& text);
  int CancelMaintenance(const std::string& incident, const std::string& reason);
  int CompleteMaintenance(const std::string& incident);

  // Messages and their deliveries (commands_messages.cc).
  int Messages(const std::string& incident,
               const std::vector<std::string>& states);
  // What waits for approval, with what a reviewer weighs first; the comms
  // console's inbox.
  int Inbox();
  int Preview(const std::string& message);
  // What `herald messages edit` changes in the message's text.
  struct TextEdit {
    std::string title;
    std::string body_file;
    std::vector<std::string> components;  // COMPONENT=STATUS
    // A language tag: the title and body are that language's translation.
    std::string language;
    bool remove_translation = false;  // of `language`
  };
  int Edit(const std::string& message, const TextEdit& edit,
           const std::string& editor);
  int Diff(const std::string& message, int from, int to);
  int Reject(const std::string& message, int version,
             const std::string& reason);
  // Each delivery of `message`, or with `failed` every delivery that gave
  // up, newest first; at most `limit` (0: all).
  int Deliveries(const std::string& message, bool failed, int limit);
  // Queues failed deliveries again: `message`'s, or with `failed` every
  // failed one, optionally queued since `since` (RFC 3339, or a duration
  // ago) or last tried on `channel`.
  int RetryDeliveries(const std::string& message, bool failed,
                      const std::string& since, const std::string& channel);
  int Approve(const std::string& message, int version, bool as_written);

  // Subscribers and on-call rotas (commands_people.cc).
  int AddSubscriber(v1::Subscriber subscriber,
                    const std::vector<std::string>& contacts);
  int ListSubscribers(const std::string& component, bool all);
  int RemoveSubscriber(const std::string& id);
  // Sends the file in chunks that fit a request; each chunk is all or
  // nothing, and an error names the file and line.
  int ImportSubscribers(const std::string& path);
  int AddOverride(const std::string& rota, const std::string& person,
                  const std::string& from, const std::string& until,
                  const std::string& reason);
  int ListOverrides(const std::string& rota);
  int RemoveOverride(int64_t id);
  int OnCall(const std::string& component, const std::string& at);

  // Amends, follow-ups and postmortems (commands_aftercare.cc).
  int ListAmends(const std::string& incident, v1::ListAmendsResponse& resp);
  int ListAffected(const std::string& incident);
  int Credits(const std::string& incident);
  int ApproveCredits(const std::string& incident);
  int FollowUps(const std::string& incident, bool problems_only);
  int Postmortem(const std::string& incident, const std::string& file);

  // The server itself (commands_admin.cc).
  int Health();
  int Backup(const std::string& file);

 private:
  int UsageError(const absl::Status& s) {
    err_ << "herald: " << s.message() << " (see --help)\n";
    return kExitUsage;
  }
  // "herald <command>: <message> (see --help)", exit code 2.
  int UsageError(absl::string_view command, absl::string_view message) {
    err_ << "herald " << command << ": " << message << " (see --help)\n";
    return kExitUsage;
  }
  // GetMessage; errors are printed.
  absl::StatusOr<v1::GetMessageResponse> FetchMessage(
      const std::string& message);

  const Globals& globals_;
  const Connector& connect_;
  std::ostream& out_;
  std::ostream& err_;
  Stubs stubs_;
};

}  // namespace herald::cli

#endif  // HERALD_CLI_COMMANDS_H_
