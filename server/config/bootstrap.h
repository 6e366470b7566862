// Start-up steps that put the config's seed data into the store and make
// sure every credential heraldd needs exists. Run once, before serving.
#ifndef HERALD_SERVER_CONFIG_BOOTSTRAP_H_
#define HERALD_SERVER_CONFIG_BOOTSTRAP_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/core/authorizer.h"
#include "server/core/organisation.h"
#include "server/store/store.h"

namespace herald {

// Upserts the config's subscribers and people's token hashes into the store.
absl::Status SeedStore(Store& store, const Organisation& org);

// For the embedded demo organisation: on first start, creates an API token
// for each person and a webhook token, stores only their hashes, and writes
// the plaintext to `<data_dir>/demo-tokens.env` (mode 0600) for the demo
// user to `source`. Later starts reuse them. Returns the path written.
absl::StatusOr<std::string> EnsureDemoCredentials(Store& store,
                                                  const Organisation& org,
                                                  const std::string& data_dir);

// The demo webhook token file inside `data_dir`.
std::string DemoWebhookTokenPath(const std::string& data_dir);

// Reads a one-line secret (trailing white space trimmed). InvalidArgument
// when the file is unreadable or empty; the message never holds the secret.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path,
                                           absl::string_view what);

// Every token hash the Authorizer should accept: config and store.
absl::StatusOr<std::vector<Authorizer::TokenHash>> LoadTokenHashes(
    Store& store);

}  // namespace herald

#endif  // HERALD_SERVER_CONFIG_BOOTSTRAP_H_
