// Aftercare is what herald does for customers once an incident is over.
// When a comms lead approves an incident's apology, it fixes each affected
// customer's amends: their name, the affected components they use, the
// impact window from the timeline, and the credit or voucher the policy
// gives them (vouchers get their codes then). Credits above the rota's
// authority need an admin's approval first. An apology left unapproved
// reminds the comms leads, then the rota's backup. It also keeps the
// incident's public postmortem. Follow-ups are FollowUps' work. Thread-safe.
#ifndef HERALD_SERVER_CORE_AFTERCARE_AFTERCARE_H_
#define HERALD_SERVER_CORE_AFTERCARE_AFTERCARE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "herald/v1/domain.pb.h"
#include "server/core/aftercare/affected_customers.h"
#include "server/core/comms/delivery_planner.h"
#include "server/core/core_deps.h"
#include "server/core/org/authorizer.h"
#include "server/core/paging.h"

namespace herald {

// A postmortem summary is a page, not a book.
inline constexpr size_t kMaxPostmortemLength = 20000;

// One page of an incident's amends and where its credits stand
// (Aftercare::ListAmends). Every field but `amends` and `next_page_token` is
// about all the amends, not only this page's.
struct AmendsPage {
  std::vector<v1::Amends> amends;  // by subscriber id
  // False: the apology is not approved yet, and these are what approving it
  // now would fix.
  bool fixed = false;
  // The largest credit the point person may offer (the rota's authority),
  // and what an admin approved above it, and who.
  double authority_percent = 0;
  double approved_percent = 0;
  std::string approved_by;
  // The largest credit exceeds both: the apology cannot be approved until
  // an admin approves the credits.
  bool needs_admin = false;
  std::string next_page_token;  // "" after the last page
};

// What Aftercare::ApproveCredits approved.
struct CreditApproval {
  v1::Incident incident;
  double approved_percent = 0;
};

class Aftercare {
 public:
  Aftercare(const CoreDeps& deps, const AffectedCustomers& affected,
            const DeliveryPlanner& planner);

  // What approving `incident`'s apology now would fix: one amends per
  // affected customer, by subscriber id, without voucher codes or ids.
  absl::StatusOr<std::vector<v1::Amends>> Propose(
      StoreReader& reader, const v1::Incident& incident) const;

  // Fixes the amends of `apology`'s customers inside the approval's
  // transaction: stores them with fresh voucher codes (a customer who
  // already has amends from an earlier apology of the incident keeps their
  // row and code, with the facts brought up to date) and schedules the
  // follow-up. PermissionDenied, naming the credit and the way out, when a
  // credit exceeds the rota's authority and what an admin approved, unless
  // `caller` is an admin. Returns how many customers it fixed.
  absl::StatusOr<int> FixForApproval(StoreTxn& txn, const Caller& caller,
                                     const v1::Message& apology,
                                     const v1::Incident& incident) const;

  // One page of the incident's amends (fixed, or proposed before approval),
  // by subscriber id, and where all the credits stand against the
  // authority. NotFound for an unknown incident; InvalidArgument for a bad
  // page (paging.h).
  absl::StatusOr<AmendsPage> ListAmends(int64_t incident_id,
                                        const PageRequest& page = {}) const;

  // An admin lets the incident's apology offer the credits the policy gives
  // now, up to the largest. FailedPrecondition once the apology is
  // approved, or while the incident is open; InvalidArgument when no credit
  // exceeds the authority (nothing to approve).
  absl::StatusOr<CreditApproval> ApproveCredits(const Caller& caller,
                                                int64_t incident_id) const;

  // Sets the reminder for `apology` (just drafted): if it still waits for
  // approval after aftercare.apology_reminder_after, the comms leads are
  // reminded; after twice that, the rota's backup.
  absl::Status ScheduleApologyReminder(StoreTxn& txn,
                                       const v1::Message& apology) const;
  // Runs a JOB_KIND_APOLOGY_REMINDER job (JobRunner).
  absl::Status RunApologyReminder(StoreTxn& txn, const v1::Job& job) const;

  // Publishes (or replaces) the resolved incident's postmortem.
  // InvalidArgument for an empty or over-long summary; FailedPrecondition
  // while the incident is open or internal (nothing was ever published).
  absl::StatusOr<v1::Incident> AttachPostmortem(
      const Caller& caller, int64_t incident_id,
      const std::string& summary) const;

 private:
  // The rota's authority for credits, in percent of the monthly fee.
  double AuthorityPercent(const v1::Incident& incident) const;

  const CoreDeps& deps_;
  const AffectedCustomers& affected_;
  const DeliveryPlanner& planner_;
};

// The largest credit percent among `amends`.
double LargestCredit(const std::vector<v1::Amends>& amends);

}  // namespace herald

#endif  // HERALD_SERVER_CORE_AFTERCARE_AFTERCARE_H_
