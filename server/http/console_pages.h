// The comms console's pages for a signed-in person (issue 8):
//   GET  /console/                         the inbox: messages waiting for
//                                          approval, and the open incidents
//   GET  /console/messages/MSG-n           review: each channel's rendering,
//                                          the engineers' notes, the diff
//                                          from the previous version, and the
//                                          edit, approve and reject forms
//   POST /console/messages/MSG-n/edit      a new version (title, body)
//   POST /console/messages/MSG-n/approve   publish the version reviewed
//   POST /console/messages/MSG-n/reject    send it back with a reason
//   GET  /console/messages/MSG-n/email/k   the k-th email preview's HTML
//                                          part, for a sandboxed frame
//   GET  /console/incidents/INC-n          the incident's timeline, messages
//                                          and how far each has got
//   GET  /console/console.js               live updates (optional)
// Every page reads and acts through ConsoleApi, as the session: the same
// gRPC services, roles, four-eyes policy and authority as the CLI. Pages
// are complete without JavaScript; the script only refreshes them when the
// event stream (/console/events) says something changed. The routes check
// the session and the CSRF token (console_routes.h) before calling these.
// Stateless; thread-safe.
#ifndef HERALD_SERVER_HTTP_CONSOLE_PAGES_H_
#define HERALD_SERVER_HTTP_CONSOLE_PAGES_H_

#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "server/http/console_routes.h"
#include "server/http/console_sessions.h"
#include "server/http/form_fields.h"

namespace herald {

// What every console page needs: the wiring, and who is looking.
struct ConsoleView {
  const ConsoleDeps& deps;
  const ConsoleSessions::Session& session;
  const std::string& secret;  // the session's; the API bearer
};

HttpReply InboxPage(const ConsoleView& view);

// `done` names the action that just succeeded ("edited", ...), if any.
HttpReply MessagePage(const ConsoleView& view, absl::string_view ref,
                      absl::string_view done);

// `action` is edit, approve or reject; `form` its fields (version, title,
// body, reason). Success: 303 back to the message. Failure: the message
// page again, with why and with the text the person typed.
HttpReply MessageAction(const ConsoleView& view, absl::string_view ref,
                        absl::string_view action, const FormFields& form);

// The HTML part of the `index`-th email preview of `ref`, as its own
// document under a policy that allows no script, for a sandboxed frame.
HttpReply EmailPreviewFrame(const ConsoleView& view, absl::string_view ref,
                            absl::string_view index);

// The incident with one page of its timeline and alerts (`page_token`: a
// "page" link's, or "" for the first) and a link to the next page.
HttpReply IncidentPage(const ConsoleView& view, absl::string_view ref,
                       absl::string_view page_token = "");

// The optional script that keeps pages live.
HttpReply ConsoleScript(const ConsoleDeps& deps);

}  // namespace herald

#endif  // HERALD_SERVER_HTTP_CONSOLE_PAGES_H_
