// ConsoleSessions: the web console's signed-in sessions. Signing in with a
// herald API token (checked by the Authorizer) makes a session: a random
// secret for the session cookie, a CSRF token that every state-changing
// request must carry, and an expiry (sliding is not offered: a session
// lasts `ttl` from sign-in). Only SHA-256 of each secret is kept, as the
// key of the session's record in the store: every heraldd on the store
// knows every session (sign in on one, use any), and a restart signs nobody
// out. Signing out ends a session at once, everywhere. Thread-safe.
#ifndef HERALD_SERVER_HTTP_CONSOLE_SESSIONS_H_
#define HERALD_SERVER_HTTP_CONSOLE_SESSIONS_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/base/clock.h"
#include "server/base/random.h"
#include "server/core/org/authorizer.h"
#include "server/store/store.h"

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
  ConsoleSessions(Store& store, const Clock& clock, Random& random,
                  absl::Duration ttl);

  // A new session for `caller`, stored (with some expired ones purged on
  // the way). The store's error when it cannot be written.
  absl::StatusOr<Created> Start(const Caller& caller);

  // The live session behind `secret`; nullopt when unknown, ended or
  // expired, or when the store cannot be read (logged).
  std::optional<Session> Find(absl::string_view secret) const;

  // Whether `presented` is the CSRF token of the live session `secret`
  // (constant time).
  bool CsrfTokenMatches(absl::string_view secret,
                        absl::string_view presented) const;

  // Ends the session behind `secret`, if any; a store that cannot be
  // written is logged, and the session then lasts till it expires.
  void End(absl::string_view secret);

  // The Authorizer's view of these sessions: the caller behind a live
  // session's secret. This object must outlive the lookup.
  Authorizer::SessionLookup Lookup() const;

  absl::Duration ttl() const { return ttl_; }
  // The clock sessions expire by; the console's pages tell ages by it.
  const Clock& clock() const { return clock_; }

 private:
  Store& store_;
  const Clock& clock_;
  Random& random_;
  const absl::Duration ttl_;
};

}  // namespace herald

#endif  // HERALD_SERVER_HTTP_CONSOLE_SESSIONS_H_
