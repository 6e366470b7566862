#include "tests/store/store_contract.h"

namespace herald {
namespace store_testing {

TYPED_TEST(StoreContractTest, InsertedIncidentReadsBackWithItsId) {
  const int64_t id = this->template WriteValue<int64_t>([](StoreTxn& t) {
    return t.InsertIncident(TestFixture::Incident("g1"));
  });
  const v1::Incident got = this->template ReadValue<v1::Incident>(
      [&](StoreReader& r) { return r.GetIncident(id); });
  EXPECT_EQ(got.id(), id);
  EXPECT_EQ(got.group_key(), "g1");
}

TYPED_TEST(StoreContractTest, IdsAreUniqueAcrossSeparateWrites) {
  std::set<int64_t> incident_ids, message_ids;
  for (int i = 0; i < 3; ++i) {
    incident_ids.insert(this->template WriteValue<int64_t>([&](StoreTxn& t) {
      return t.InsertIncident(TestFixture::Incident(absl::StrCat("g", i)));
    }));
    message_ids.insert(this->template WriteValue<int64_t>(
        [](StoreTxn& t) { return t.InsertMessage(v1::Message()); }));
  }
  EXPECT_THAT(incident_ids, SizeIs(3));
  EXPECT_THAT(message_ids, SizeIs(3));
  EXPECT_THAT((this->template ReadValue<std::vector<v1::Incident>>(
                  [](StoreReader& r) { return r.ListIncidents({true}); })),
              SizeIs(3));
}

TYPED_TEST(StoreContractTest, ASettingHoldsAnyBytes) {
  // A key is raw bytes: NULs and bytes that are not UTF-8 come back as put.
  const std::string key("\x00\xff\xfe key \x80\x00", 11);
  ASSERT_TRUE(
      this->Write([&](StoreTxn& t) { return t.PutSetting("link_key", key); })
          .ok());
  EXPECT_EQ(this->template ReadValue<std::string>(
                [](StoreReader& r) { return r.GetSetting("link_key"); }),
            key);
}

TYPED_TEST(StoreContractTest, AnExpiringRecordReadsAsAbsentOnceItExpires) {
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  ASSERT_TRUE(this->Write([&](StoreTxn& t) -> absl::Status {
                    if (auto s = t.PutExpiring("session", "a", "alice",
                                               t0 + absl::Minutes(5));
                        !s.ok()) {
                      return s;
                    }
                    // Same name, another kind: a record of its own.
                    return t.PutExpiring("limit", "a", "3",
                                         t0 + absl::Minutes(1));
                  })
                  .ok());
  auto get = [&](const std::string& kind, absl::Time at) {
    absl::StatusOr<std::string> out;
    EXPECT_TRUE(this->ReadStatus([&](StoreReader& r) {
                      out = r.GetExpiring(kind, "a", at);
                      return absl::OkStatus();
                    })
                    .ok());
    return out;
  };
  EXPECT_EQ(get("session", t0).value_or(""), "alice");
  EXPECT_EQ(get("limit", t0).value_or(""), "3");
  EXPECT_TRUE(absl::IsNotFound(get("limit", t0 + absl::Minutes(1)).status()));
  // Replaced: the new value and expiry hold.
  ASSERT_TRUE(this->Write([&](StoreTxn& t) {
                    return t.PutExpiring("session", "a", "alice2",
                                         t0 + absl::Minutes(10));
                  })
                  .ok());
  EXPECT_EQ(get("session", t0 + absl::Minutes(6)).value_or(""), "alice2");
  // Purging takes the expired ones only, at most `limit` at a time.
  EXPECT_EQ(this->template WriteValue<int64_t>([&](StoreTxn& t) {
    return t.PurgeExpired(t0 + absl::Minutes(2), 10);
  }),
            1);
  EXPECT_EQ(get("session", t0).value_or(""), "alice2");
  ASSERT_TRUE(
      this->Write([&](StoreTxn& t) { return t.DeleteExpiring("session", "a"); })
          .ok());
  EXPECT_TRUE(absl::IsNotFound(get("session", t0).status()));
  EXPECT_TRUE(this->Write([&](StoreTxn& t) {
                    return t.DeleteExpiring("session", "never");
                  })
                  .ok());
}

TYPED_TEST(StoreContractTest, UnknownIdsAreNotFound) {
  EXPECT_EQ(this->ReadStatus(
                    [](StoreReader& r) { return r.GetIncident(42).status(); })
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(
      this->ReadStatus([](StoreReader& r) { return r.GetMessage(42).status(); })
          .code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(this->ReadStatus(
                    [](StoreReader& r) { return r.GetAlert("nope").status(); })
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(this->ReadStatus(
                    [](StoreReader& r) { return r.GetDelivery(42).status(); })
                .code(),
            absl::StatusCode::kNotFound);
  v1::Incident ghost = TestFixture::Incident("g");
  ghost.set_id(42);
  EXPECT_EQ(
      this->Write([&](StoreTxn& t) { return t.UpdateIncident(ghost); }).code(),
      absl::StatusCode::kNotFound);
}

TYPED_TEST(StoreContractTest, OnlyOneOpenIncidentPerGroupKey) {
  this->template WriteValue<int64_t>([](StoreTxn& t) {
    return t.InsertIncident(TestFixture::Incident("g1"));
  });
  absl::Status dup = this->Write([](StoreTxn& t) {
    return t.InsertIncident(TestFixture::Incident("g1")).status();
  });
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
}

TYPED_TEST(StoreContractTest, ResolvedIncidentIsNoLongerOpenForItsGroup) {
  const int64_t id = this->template WriteValue<int64_t>([](StoreTxn& t) {
    return t.InsertIncident(TestFixture::Incident("g1"));
  });
  ASSERT_TRUE(this->Write([&](StoreTxn& t) -> absl::Status {
                    v1::Incident i = *t.GetIncident(id);
                    i.mutable_resolved_at()->set_seconds(100);
                    return t.UpdateIncident(i);
                  })
                  .ok());
  EXPECT_EQ(this->ReadStatus([](StoreReader& r) {
                  return r.FindOpenIncident("g1").status();
                })
                .code(),
            absl::StatusCode::kNotFound);
  const int64_t next = this->template WriteValue<int64_t>([](StoreTxn& t) {
    return t.InsertIncident(TestFixture::Incident("g1"));
  });
  EXPECT_NE(next, id);
  EXPECT_EQ(this->template ReadValue<v1::Incident>(
                    [](StoreReader& r) { return r.FindOpenIncident("g1"); })
                .id(),
            next);
}

TYPED_TEST(StoreContractTest,
           ListIncidentsIsNewestFirstAndHidesResolvedByDefault) {
  const int64_t a = this->template WriteValue<int64_t>(
      [](StoreTxn& t) { return t.InsertIncident(TestFixture::Incident("a")); });
  const int64_t b = this->template WriteValue<int64_t>(
      [](StoreTxn& t) { return t.InsertIncident(TestFixture::Incident("b")); });
  ASSERT_TRUE(this->Write([&](StoreTxn& t) -> absl::Status {
                    v1::Incident i = *t.GetIncident(a);
                    i.mutable_resolved_at()->set_seconds(1);
                    return t.UpdateIncident(i);
                  })
                  .ok());
  auto ids = [](const std::vector<v1::Incident>& v) {
    std::vector<int64_t> out;
    for (const auto& i : v) out.push_back(i.id());
    return out;
  };
  EXPECT_THAT(ids(this->template ReadValue<std::vector<v1::Incident>>(
                  [](StoreReader& r) { return r.ListIncidents({false}); })),
              ElementsAre(b));
  EXPECT_THAT(ids(this->template ReadValue<std::vector<v1::Incident>>(
                  [](StoreReader& r) { return r.ListIncidents({true}); })),
              ElementsAre(b, a));
}

TYPED_TEST(StoreContractTest, PutAlertUpsertsByFingerprint) {
  v1::Alert a;
  a.set_fingerprint("fp");
  a.set_incident_id(3);
  a.set_status(v1::ALERT_STATUS_FIRING);
  ASSERT_TRUE(this->Write([&](StoreTxn& t) { return t.PutAlert(a); }).ok());
  a.set_status(v1::ALERT_STATUS_RESOLVED);
  ASSERT_TRUE(this->Write([&](StoreTxn& t) { return t.PutAlert(a); }).ok());
  auto alerts = this->template ReadValue<std::vector<v1::Alert>>(
      [](StoreReader& r) { return r.ListAlerts(3); });
  ASSERT_THAT(alerts, SizeIs(1));
  EXPECT_EQ(alerts[0].status(), v1::ALERT_STATUS_RESOLVED);
}

TYPED_TEST(StoreContractTest,
           AlertsAreReadAPageAtATimeByFingerprintAndCounted) {
  ASSERT_TRUE(this->Write([](StoreTxn& t) -> absl::Status {
                    // Five alerts on incident 3, out of order, and others.
                    for (const char* fp : {"e", "b", "d", "a", "c"}) {
                      v1::Alert a;
                      a.set_fingerprint(fp);
                      a.set_incident_id(3);
                      if (auto s = t.PutAlert(a); !s.ok()) return s;
                    }
                    v1::Alert other;
                    other.set_fingerprint("bb");
                    other.set_incident_id(4);
                    return t.PutAlert(other);
                  })
                  .ok());
  auto page = [&](const std::string& after, int limit) {
    std::vector<std::string> fps;
    for (const v1::Alert& a :
         this->template ReadValue<std::vector<v1::Alert>>([&](StoreReader& r) {
           return r.ListAlertsPage(3, after, limit);
         })) {
      fps.push_back(a.fingerprint());
    }
    return fps;
  };
  EXPECT_THAT(page("", 2), ElementsAre("a", "b"));
  EXPECT_THAT(page("b", 2), ElementsAre("c", "d"));
  EXPECT_THAT(page("d", 2), ElementsAre("e"));
  EXPECT_THAT(page("e", 2), ElementsAre());
  EXPECT_EQ(this->template ReadValue<int64_t>(
                [](StoreReader& r) { return r.CountAlerts(3); }),
            5);
  EXPECT_EQ(this->template ReadValue<int64_t>(
                [](StoreReader& r) { return r.CountAlerts(99); }),
            0);
  // Putting an alert again counts it once; moving it counts it where it is.
  ASSERT_TRUE(this->Write([](StoreTxn& t) -> absl::Status {
                    v1::Alert a;
                    a.set_fingerprint("a");
                    a.set_incident_id(3);
                    if (auto s = t.PutAlert(a); !s.ok()) return s;
                    a.set_fingerprint("b");
                    a.set_incident_id(4);
                    return t.PutAlert(a);
                  })
                  .ok());
  EXPECT_EQ(this->template ReadValue<int64_t>(
                [](StoreReader& r) { return r.CountAlerts(3); }),
            4);
  EXPECT_EQ(this->template ReadValue<int64_t>(
                [](StoreReader& r) { return r.CountAlerts(4); }),
            2);
}

TYPED_TEST(StoreContractTest,
           UnroutedAlertsAreReadAPageAtATimeNewestIncidentFirst) {
  ASSERT_TRUE(
      this->Write([](StoreTxn& t) -> absl::Status {
            // (incident, fingerprint); incident 0: kept for dedup.
            for (const auto& [incident, fp] :
                 std::vector<std::pair<int64_t, std::string>>{
                     {1, "x"}, {2, "b"}, {2, "a"}, {0, "z"}, {1, "y"}}) {
              v1::Alert a;
              a.set_fingerprint(fp);
              a.set_incident_id(incident);
              a.set_unrouted(true);
              if (auto s = t.PutAlert(a); !s.ok()) return s;
            }
            v1::Alert routed;
            routed.set_fingerprint("routed");
            routed.set_incident_id(2);
            return t.PutAlert(routed);
          })
          .ok());
  std::vector<std::string> all;
  int64_t after_incident = 0;
  std::string after;
  for (int pages = 0; pages < 10; ++pages) {
    auto page =
        this->template ReadValue<std::vector<v1::Alert>>([&](StoreReader& r) {
          return r.ListUnroutedAlertsPage(after_incident, after, 2);
        });
    for (const v1::Alert& a : page) all.push_back(a.fingerprint());
    if (page.size() < 2) break;
    after_incident = page.back().incident_id();
    after = page.back().fingerprint();
  }
  EXPECT_THAT(all, ElementsAre("a", "b", "x", "y", "z"));
  EXPECT_EQ(this->template ReadValue<int64_t>(
                [](StoreReader& r) { return r.CountUnroutedAlerts(); }),
            5);
}

TYPED_TEST(StoreContractTest, TimelineIsReadAPageAtATimeOldestFirst) {
  ASSERT_TRUE(this->Write([](StoreTxn& t) -> absl::Status {
                    for (int i = 0; i < 5; ++i) {
                      for (int64_t incident : {7, 8}) {
                        v1::TimelineEvent e;
                        e.set_incident_id(incident);
                        e.set_text(absl::StrCat(incident, "-", i));
                        if (auto s = t.AppendTimeline(e); !s.ok()) return s;
                      }
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  std::vector<std::string> texts;
  int64_t after = 0;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = this->template ReadValue<std::vector<v1::TimelineEvent>>(
        [&](StoreReader& r) { return r.ListTimelinePage(7, after, 2); });
    for (const v1::TimelineEvent& e : page) {
      EXPECT_GT(e.id(), after);
      texts.push_back(e.text());
    }
    if (page.empty()) break;
    after = page.back().id();
  }
  EXPECT_THAT(texts, ElementsAre("7-0", "7-1", "7-2", "7-3", "7-4"));
  EXPECT_EQ(this->template ReadValue<int64_t>(
                [](StoreReader& r) { return r.CountTimeline(7); }),
            5);
}

TYPED_TEST(StoreContractTest, MessagesFilterByIncidentAndState) {
  auto insert = [&](int64_t incident, v1::MessageState state) {
    v1::Message m;
    m.set_incident_id(incident);
    m.set_state(state);
    return this->template WriteValue<int64_t>(
        [&](StoreTxn& t) { return t.InsertMessage(m); });
  };
  const int64_t draft = insert(1, v1::MESSAGE_STATE_DRAFT);
  insert(1, v1::MESSAGE_STATE_PUBLISHED);
  insert(2, v1::MESSAGE_STATE_DRAFT);
  auto list =
      this->template ReadValue<std::vector<v1::Message>>([](StoreReader& r) {
        return r.ListMessages(
            {1, {v1::MESSAGE_STATE_DRAFT, v1::MESSAGE_STATE_PENDING_APPROVAL}});
      });
  ASSERT_THAT(list, SizeIs(1));
  EXPECT_EQ(list[0].id(), draft);
  EXPECT_THAT(
      (this->template ReadValue<std::vector<v1::Message>>([](StoreReader& r) {
        return r.ListMessages({0, {}});
      })),
      SizeIs(3));
}

TYPED_TEST(StoreContractTest, FailedWriteLeavesNoTrace) {
  absl::Status s = this->Write([](StoreTxn& t) -> absl::Status {
    if (auto id = t.InsertIncident(TestFixture::Incident("g1")); !id.ok())
      return id.status();
    return absl::InternalError("boom");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT((this->template ReadValue<std::vector<v1::Incident>>(
                  [](StoreReader& r) { return r.ListIncidents({true}); })),
              SizeIs(0));
}

TYPED_TEST(StoreContractTest,
           AsyncWritesReportEachOutcomeAndAFailureUndoesOnlyItsOwnWrite) {
  absl::Mutex mu;
  std::vector<absl::Status> outcomes(3);
  int reported = 0;
  auto insert = [](std::string key, bool fail) {
    return [key, fail](StoreTxn& t) -> absl::Status {
      if (auto id = t.InsertIncident(TestFixture::Incident(key)); !id.ok())
        return id.status();
      return fail ? absl::InternalError("boom") : absl::OkStatus();
    };
  };
  auto record = [&](int i) {
    return [&, i](absl::Status s) {
      absl::MutexLock lock(&mu);
      outcomes[i] = std::move(s);
      ++reported;
    };
  };
  this->store_->WriteAsync(insert("a", false), record(0));
  this->store_->WriteAsync(insert("b", true), record(1));
  this->store_->WriteAsync(insert("c", false), record(2));
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* n) { return *n == 3; }, &reported));
  }
  EXPECT_TRUE(outcomes[0].ok()) << outcomes[0];
  EXPECT_EQ(outcomes[1].code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(outcomes[2].ok()) << outcomes[2];
  auto open = this->template ReadValue<std::vector<v1::Incident>>(
      [](StoreReader& r) { return r.ListIncidents({true}); });
  std::set<std::string> keys;
  for (const v1::Incident& i : open) keys.insert(i.group_key());
  EXPECT_EQ(keys, (std::set<std::string>{"a", "c"}));
}

}  // namespace store_testing
}  // namespace herald
