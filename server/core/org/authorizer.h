// Authorizer authenticates API callers by bearer token and checks that their
// roles grant a permission. Tokens are known only by their SHA-256 and are
// compared in constant time. A bearer that is no token may be a comms
// console session's secret, looked up through `sessions`, but only on a call
// that presents the console channel's key: the console's in-process calls
// carry it, a network caller never has it, so a session cookie is no API
// token on the gRPC port. Immutable after construction; thread-safe when
// `sessions` is.
#ifndef HERALD_SERVER_CORE_ORG_AUTHORIZER_H_
#define HERALD_SERVER_CORE_ORG_AUTHORIZER_H_

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "herald/v1/domain.pb.h"
#include "server/base/random.h"
#include "server/core/org/organisation.h"

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
  kScheduleMaintenance,  // announce, complete and cancel maintenance
  kReadDeliveries,       // who was sent what, with their addresses
  kRetryDeliveries,      // queue failed deliveries again
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

  // The caller behind a console session's secret, if it is one.
  using SessionLookup =
      std::function<std::optional<Caller>(absl::string_view secret)>;

  // `random` draws the console channel's key.
  Authorizer(std::shared_ptr<const Organisation> org,
             std::vector<TokenHash> tokens, Random& random,
             SessionLookup sessions = nullptr);

  // The caller behind `bearer_token`: an API token's holder, or, when
  // `console_key` is console_channel_key(), also a console session's.
  // Returns Unauthenticated when the token is empty or unknown, and for a
  // session's secret without the key.
  absl::StatusOr<Caller> Authenticate(absl::string_view bearer_token,
                                      absl::string_view console_key = "") const;

  // A random key, new with each Authorizer, that the console's in-process
  // calls present (metadata kConsoleKeyMetadata) to be let use a session's
  // secret. It never leaves the process.
  const std::string& console_channel_key() const { return console_key_; }

  // OK when one of the caller's roles grants `p`; otherwise PermissionDenied
  // naming the roles that would.
  static absl::Status Authorize(const Caller& caller, Permission p);

 private:
  std::shared_ptr<const Organisation> org_;
  std::vector<TokenHash> tokens_;
  SessionLookup sessions_;
  std::string console_key_;
};

// The gRPC metadata that carries Authorizer::console_channel_key().
inline constexpr char kConsoleKeyMetadata[] = "x-herald-console-key";

}  // namespace herald

#endif  // HERALD_SERVER_CORE_ORG_AUTHORIZER_H_
