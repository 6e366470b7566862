// Authorizer authenticates API callers by bearer token and checks that their
// roles grant a permission. Tokens are known only by their SHA-256 and are
// compared in constant time. Immutable after construction; thread-safe.
#ifndef HERALD_SERVER_CORE_AUTHORIZER_H_
#define HERALD_SERVER_CORE_AUTHORIZER_H_

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "herald/v1/domain.pb.h"
#include "server/core/organisation.h"

namespace herald {

enum class Permission {
  kRead,                 // list and show incidents, messages, on-call
  kPostUpdate,           // engineers' short notes
  kResolve,              // resolve an incident
  kEditMessage,          // write a new version of a customer message
  kApproveMessage,       // approve or reject customer-facing text (authority
                         // checked in core)
  kAcknowledge,          // take an incident (escalation path checked in core)
  kManageRota,           // create and delete rota overrides
  kScheduleMaintenance,  // announce and cancel maintenance
  kReadDeliveries,       // who was sent what, with their addresses
  kManageSubscribers,    // customers' contact details: list, add, remove
  kApproveCredits,     // let an apology offer credits above a rota's authority
  kPublishPostmortem,  // attach the public postmortem to an incident
  kBackup,             // copy the whole database
};

absl::string_view PermissionName(Permission p);

// The roles that grant `p`.
std::set<v1::Role> RolesGranting(Permission p);

struct Caller {
  std::string person_id;
  std::set<v1::Role> roles;
};

class Authorizer {
 public:
  struct TokenHash {
    std::string sha256_hex;
    std::string person_id;
  };

  Authorizer(std::shared_ptr<const Organisation> org,
             std::vector<TokenHash> tokens);

  // The caller behind `bearer_token`. Returns Unauthenticated when the token
  // is empty or unknown.
  absl::StatusOr<Caller> Authenticate(absl::string_view bearer_token) const;

  // OK when one of the caller's roles grants `p`; otherwise PermissionDenied
  // naming the roles that would.
  static absl::Status Authorize(const Caller& caller, Permission p);

 private:
  std::shared_ptr<const Organisation> org_;
  std::vector<TokenHash> tokens_;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_AUTHORIZER_H_
