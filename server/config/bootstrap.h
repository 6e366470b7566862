// Start-up steps that put the config's seed data into the store and make
// sure every credential heraldd needs exists. Run once, before serving.
#ifndef HERALD_SERVER_CONFIG_BOOTSTRAP_H_
#define HERALD_SERVER_CONFIG_BOOTSTRAP_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/base/random.h"
#include "server/core/org/authorizer.h"
#include "server/core/org/organisation.h"
#include "server/store/store.h"

namespace herald {

// Adds the config's subscribers that the store does not have yet (after the
// first start, `herald subscribers` manages them, and a restart must not
// undo an unsubscribe), and upserts people's token hashes.
absl::Status SeedStore(Store& store, const Organisation& org);

// For the embedded demo organisation: on first start, creates an API token
// for each person and a webhook token, stores only their hashes, and writes
// the plaintext to `<data_dir>/demo-tokens.env` (mode 0600) for the demo
// user to `source`. Later starts reuse them. Returns the path written.
absl::StatusOr<std::string> EnsureDemoCredentials(Store& store,
                                                  const Organisation& org,
                                                  const std::string& data_dir,
                                                  Random& random);

// The demo webhook token file inside `data_dir`.
std::string DemoWebhookTokenPath(const std::string& data_dir);

// Reads a one-line secret (trailing white space trimmed). InvalidArgument
// when the file is unreadable or empty; the message never holds the secret.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path,
                                           absl::string_view what);

// The server's certificate chain and private key, as PEM.
struct ServerTls {
  std::string cert_chain_pem;
  std::string private_key_pem;
  bool enabled() const { return !cert_chain_pem.empty(); }
};

// Reads `server.tls`; empty when neither file is set. InvalidArgument names
// the field when only one is set, a file is unreadable, holds no
// certificate (or key), or the key does not belong to the certificate.
// No message ever holds key material.
absl::StatusOr<ServerTls> ReadServerTls(const v1::TlsConfig& tls);

// The SMS gateway's signing secrets: one per line of its
// `signing_secret_file`, newest first (two while one is rotated). None when
// no file is configured.
absl::StatusOr<std::vector<std::string>> ReadSmsGatewaySecrets(
    const v1::SmsGatewayConfig& gateway);

// The key that signs customers' confirm and unsubscribe links: made on
// first start and kept in the store, so links already sent keep working
// across restarts and restores.
absl::StatusOr<std::string> EnsureLinkKey(Store& store, Random& random);

// Every token hash the Authorizer should accept: config and store.
absl::StatusOr<std::vector<Authorizer::TokenHash>> LoadTokenHashes(
    Store& store);

}  // namespace herald

#endif  // HERALD_SERVER_CONFIG_BOOTSTRAP_H_
