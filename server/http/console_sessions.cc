#include "server/http/console_sessions.h"

#include <utility>

#include "server/base/secret_token.h"

namespace herald {

ConsoleSessions::ConsoleSessions(const Clock& clock, Random& random,
                                 absl::Duration ttl)
    : clock_(clock), random_(random), ttl_(ttl) {}

ConsoleSessions::Created ConsoleSessions::Start(const Caller& caller) {
  const absl::Time now = clock_.Now();
  Created created{random_.Hex(32),
                  Session{caller, random_.Hex(32), now + ttl_}};
  absl::MutexLock lock(&mu_);
  DropExpired(now);
  by_hash_[Sha256Hex(created.secret)] = created.session;
  return created;
}

std::optional<ConsoleSessions::Session> ConsoleSessions::Find(
    absl::string_view secret) const {
  if (secret.empty()) return std::nullopt;
  // Keyed by the secret's hash: how long the lookup takes says nothing
  // about the secret.
  const std::string hash = Sha256Hex(secret);
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto found = by_hash_.find(hash);
  if (found == by_hash_.end() || !ConstantTimeEquals(found->first, hash) ||
      found->second.expires <= now) {
    return std::nullopt;
  }
  return found->second;
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
  absl::MutexLock lock(&mu_);
  by_hash_.erase(hash);
}

void ConsoleSessions::DropExpired(absl::Time now) {
  for (auto it = by_hash_.begin(); it != by_hash_.end();) {
    it = it->second.expires <= now ? by_hash_.erase(it) : std::next(it);
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
