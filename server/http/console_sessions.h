// ConsoleSessions: the web console's signed-in sessions. Signing in with a
// herald API token (checked by the Authorizer) makes a session: a random
// secret for the session cookie, a CSRF token that every state-changing
// request must carry, and an expiry (sliding is not offered: a session
// lasts `ttl` from sign-in). Only SHA-256 of each secret is kept, and
// lookups compare in constant time. Sessions live in memory: a restart
// signs everyone out. Signing out ends a session at once.
// Thread-safe.
#ifndef HERALD_SERVER_HTTP_CONSOLE_SESSIONS_H_
#define HERALD_SERVER_HTTP_CONSOLE_SESSIONS_H_

#include <map>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/base/clock.h"
#include "server/base/random.h"
#include "server/core/org/authorizer.h"

namespace herald {

class ConsoleSessions {
 public:
  struct Session {
    Caller caller;
    std::string csrf_token;
    absl::Time expires;
  };
  struct Created {
    std::string secret;  // the cookie value; shown to nobody else
    Session session;
  };

  // `random` draws each session's secret and CSRF token.
  ConsoleSessions(const Clock& clock, Random& random, absl::Duration ttl);

  // A new session for `caller`. Expired sessions are dropped on the way.
  Created Start(const Caller& caller);

  // The live session behind `secret`; nullopt when unknown, ended or
  // expired.
  std::optional<Session> Find(absl::string_view secret) const;

  // Whether `presented` is the CSRF token of the live session `secret`
  // (constant time).
  bool CsrfTokenMatches(absl::string_view secret,
                        absl::string_view presented) const;

  // Ends the session behind `secret`, if any.
  void End(absl::string_view secret);

  // The Authorizer's view of these sessions: the caller behind a live
  // session's secret. This object must outlive the lookup.
  Authorizer::SessionLookup Lookup() const;

  absl::Duration ttl() const { return ttl_; }
  // The clock sessions expire by; the console's pages tell ages by it.
  const Clock& clock() const { return clock_; }

 private:
  void DropExpired(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  Random& random_;
  const absl::Duration ttl_;
  mutable absl::Mutex mu_;
  std::map<std::string, Session> by_hash_ ABSL_GUARDED_BY(mu_);
};

}  // namespace herald

#endif  // HERALD_SERVER_HTTP_CONSOLE_SESSIONS_H_
