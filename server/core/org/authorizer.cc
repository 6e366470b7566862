#include "server/core/org/authorizer.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "herald/enum_labels.h"
#include "server/base/secret_token.h"

namespace herald {

absl::string_view PermissionName(Permission p) {
  switch (p) {
    case Permission::kRead:
      return "read";
    case Permission::kPostUpdate:
      return "post updates";
    case Permission::kResolve:
      return "resolve incidents";
    case Permission::kEditMessage:
      return "edit messages";
    case Permission::kApproveMessage:
      return "approve messages";
    case Permission::kAcknowledge:
      return "acknowledge incidents";
    case Permission::kManageRota:
      return "manage rota overrides";
    case Permission::kScheduleMaintenance:
      return "schedule maintenance";
    case Permission::kReadDeliveries:
      return "read deliveries";
    case Permission::kRetryDeliveries:
      return "retry deliveries";
    case Permission::kManageSubscribers:
      return "manage subscribers";
    case Permission::kApproveCredits:
      return "approve credits";
    case Permission::kPublishPostmortem:
      return "publish postmortems";
    case Permission::kBackup:
      return "back up the database";
  }
  return "unknown";
}

std::set<v1::Role> RolesGranting(Permission p) {
  switch (p) {
    case Permission::kRead:
    case Permission::kAcknowledge:
      return {v1::ROLE_ENGINEER, v1::ROLE_COMMS, v1::ROLE_COMMS_LEAD,
              v1::ROLE_ADMIN};
    case Permission::kPostUpdate:
      return {v1::ROLE_ENGINEER};
    case Permission::kResolve:
    case Permission::kScheduleMaintenance:
      return {v1::ROLE_ENGINEER, v1::ROLE_COMMS, v1::ROLE_COMMS_LEAD};
    case Permission::kEditMessage:
    case Permission::kApproveMessage:
      return {v1::ROLE_COMMS, v1::ROLE_COMMS_LEAD};
    case Permission::kManageRota:
    case Permission::kPublishPostmortem:
      return {v1::ROLE_COMMS_LEAD, v1::ROLE_ADMIN};
    case Permission::kApproveCredits:
    case Permission::kBackup:
      return {v1::ROLE_ADMIN};
    case Permission::kReadDeliveries:
    case Permission::kRetryDeliveries:
    case Permission::kManageSubscribers:
      return {v1::ROLE_COMMS, v1::ROLE_COMMS_LEAD, v1::ROLE_ADMIN};
  }
  return {};
}

Authorizer::Authorizer(std::shared_ptr<const Organisation> org,
                       std::vector<TokenHash> tokens, Random& random,
                       SessionLookup sessions)
    : org_(std::move(org)),
      tokens_(std::move(tokens)),
      sessions_(std::move(sessions)),
      console_key_(random.Hex(32)) {}

absl::StatusOr<Caller> Authorizer::Authenticate(
    absl::string_view bearer_token, absl::string_view console_key) const {
  if (bearer_token.empty()) {
    return absl::UnauthenticatedError(
        "missing credentials: send \"authorization: Bearer <token>\" (herald "
        "--token or "
        "HERALD_TOKEN)");
  }
  const std::string presented = Sha256Hex(bearer_token);
  // Every entry is compared, so the time taken says nothing about which
  // matched.
  const TokenHash* match = nullptr;
  for (const auto& t : tokens_) {
    if (ConstantTimeEquals(presented, t.sha256_hex)) match = &t;
  }
  if (match == nullptr && sessions_ &&
      ConstantTimeEquals(Sha256Hex(console_key), Sha256Hex(console_key_))) {
    if (std::optional<Caller> session = sessions_(bearer_token)) {
      return *std::move(session);
    }
  }
  const v1::PersonConfig* person =
      match ? org_->FindPerson(match->person_id) : nullptr;
  if (person == nullptr) return absl::UnauthenticatedError("invalid token");
  Caller caller{person->id(), {}};
  for (int r : person->roles()) caller.roles.insert(static_cast<v1::Role>(r));
  return caller;
}

absl::Status Authorizer::Authorize(const Caller& caller, Permission p) {
  const std::set<v1::Role> granting = RolesGranting(p);
  for (v1::Role r : caller.roles) {
    if (granting.contains(r)) return absl::OkStatus();
  }
  std::vector<std::string> need, have;
  for (v1::Role r : granting) need.push_back(EnumLabel(r));
  for (v1::Role r : caller.roles) have.push_back(EnumLabel(r));
  return absl::PermissionDeniedError(
      absl::StrCat("to ", PermissionName(p), " you need the role ",
                   absl::StrJoin(need, " or "), "; ", caller.person_id, " has ",
                   have.empty() ? "no role" : absl::StrJoin(have, ", ")));
}

}  // namespace herald
