#include "tests/cli/cli_fixture.h"

namespace herald::cli {
namespace cli_testing {

// An incident with 20,000 alerts (and as many timeline events) stays usable:
// every reply is one page of well under 1 MiB, and the CLI pages through.
class ManyAlertsTest : public CliTest {
 protected:
  static constexpr int kAlerts = 20000;
  static constexpr size_t kReplyBudget = 1024 * 1024;
  void SetUp() override {
    ref_ =
        IncidentRef(herald::testing::IncidentWithManyAlerts(h_.core, kAlerts));
  }
  std::unique_ptr<v1::IncidentService::Stub> Stub() {
    return v1::IncidentService::NewStub(h_.channel);
  }
  grpc::ClientContext* Context(grpc::ClientContext& c) {
    c.AddMetadata("authorization", "Bearer " + TokenFor("alice"));
    return &c;
  }
  std::string ref_;
};

TEST_F(ManyAlertsTest, GetIncidentAnswersTheFirstPageWithCountsAndAToken) {
  v1::GetIncidentRequest req;
  req.set_incident(ref_);
  v1::GetIncidentResponse resp;
  grpc::ClientContext c;
  grpc::Status s = Stub()->GetIncident(Context(c), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_LT(resp.ByteSizeLong(), kReplyBudget);
  EXPECT_EQ(resp.alert_count(), kAlerts);
  EXPECT_GT(resp.timeline_count(), kAlerts - 5000);
  EXPECT_EQ(resp.alerts_size(), 100);
  EXPECT_EQ(resp.timeline_size(), 100);
  EXPECT_FALSE(resp.next_page_token().empty());
  // The token brings the next page; a made-up one is refused by name.
  req.set_page_token(resp.next_page_token());
  v1::GetIncidentResponse next;
  grpc::ClientContext c2;
  ASSERT_TRUE(Stub()->GetIncident(Context(c2), req, &next).ok());
  EXPECT_EQ(next.alerts(0).fingerprint(), "fp00100");
  EXPECT_GT(next.timeline(0).id(), resp.timeline(99).id());
  req.set_page_token("not-a-token");
  grpc::ClientContext c3;
  s = Stub()->GetIncident(Context(c3), req, &next);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("page_token"));
  req.clear_page_token();
  req.set_page_size(1001);
  grpc::ClientContext c4;
  s = Stub()->GetIncident(Context(c4), req, &next);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("page_size"));
}

TEST_F(ManyAlertsTest, ListAlertsPagesThroughEveryAlertOnce) {
  v1::ListAlertsRequest req;
  req.set_incident(ref_);
  req.set_page_size(1000);
  std::set<std::string> seen;
  int pages = 0;
  do {
    v1::ListAlertsResponse resp;
    grpc::ClientContext c;
    grpc::Status s = Stub()->ListAlerts(Context(c), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_LT(resp.ByteSizeLong(), kReplyBudget);
    EXPECT_EQ(resp.total_count(), kAlerts);
    for (const v1::Alert& a : resp.alerts()) seen.insert(a.fingerprint());
    req.set_page_token(resp.next_page_token());
    ASSERT_LT(++pages, 100);
  } while (!req.page_token().empty());
  EXPECT_EQ(seen.size(), static_cast<size_t>(kAlerts));
}

TEST_F(ManyAlertsTest, HeraldAlertsPrintsEveryAlertOrTheFirstLimit) {
  Outcome all = Run({"alerts", ref_});
  ASSERT_EQ(all.code, kExitOk) << all.err;
  EXPECT_EQ(std::count(all.out.begin(), all.out.end(), '\n'), kAlerts + 1);
  EXPECT_THAT(all.out, HasSubstr("fp19999"));
  Outcome some = Run({"alerts", ref_, "--limit", "10", "-o", "json"});
  ASSERT_EQ(some.code, kExitOk) << some.err;
  v1::ListAlertsResponse json;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(some.out, &json).ok());
  EXPECT_EQ(json.alerts_size(), 10);
  EXPECT_EQ(json.total_count(), kAlerts);
  EXPECT_FALSE(json.next_page_token().empty());
  EXPECT_THAT(Run({"alerts", ref_, "--limit", "10"}).out,
              HasSubstr("Showing 10 of 20000 alerts"));
}

TEST_F(ManyAlertsTest, HeraldShowPrintsTheFirstPageAndHowManyMore) {
  Outcome o = Run({"show", ref_});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("... and 19900 more: herald alerts " + ref_));
  EXPECT_THAT(o.out, HasSubstr("more events"));
}

// Every list the API answers comes a page at a time, however long it grows
// (the same class as the alerts above): incidents, messages, the audit log,
// a message's deliveries, failed deliveries, subscribers, affected customers
// and amends. Each RPC's first page holds the default 500 and a token, a
// made-up token is refused by name, and each CLI command gathers every page.
class LongListsTest : public CliTest {
 protected:
  static constexpr int kMany = 1100;  // over the CLI's page of 1000
  static constexpr size_t kReplyBudget = 1024 * 1024;

  void SetUp() override {
    using herald::testing::CommsLead;
    std::vector<v1::Subscriber> customers;
    for (int i = 0; i < kMany; ++i) {
      v1::Subscriber& c = customers.emplace_back();
      c.set_id(absl::StrFormat("cust%05d", i));
      c.set_name(absl::StrCat("Customer ", i));
      c.set_email(absl::StrFormat("cust%05d@example.org", i));
      c.add_component_ids("checkout");
    }
    ASSERT_TRUE(h_.core.subscribers.Import(CommsLead(), customers, {}).ok());
    incident_id_ =
        h_.core.intake.Ingest(FiringGroup("g1", "checkout", {"fp1"}))
            ->incident_id;
    incident_ = absl::StrCat("INC-", incident_id_);
    const v1::Message draft =
        h_.core.queries.ListMessages(incident_id_, {})->items.at(0);
    auto published =
        h_.core.workflow.Approve(CommsLead(), draft.id(), 0, kAsWritten);
    ASSERT_TRUE(published.ok()) << published.status();
    message_ = draft.ref();
    message_id_ = draft.id();
    ASSERT_TRUE(h_.core.workflow
                    .Resolve(herald::testing::Engineer(), incident_id_, "fixed")
                    .ok());
    // Many incidents with a draft each, audit entries, and failed
    // deliveries, written straight to the store: quicker than the flows.
    ASSERT_TRUE(h_.core.store
                    ->Write([&](StoreTxn& txn) -> absl::Status {
                      for (int i = 0; i < kMany; ++i) {
                        v1::Incident incident;
                        incident.set_title(absl::StrCat("Outage ", i));
                        incident.set_group_key(absl::StrCat("bulk-", i));
                        auto id = txn.InsertIncident(incident);
                        if (!id.ok()) return id.status();
                        v1::Message m;
                        m.set_incident_id(*id);
                        m.set_state(v1::MESSAGE_STATE_DRAFT);
                        m.set_title(absl::StrCat("Draft ", i));
                        if (auto st = txn.InsertMessage(m); !st.ok()) {
                          return st.status();
                        }
                        v1::AuditEntry e;
                        e.set_incident_id(*id);
                        e.set_actor_id("carol");
                        e.set_action("edited");
                        if (auto st = txn.AppendAudit(e); !st.ok()) {
                          return st.status();
                        }
                      }
                      auto sent = txn.ListDeliveries(message_id_, 0);
                      if (!sent.ok()) return sent.status();
                      for (v1::Delivery d : *sent) {
                        d.set_state(v1::DELIVERY_STATE_FAILED);
                        if (auto st = txn.UpdateDelivery(d); !st.ok()) {
                          return st;
                        }
                      }
                      return absl::OkStatus();
                    })
                    .ok());
  }

  template <typename Service>
  std::unique_ptr<typename Service::Stub> Stub() {
    return Service::NewStub(h_.channel);
  }
  // Calls `rpc(ctx, request, reply)` as dave (admin, who may list all).
  template <typename Request, typename Response, typename Rpc>
  grpc::Status Call(const Request& req, Response& resp, Rpc rpc) {
    grpc::ClientContext c;
    c.AddMetadata("authorization", "Bearer " + TokenFor("dave"));
    return rpc(c, req, resp);
  }

  // The first page holds the default 500 and a token that brings different
  // ones; a made-up token and a page of 1001 are refused by name.
  template <typename Request, typename Response, typename Rpc, typename Items,
            typename Key>
  void ExpectPaged(Request req, Rpc rpc, Items items, Key key) {
    SCOPED_TRACE(Request::descriptor()->name());
    Response first, second;
    grpc::Status s = Call(req, first, rpc);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(items(first).size(), 500);
    EXPECT_LT(first.ByteSizeLong(), kReplyBudget);
    ASSERT_FALSE(first.next_page_token().empty());
    req.set_page_token(first.next_page_token());
    ASSERT_TRUE(Call(req, second, rpc).ok());
    ASSERT_FALSE(items(second).empty());
    EXPECT_NE(key(items(second)[0]), key(items(first)[499]));
    for (const auto& item : items(second)) {
      for (const auto& earlier : items(first)) {
        ASSERT_NE(key(item), key(earlier)) << "listed twice";
      }
    }
    req.set_page_token("bm90LWEtdG9rZW4");
    s = Call(req, second, rpc);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("page_token"));
    req.clear_page_token();
    req.set_page_size(1001);
    s = Call(req, second, rpc);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("page_size"));
  }

  // How many `items` a CLI command printed as JSON, each listed once.
  template <typename Response, typename Items, typename Key>
  size_t CliListed(std::vector<std::string> args, Items items, Key key) {
    args.insert(args.end(), {"-o", "json"});
    Outcome o = Run(args, "dave");
    EXPECT_EQ(o.code, kExitOk) << o.err;
    Response resp;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(o.out, &resp).ok());
    EXPECT_TRUE(resp.next_page_token().empty()) << args[0];
    std::set<std::string> keys;
    for (const auto& item : items(resp)) keys.insert(key(item));
    EXPECT_EQ(keys.size(), static_cast<size_t>(items(resp).size()))
        << args[0] << ": listed twice";
    return keys.size();
  }

  int64_t incident_id_ = 0, message_id_ = 0;
  std::string incident_, message_;
};

std::string IdOf(const auto& item) { return absl::StrCat(item.id()); }

TEST_F(LongListsTest, EveryListRpcAnswersAPageAtATime) {
  using v1::AftercareService, v1::IncidentService, v1::MessageService,
      v1::SubscriberService;
  auto incidents = Stub<IncidentService>();
  auto messages = Stub<MessageService>();
  auto subscribers = Stub<SubscriberService>();
  auto aftercare = Stub<AftercareService>();

  v1::ListIncidentsRequest list_incidents;
  list_incidents.set_include_resolved(true);
  ExpectPaged<v1::ListIncidentsRequest, v1::ListIncidentsResponse>(
      list_incidents,
      [&](auto& c, auto& q, auto& r) {
        return incidents->ListIncidents(&c, q, &r);
      },
      [](auto& r) { return r.incidents(); }, IdOf<v1::Incident>);
  ExpectPaged<v1::ListMessagesRequest, v1::ListMessagesResponse>(
      {},
      [&](auto& c, auto& q, auto& r) {
        return messages->ListMessages(&c, q, &r);
      },
      [](auto& r) { return r.messages(); }, IdOf<v1::Message>);
  ExpectPaged<v1::ListAuditRequest, v1::ListAuditResponse>(
      {},
      [&](auto& c, auto& q, auto& r) { return messages->ListAudit(&c, q, &r); },
      [](auto& r) { return r.entries(); }, IdOf<v1::AuditEntry>);
  v1::ListDeliveriesRequest of_message;
  of_message.set_message(message_);
  auto list_deliveries = [&](auto& c, auto& q, auto& r) {
    return messages->ListDeliveries(&c, q, &r);
  };
  auto deliveries = [](auto& r) { return r.deliveries(); };
  ExpectPaged<v1::ListDeliveriesRequest, v1::ListDeliveriesResponse>(
      of_message, list_deliveries, deliveries, IdOf<v1::Delivery>);
  v1::ListDeliveriesRequest failed;
  failed.set_failed(true);
  failed.set_page_size(500);  // the failed list's default page is 100
  ExpectPaged<v1::ListDeliveriesRequest, v1::ListDeliveriesResponse>(
      failed, list_deliveries, deliveries, IdOf<v1::Delivery>);
  ExpectPaged<v1::ListSubscribersRequest, v1::ListSubscribersResponse>(
      {},
      [&](auto& c, auto& q, auto& r) {
        return subscribers->ListSubscribers(&c, q, &r);
      },
      [](auto& r) { return r.subscribers(); },
      [](const v1::Subscriber& s) { return s.id(); });
  v1::ListAffectedCustomersRequest affected;
  affected.set_incident(incident_);
  ExpectPaged<v1::ListAffectedCustomersRequest,
              v1::ListAffectedCustomersResponse>(
      affected,
      [&](auto& c, auto& q, auto& r) {
        return subscribers->ListAffectedCustomers(&c, q, &r);
      },
      [](auto& r) { return r.customers(); },
      [](const v1::AffectedCustomer& a) { return a.subscriber().id(); });
  v1::ListAmendsRequest amends;
  amends.set_incident(incident_);
  ExpectPaged<v1::ListAmendsRequest, v1::ListAmendsResponse>(
      amends,
      [&](auto& c, auto& q, auto& r) {
        return aftercare->ListAmends(&c, q, &r);
      },
      [](auto& r) { return r.amends(); },
      [](const v1::Amends& a) { return a.subscriber_id(); });
}

TEST_F(LongListsTest, EveryListCommandGathersEveryPage) {
  EXPECT_GT((CliListed<v1::ListIncidentsResponse>(
                {"incidents", "--all"}, [](auto& r) { return r.incidents(); },
                IdOf<v1::Incident>)),
            size_t{kMany});
  EXPECT_GE((CliListed<v1::ListMessagesResponse>(
                {"messages"}, [](auto& r) { return r.messages(); },
                IdOf<v1::Message>)),
            size_t{kMany});
  EXPECT_GE((CliListed<v1::ListAuditResponse>(
                {"audit"}, [](auto& r) { return r.entries(); },
                IdOf<v1::AuditEntry>)),
            size_t{kMany});
  auto deliveries = [](auto& r) { return r.deliveries(); };
  const size_t sent = CliListed<v1::ListDeliveriesResponse>(
      {"deliveries", message_}, deliveries, IdOf<v1::Delivery>);
  EXPECT_GE(sent, size_t{kMany});
  EXPECT_EQ((CliListed<v1::ListDeliveriesResponse>(
                {"deliveries", "--failed", "--limit", "0"}, deliveries,
                IdOf<v1::Delivery>)),
            sent);
  EXPECT_GE(
      (CliListed<v1::ListSubscribersResponse>(
          {"subscribers", "list"}, [](auto& r) { return r.subscribers(); },
          [](const v1::Subscriber& s) { return s.id(); })),
      size_t{kMany});
  EXPECT_GE(
      (CliListed<v1::ListAffectedCustomersResponse>(
          {"affected", incident_}, [](auto& r) { return r.customers(); },
          [](const v1::AffectedCustomer& a) { return a.subscriber().id(); })),
      size_t{kMany});
  EXPECT_GE((CliListed<v1::ListAmendsResponse>(
                {"credits", incident_}, [](auto& r) { return r.amends(); },
                [](const v1::Amends& a) { return a.subscriber_id(); })),
            size_t{kMany});
}

TEST_F(LongListsTest, FailedDeliveriesShowTheNewestHundredUnlessAskedForMore) {
  Outcome o = Run({"deliveries", "--failed"}, "dave");
  ASSERT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("100 deliveries: 100 failed"));
  EXPECT_THAT(o.out, HasSubstr("More follow; --limit 0 shows them all."));
  Outcome some =
      Run({"deliveries", "--failed", "--limit", "7", "-o", "json"}, "dave");
  v1::ListDeliveriesResponse json;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(some.out, &json).ok());
  EXPECT_EQ(json.deliveries_size(), 7);
  EXPECT_FALSE(json.next_page_token().empty()) << "more follow";
}

TEST_F(LongListsTest, RetryQueuesFailedDeliveriesAgainAndAuditsIt) {
  Outcome denied = Run({"deliveries", "retry", message_}, "alice");
  EXPECT_EQ(denied.code, kExitError);
  EXPECT_THAT(denied.err, HasSubstr("permission denied: to retry deliveries"));
  EXPECT_EQ(
      Run({"deliveries", "retry", message_, "--since", "2h"}, "dave").code,
      kExitUsage);
  EXPECT_EQ(
      Run({"deliveries", "retry", "--failed", "--channel", "pigeon"}, "dave")
          .code,
      kExitUsage);

  Outcome none =
      Run({"deliveries", "retry", "--failed", "--channel", "sms", "-o", "json"},
          "dave");
  ASSERT_EQ(none.code, kExitOk) << none.err;
  // Nothing failed on SMS; scripts always find the field.
  EXPECT_THAT(none.out, HasSubstr("\"requeued\": 0"));

  Outcome retried = Run({"deliveries", "retry", message_}, "carol");
  ASSERT_EQ(retried.code, kExitOk) << retried.err;
  EXPECT_THAT(retried.out, HasSubstr("failed deliveries queued again"));
  Outcome failed = Run({"deliveries", "--failed"}, "dave");
  EXPECT_THAT(failed.out, HasSubstr("No failed deliveries."));
  const auto requeued = h_.core.Read<std::vector<v1::Delivery>>(
      [&](StoreReader& r) { return r.ListDeliveries(message_id_, 0); });
  ASSERT_FALSE(requeued.empty());
  for (const v1::Delivery& d : requeued) {
    EXPECT_EQ(d.state(), v1::DELIVERY_STATE_QUEUED);
    EXPECT_EQ(d.contact_index(), 0);
  }
  EXPECT_THAT(Run({"audit", incident_}).out, HasSubstr("retried"));
  // Nothing is left to retry.
  EXPECT_THAT(Run({"deliveries", "retry", message_}, "carol").out,
              HasSubstr("0 failed deliveries queued again."));
}

}  // namespace cli_testing
}  // namespace herald::cli
