#include "server/core/aftercare/affected_customers.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using testing::CoreHarness;
using ::testing::ElementsAre;
using testing::FiringGroup;
using ::testing::IsEmpty;

class AffectedCustomersTest : public ::testing::Test {
 protected:
  // Opens an incident on `service` whose one alert carries `labels`.
  int64_t Open(const std::string& service,
               std::map<std::string, std::string> labels = {}) {
    v1::AlertGroup g = FiringGroup("g-" + service, service, {"fp-" + service});
    for (const auto& [k, v] : labels) {
      (*g.mutable_alerts(0)->mutable_labels())[k] = v;
    }
    return h_.intake.Ingest(g)->incident_id;
  }
  std::vector<std::string> Ids(const std::vector<v1::AffectedCustomer>& list) {
    std::vector<std::string> out;
    for (const auto& c : list) out.push_back(c.subscriber().id());
    return out;
  }
  v1::AffectedCustomer Of(const std::vector<v1::AffectedCustomer>& list,
                          const std::string& id) {
    for (const auto& c : list) {
      if (c.subscriber().id() == id) return c;
    }
    return {};
  }

  CoreHarness h_;
};

TEST_F(AffectedCustomersTest,
       SubscribersAndCustomersNamedByAlertLabelsAreListedOnceWithWhy) {
  // Demo: globex and initech subscribe to checkout; umbrella does not.
  const int64_t id =
      Open("checkout", {{"customer", "Umbrella"}, {"tenant", "Globex"}});
  absl::StatusOr<std::vector<v1::AffectedCustomer>> affected =
      h_.affected.ForIncident(id);
  ASSERT_TRUE(affected.ok()) << affected.status();
  EXPECT_THAT(Ids(*affected), ElementsAre("globex", "initech", "umbrella"));
  const v1::AffectedCustomer globex = Of(*affected, "globex");
  EXPECT_THAT(globex.component_ids(), ElementsAre("checkout"));
  EXPECT_THAT(globex.alert_labels(), ElementsAre("tenant=Globex"));
  EXPECT_THAT(Of(*affected, "initech").alert_labels(), IsEmpty());
  const v1::AffectedCustomer umbrella = Of(*affected, "umbrella");
  EXPECT_THAT(umbrella.component_ids(), IsEmpty());
  EXPECT_THAT(umbrella.alert_labels(), ElementsAre("customer=Umbrella"));
}

TEST_F(AffectedCustomersTest, UnsubscribedAndPendingCustomersAreLeftOut) {
  ASSERT_TRUE(h_.subscribers.Remove(testing::CommsLead(), "initech").ok());
  ASSERT_TRUE(h_.portal.Subscribe({"new@example.com", "", {"checkout"}}).ok());
  const int64_t id = Open("checkout", {{"customer", "Initech"}});
  EXPECT_THAT(Ids(*h_.affected.ForIncident(id)), ElementsAre("globex"));
}

TEST_F(AffectedCustomersTest, OnlyConfiguredLabelsNameCustomers) {
  const int64_t id = Open("dashboard", {{"owner", "Globex"}});
  EXPECT_THAT(Ids(*h_.affected.ForIncident(id)), ElementsAre("umbrella"));
  EXPECT_TRUE(absl::IsNotFound(h_.affected.ForIncident(999).status()));
}

}  // namespace
}  // namespace herald
