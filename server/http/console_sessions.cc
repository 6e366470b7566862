#include "server/http/console_sessions.h"

#include <utility>

#include "absl/status/statusor.h"
#include "herald/v1/domain.pb.h"
#include "server/base/log.h"
#include "server/base/proto_time.h"
#include "server/base/secret_token.h"

namespace herald {
namespace {

// The store's kind for session records.
constexpr const char* kSessionKind = "console_session";
// Expired sessions purged per sign-in: enough to keep up with sign-ins.
constexpr int kPurgePerStart = 20;

}  // namespace

ConsoleSessions::ConsoleSessions(Store& store, const Clock& clock,
                                 Random& random, absl::Duration ttl)
    : store_(store), clock_(clock), random_(random), ttl_(ttl) {}

absl::StatusOr<ConsoleSessions::Created> ConsoleSessions::Start(
    const Caller& caller) {
  const absl::Time now = clock_.Now();
  Created created{random_.Hex(32),
                  Session{caller, random_.Hex(32), now + ttl_}};
  v1::ConsoleSession record;
  record.set_person_id(caller.person_id);
  for (v1::Role role : caller.roles) record.add_roles(role);
  record.set_csrf_token(created.session.csrf_token);
  *record.mutable_expires_at() = ToProtoTime(created.session.expires);
  const std::string hash = Sha256Hex(created.secret);
  absl::Status s = store_.Write([&](StoreTxn& txn) -> absl::Status {
    if (auto purged = txn.PurgeExpired(now, kPurgePerStart); !purged.ok()) {
      return purged.status();
    }
    return txn.PutExpiring(kSessionKind, hash, record.SerializeAsString(),
                           created.session.expires);
  });
  if (!s.ok()) return s;
  return created;
}

std::optional<ConsoleSessions::Session> ConsoleSessions::Find(
    absl::string_view secret) const {
  if (secret.empty()) return std::nullopt;
  // Keyed by the secret's hash: how long the lookup takes says nothing
  // about the secret.
  const std::string hash = Sha256Hex(secret);
  absl::StatusOr<std::string> stored;
  absl::Status s = store_.Read([&](StoreReader& r) {
    stored = r.GetExpiring(kSessionKind, hash, clock_.Now());
    return absl::OkStatus();
  });
  if (s.ok()) s = stored.status();
  if (absl::IsNotFound(s)) return std::nullopt;
  v1::ConsoleSession record;
  if (!s.ok() || !record.ParseFromString(*stored)) {
    LogWarn("console session could not be read; treated as signed out",
            {{"error", s.ok() ? "unreadable record" : s.ToString()}});
    return std::nullopt;
  }
  Session session{.caller = {.person_id = record.person_id()},
                  .csrf_token = record.csrf_token(),
                  .expires = FromProtoTime(record.expires_at())};
  for (int role : record.roles()) {
    session.caller.roles.insert(static_cast<v1::Role>(role));
  }
  return session;
}

bool ConsoleSessions::CsrfTokenMatches(absl::string_view secret,
                                       absl::string_view presented) const {
  std::optional<Session> session = Find(secret);
  // Both comparisons run either way.
  const bool matches = ConstantTimeEquals(
      Sha256Hex(presented),
      Sha256Hex(session ? session->csrf_token : std::string()));
  return session.has_value() && !presented.empty() && matches;
}

void ConsoleSessions::End(absl::string_view secret) {
  const std::string hash = Sha256Hex(secret);
  absl::Status s = store_.Write(
      [&](StoreTxn& txn) { return txn.DeleteExpiring(kSessionKind, hash); });
  if (!s.ok()) {
    LogWarn("console sign-out not stored; the session lasts till it expires",
            {{"error", s.ToString()}});
  }
}

Authorizer::SessionLookup ConsoleSessions::Lookup() const {
  return [this](absl::string_view secret) -> std::optional<Caller> {
    std::optional<Session> session = Find(secret);
    if (!session) return std::nullopt;
    return session->caller;
  };
}

}  // namespace herald
