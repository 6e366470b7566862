#include "tests/store/store_contract.h"

namespace herald {
namespace store_testing {

TYPED_TEST(StoreContractTest,
           AmendsAreOnePerCustomerAndIncidentWithUniqueVoucherCodes) {
  const int64_t first = this->template WriteValue<int64_t>(
      [](StoreTxn& t) { return t.InsertAmends(AmendsFor(3, "b", "CODE-1")); });
  ASSERT_TRUE(this->Write([](StoreTxn& t) {
                    return t.InsertAmends(AmendsFor(3, "a")).status();
                  })
                  .ok());
  ASSERT_TRUE(this->Write([](StoreTxn& t) {
                    return t.InsertAmends(AmendsFor(4, "a")).status();
                  })
                  .ok());
  EXPECT_TRUE(absl::IsAlreadyExists(this->Write(
      [](StoreTxn& t) { return t.InsertAmends(AmendsFor(3, "a")).status(); })));
  EXPECT_TRUE(absl::IsAlreadyExists(this->Write([](StoreTxn& t) {
    return t.InsertAmends(AmendsFor(5, "c", "CODE-1")).status();
  })));

  auto of3 = this->template ReadValue<std::vector<v1::Amends>>(
      [](StoreReader& r) { return r.ListAmends(3); });
  ASSERT_THAT(of3, SizeIs(2));
  EXPECT_EQ(of3[0].subscriber_id(), "a");  // by subscriber id
  EXPECT_EQ(of3[1].id(), first);
  EXPECT_EQ(this->template ReadValue<v1::Amends>(
                    [](StoreReader& r) { return r.FindAmends(3, "b"); })
                .credit()
                .voucher_code(),
            "CODE-1");
  EXPECT_TRUE(absl::IsNotFound(this->ReadStatus(
      [](StoreReader& r) { return r.FindAmends(4, "b").status(); })));

  v1::Amends answered = of3[1];
  answered.set_service_answer(v1::FOLLOW_UP_ANSWER_STILL_BROKEN);
  ASSERT_TRUE(
      this->Write([&](StoreTxn& t) { return t.UpdateAmends(answered); }).ok());
  EXPECT_EQ(this->template ReadValue<v1::Amends>(
                    [&](StoreReader& r) { return r.GetAmends(first); })
                .service_answer(),
            v1::FOLLOW_UP_ANSWER_STILL_BROKEN);
  EXPECT_TRUE(absl::IsNotFound(this->ReadStatus(
      [](StoreReader& r) { return r.GetAmends(999).status(); })));
}

TYPED_TEST(StoreContractTest, AFanOutToAmendsReachesTheirActiveCustomersOnly) {
  ASSERT_TRUE(
      this->Write([](StoreTxn& t) -> absl::Status {
            for (const v1::Subscriber& s :
                 {Sub("a", {"api"}), Sub("b", {"checkout"}),
                  Sub("c", {"checkout"}, v1::SUBSCRIBER_STATUS_UNSUBSCRIBED),
                  Sub("d", {"checkout"})}) {
              if (auto st = t.PutSubscriber(s); !st.ok()) return st;
            }
            for (const char* id : {"a", "b", "c"}) {
              if (auto st = t.InsertAmends(AmendsFor(3, id)).status();
                  !st.ok()) {
                return st;
              }
            }
            return t.InsertAmends(AmendsFor(4, "d")).status();
          })
          .ok());
  const FanOut fan{.message_id = 9,
                   .incident_id = 3,
                   .component_ids = {"checkout"},
                   .now = absl::FromUnixSeconds(1000),
                   .to_amends = true};
  EXPECT_EQ(this->template WriteValue<int64_t>(
                [&](StoreTxn& t) { return t.EnqueueFanOut(fan); }),
            2);
  auto list = this->template ReadValue<std::vector<v1::Delivery>>(
      [](StoreReader& r) { return r.ListDeliveries(9, 0); });
  ASSERT_THAT(list, SizeIs(2));
  EXPECT_EQ(list[0].recipient(), "subscriber:a");
  EXPECT_EQ(list[0].idempotency_key(), "msg-9-subscriber-a");
  EXPECT_EQ(list[1].recipient(), "subscriber:b");
}

TYPED_TEST(StoreContractTest, AFanOutToThoseToldReachesWhomEarlierOnesReached) {
  // Incident 3's announcement (message 8) reached a, is being sent to b
  // and still queued for g (both will be told), failed for c and was
  // cancelled for h (never told); d was reached but has left; e follows
  // the component and was never told; f was told of incident 4 only.
  ASSERT_TRUE(
      this->Write([](StoreTxn& t) -> absl::Status {
            for (const v1::Subscriber& s :
                 {Sub("a", {"api"}), Sub("b", {"checkout"}),
                  Sub("c", {"checkout"}),
                  Sub("d", {"checkout"}, v1::SUBSCRIBER_STATUS_UNSUBSCRIBED),
                  Sub("e", {"checkout"}), Sub("f", {"checkout"}),
                  Sub("g", {"checkout"}), Sub("h", {"checkout"})}) {
              if (auto st = t.PutSubscriber(s); !st.ok()) return st;
            }
            const auto told = [&](const char* who, int64_t incident,
                                  v1::DeliveryState state) {
              v1::Delivery d = TestFixture::Delivery(
                  absl::StrCat("msg-8-subscriber-", who, "-", incident),
                  absl::FromUnixSeconds(900));
              d.set_message_id(incident == 3 ? 8 : 5);
              d.set_incident_id(incident);
              d.set_recipient(absl::StrCat("subscriber:", who));
              d.set_state(state);
              return t.InsertDelivery(d).status();
            };
            for (auto st : {told("a", 3, v1::DELIVERY_STATE_DELIVERED),
                            told("b", 3, v1::DELIVERY_STATE_SENDING),
                            told("c", 3, v1::DELIVERY_STATE_FAILED),
                            told("d", 3, v1::DELIVERY_STATE_DELIVERED),
                            told("f", 4, v1::DELIVERY_STATE_DELIVERED),
                            told("g", 3, v1::DELIVERY_STATE_QUEUED),
                            told("h", 3, v1::DELIVERY_STATE_CANCELLED)}) {
              if (!st.ok()) return st;
            }
            return absl::OkStatus();
          })
          .ok());
  const FanOut fan{.message_id = 9,
                   .incident_id = 3,
                   .component_ids = {"checkout"},
                   .now = absl::FromUnixSeconds(1000),
                   .to_told = true};
  EXPECT_EQ(this->template WriteValue<int64_t>(
                [&](StoreTxn& t) { return t.EnqueueFanOut(fan); }),
            3);
  auto list = this->template ReadValue<std::vector<v1::Delivery>>(
      [](StoreReader& r) { return r.ListDeliveries(9, 0); });
  ASSERT_THAT(list, SizeIs(3));
  EXPECT_EQ(list[0].recipient(), "subscriber:a");
  EXPECT_EQ(list[0].idempotency_key(), "msg-9-subscriber-a");
  EXPECT_EQ(list[1].recipient(), "subscriber:b");
  EXPECT_EQ(list[2].recipient(), "subscriber:g");
  // Its own deliveries tell no one: a second fan-out adds none.
  EXPECT_EQ(this->template WriteValue<int64_t>(
                [&](StoreTxn& t) { return t.EnqueueFanOut(fan); }),
            0);
}

TYPED_TEST(StoreContractTest, SubscribersAreFoundByComponentEmailAndStatus) {
  ASSERT_TRUE(
      this->Write([&](StoreTxn& t) -> absl::Status {
            for (const v1::Subscriber& s :
                 {Sub("a", {"checkout"}), Sub("b", {"api"}),
                  Sub("c", {"api"}, v1::SUBSCRIBER_STATUS_UNSUBSCRIBED)}) {
              if (auto st = t.PutSubscriber(s); !st.ok()) return st;
            }
            // Moving b to checkout drops its api subscription.
            return t.PutSubscriber(Sub("b", {"checkout"}));
          })
          .ok());
  auto api =
      this->template ReadValue<std::vector<v1::Subscriber>>([](StoreReader& r) {
        return r.ListSubscribers({.component_id = "api"});
      });
  EXPECT_THAT(api, SizeIs(0));
  auto all =
      this->template ReadValue<std::vector<v1::Subscriber>>([](StoreReader& r) {
        return r.ListSubscribers({.include_unsubscribed = true});
      });
  EXPECT_THAT(all, SizeIs(3));
  auto first =
      this->template ReadValue<std::vector<v1::Subscriber>>([](StoreReader& r) {
        return r.ListSubscribers({.component_id = "checkout", .limit = 1});
      });
  ASSERT_THAT(first, SizeIs(1));
  EXPECT_EQ(first[0].id(), "a");
  EXPECT_EQ(this->template ReadValue<v1::Subscriber>([](StoreReader& r) {
                  return r.FindSubscriberByEmail("B@example.COM");
                })
                .id(),
            "b");
  EXPECT_EQ(this->ReadStatus([](StoreReader& r) {
                  return r.FindSubscriberByEmail("z@example.com").status();
                })
                .code(),
            absl::StatusCode::kNotFound);
}

// Protobuf cannot read back a string that is not UTF-8, so no store keeps
// one: every kind of record is refused with InvalidArgument naming the
// field, and the transaction leaves nothing behind.
TYPED_TEST(StoreContractTest,
           RecordsWithTextThatIsNotUtf8AreRefusedNamingTheField) {
  const std::string bad = "Gr\xff";
  struct Case {
    std::string field;
    std::function<absl::Status(StoreTxn&)> write;
  };
  const std::vector<Case> cases = {
      {"Subscriber.name",
       [&](StoreTxn& t) {
         v1::Subscriber s = Sub("s", {"checkout"});
         s.set_name(bad);
         return t.PutSubscriber(s);
       }},
      {"Subscriber.contacts[0].address",
       [&](StoreTxn& t) {
         v1::Subscriber s = Sub("s", {"checkout"});
         s.add_contacts()->set_address(bad);
         return t.PutSubscriber(s);
       }},
      {"Incident.title",
       [&](StoreTxn& t) {
         v1::Incident i = TestFixture::Incident("g");
         i.set_title(bad);
         return t.InsertIncident(i).status();
       }},
      {"Alert.labels[0].value",
       [&](StoreTxn& t) {
         v1::Alert a;
         a.set_fingerprint("f");
         (*a.mutable_labels())["alertname"] = bad;
         return t.PutAlert(a);
       }},
      {"Update.text",
       [&](StoreTxn& t) {
         v1::Update u;
         u.set_text(bad);
         return t.InsertUpdate(u).status();
       }},
      {"Message.body",
       [&](StoreTxn& t) {
         v1::Message m;
         m.set_body(bad);
         return t.InsertMessage(m).status();
       }},
      {"TimelineEvent.text",
       [&](StoreTxn& t) {
         v1::TimelineEvent e;
         e.set_text(bad);
         return t.AppendTimeline(e);
       }},
      {"Delivery.subject",
       [&](StoreTxn& t) {
         v1::Delivery d;
         d.set_idempotency_key("k");
         d.set_subject(bad);
         return t.InsertDelivery(d).status();
       }},
      {"AuditEntry.detail",
       [&](StoreTxn& t) {
         v1::AuditEntry e;
         e.set_detail(bad);
         return t.AppendAudit(e).status();
       }},
  };
  for (const Case& c : cases) {
    const absl::Status s = this->Write(c.write);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field << s;
    EXPECT_THAT(std::string(s.message()), ::testing::StartsWith(c.field + ":"))
        << s;
  }
  EXPECT_THAT(this->template ReadValue<std::vector<v1::Subscriber>>(
                  [](StoreReader& r) { return r.ListSubscribers({}); }),
              SizeIs(0));
  EXPECT_THAT(
      this->template ReadValue<std::vector<v1::Incident>>([](StoreReader& r) {
        return r.ListIncidents({.include_resolved = true});
      }),
      SizeIs(0));
}

// Rows written by an older herald (or by hand) that protobuf cannot read
// are left out of lists, reported, and never stop the others; a due
// delivery comes back with `unreadable` so the outbox can set it aside.

TYPED_TEST(StoreContractTest,
           PendingSubscribersAreListedAndADeletedOneIsGoneEverywhere) {
  ASSERT_TRUE(
      this->Write([&](StoreTxn& t) -> absl::Status {
            for (const v1::Subscriber& s :
                 {Sub("p2", {"api"}, v1::SUBSCRIBER_STATUS_PENDING),
                  Sub("a", {"api"}),
                  Sub("p1", {"api"}, v1::SUBSCRIBER_STATUS_PENDING),
                  Sub("u", {"api"}, v1::SUBSCRIBER_STATUS_UNSUBSCRIBED)}) {
              if (auto st = t.PutSubscriber(s); !st.ok()) return st;
            }
            return absl::OkStatus();
          })
          .ok());
  auto pending = this->template ReadValue<std::vector<v1::Subscriber>>(
      [](StoreReader& r) { return r.ListPendingSubscribers(); });
  ASSERT_THAT(pending, SizeIs(2));
  EXPECT_EQ(pending[0].id(), "p1");
  EXPECT_EQ(pending[1].id(), "p2");

  ASSERT_TRUE(
      this->Write([](StoreTxn& t) { return t.DeleteSubscriber("p1"); }).ok());
  EXPECT_EQ(
      this->Write([](StoreTxn& t) { return t.DeleteSubscriber("p1"); }).code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(this->ReadStatus([](StoreReader& r) {
                  return r.GetSubscriber("p1").status();
                })
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(this->ReadStatus([](StoreReader& r) {
                  return r.FindSubscriberByEmail("p1@example.com").status();
                })
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT((this->template ReadValue<std::vector<v1::Subscriber>>(
                  [](StoreReader& r) { return r.ListPendingSubscribers(); })),
              SizeIs(1));
  // Its subscriptions went with it: re-adding the id starts from nothing.
  ASSERT_TRUE(
      this->Write([](StoreTxn& t) { return t.PutSubscriber(Sub("p1", {})); })
          .ok());
  auto api =
      this->template ReadValue<std::vector<v1::Subscriber>>([](StoreReader& r) {
        return r.ListSubscribers({.component_id = "api"});
      });
  ASSERT_THAT(api, SizeIs(2));  // a and p2, not p1
  EXPECT_EQ(api[0].id(), "a");
  EXPECT_EQ(api[1].id(), "p2");
}

}  // namespace store_testing
}  // namespace herald
