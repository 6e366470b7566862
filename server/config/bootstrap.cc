#include "server/config/bootstrap.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "herald/enum_labels.h"
#include "server/base/secret_token.h"
#include "server/core/subscribers/contacts.h"
#include "server/core/subscribers/link_tokens.h"

namespace herald {
namespace {

absl::Status WritePrivateFile(const std::string& path,
                              const std::string& content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
    ::chmod(tmp.c_str(), 0600);
    out << content;
    if (!out.flush())
      return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec)
    return absl::UnavailableError(
        absl::StrCat("cannot rename ", tmp, ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace

absl::Status SeedStore(Store& store, const Organisation& org) {
  return store.Write([&](StoreTxn& txn) -> absl::Status {
    for (const v1::Subscriber& s : org.config().subscribers()) {
      absl::StatusOr<v1::Subscriber> stored = txn.GetSubscriber(s.id());
      if (stored.ok()) continue;
      if (!absl::IsNotFound(stored.status())) return stored.status();
      if (auto st = txn.PutSubscriber(s); !st.ok()) return st;
    }
    for (const v1::PersonConfig& p : org.config().people()) {
      if (p.token_sha256().empty()) continue;
      if (auto st =
              txn.PutToken({absl::AsciiStrToLower(p.token_sha256()), p.id()});
          !st.ok()) {
        return st;
      }
    }
    return absl::OkStatus();
  });
}

std::string DemoWebhookTokenPath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "webhook-token").string();
}

absl::StatusOr<std::string> EnsureDemoCredentials(Store& store,
                                                  const Organisation& org,
                                                  const std::string& data_dir,
                                                  Random& random) {
  const std::string env_path =
      (std::filesystem::path(data_dir) / "demo-tokens.env").string();
  // Reuse the file only while the store still knows every person's token: a
  // reset database (herald.db deleted) must not leave tokens that no longer
  // work.
  if (std::filesystem::exists(env_path) &&
      std::filesystem::exists(DemoWebhookTokenPath(data_dir))) {
    absl::StatusOr<std::vector<Authorizer::TokenHash>> known =
        LoadTokenHashes(store);
    if (!known.ok()) return known.status();
    bool all_known = true;
    for (const v1::PersonConfig& p : org.config().people()) {
      all_known = all_known &&
                  std::any_of(known->begin(), known->end(), [&](const auto& t) {
                    return t.person_id == p.id();
                  });
    }
    if (all_known) return env_path;
  }
  std::string env =
      "# herald demo credentials, written on first start. Keep private.\n"
      "# Use: source this file, then pick a person, e.g. "
      "HERALD_TOKEN=$HERALD_TOKEN_ALICE\n";
  std::vector<TokenRecord> records;
  for (const v1::PersonConfig& p : org.config().people()) {
    const std::string token = GenerateToken(random);
    records.push_back({Sha256Hex(token), p.id()});
    const std::string roles = [&] {
      std::string out;
      for (int r : p.roles()) {
        absl::StrAppend(&out, out.empty() ? "" : ",",
                        EnumLabel(static_cast<v1::Role>(r)));
      }
      return out;
    }();
    absl::StrAppend(&env, "# ", p.name(), " (", roles, ")\n",
                    "export HERALD_TOKEN_", absl::AsciiStrToUpper(p.id()), "=",
                    token, "\n");
  }
  const std::string webhook_token = GenerateToken(random);
  absl::StrAppend(
      &env, "# Alertmanager's bearer credential\nexport HERALD_WEBHOOK_TOKEN=",
      webhook_token, "\n");
  absl::Status s = store.Write([&](StoreTxn& txn) -> absl::Status {
    for (const TokenRecord& r : records) {
      if (auto st = txn.PutToken(r); !st.ok()) return st;
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (auto st = WritePrivateFile(DemoWebhookTokenPath(data_dir),
                                 webhook_token + "\n");
      !st.ok()) {
    return st;
  }
  if (auto st = WritePrivateFile(env_path, env); !st.ok()) return st;
  return env_path;
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path,
                                           absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": cannot read \"", path, "\""));
  std::stringstream buf;
  buf << in.rdbuf();
  std::string secret(absl::StripAsciiWhitespace(buf.str()));
  if (secret.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": \"", path, "\" is empty"));
  return secret;
}

namespace {

absl::StatusOr<std::string> ReadPemFile(const std::string& path,
                                        absl::string_view field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": cannot read \"", path, "\""));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

std::unique_ptr<BIO, BioDeleter> MemoryBio(const std::string& pem) {
  return std::unique_ptr<BIO, BioDeleter>(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

}  // namespace

absl::StatusOr<ServerTls> ReadServerTls(const v1::TlsConfig& tls) {
  if (tls.cert_file().empty() && tls.key_file().empty()) return ServerTls{};
  if (tls.cert_file().empty() || tls.key_file().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "server.tls.", tls.cert_file().empty() ? "cert_file" : "key_file",
        ": required: cert_file and key_file go together"));
  }
  absl::StatusOr<std::string> cert =
      ReadPemFile(tls.cert_file(), "server.tls.cert_file");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key =
      ReadPemFile(tls.key_file(), "server.tls.key_file");
  if (!key.ok()) return key.status();
  std::unique_ptr<X509, X509Deleter> leaf(
      PEM_read_bio_X509(MemoryBio(*cert).get(), nullptr, nullptr, nullptr));
  if (leaf == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("server.tls.cert_file: \"", tls.cert_file(),
                     "\" holds no PEM certificate"));
  }
  std::unique_ptr<EVP_PKEY, KeyDeleter> private_key(PEM_read_bio_PrivateKey(
      MemoryBio(*key).get(), nullptr, nullptr, nullptr));
  if (private_key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("server.tls.key_file: \"", tls.key_file(),
                     "\" holds no PEM private key (or it is encrypted)"));
  }
  if (X509_check_private_key(leaf.get(), private_key.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "server.tls.key_file: \"", tls.key_file(),
        "\" is not the key of the certificate in \"", tls.cert_file(), "\""));
  }
  return ServerTls{*std::move(cert), *std::move(key)};
}

absl::StatusOr<std::vector<std::string>> ReadSmsGatewaySecrets(
    const v1::SmsGatewayConfig& gateway) {
  const std::string& path = gateway.signing_secret_file();
  if (path.empty()) return std::vector<std::string>{};
  constexpr absl::string_view kWhat =
      "delivery.sms_gateway.signing_secret_file";
  absl::StatusOr<std::string> text = ReadSecretFile(path, kWhat);
  if (!text.ok()) return text.status();
  std::vector<std::string> secrets;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    if (!WebhookSecretKey(line)) {
      return absl::InvalidArgumentError(
          absl::StrCat(kWhat, ": line ", secrets.size() + 1, " of \"", path,
                       "\" is not \"whsec_\" followed by base64"));
    }
    secrets.emplace_back(line);
  }
  return secrets;
}

absl::StatusOr<std::string> EnsureLinkKey(Store& store, Random& random) {
  std::string key;
  absl::Status s = store.Write([&](StoreTxn& txn) -> absl::Status {
    absl::StatusOr<std::string> stored = txn.GetSetting(kLinkKeySetting);
    if (stored.ok()) {
      key = *std::move(stored);
      return absl::OkStatus();
    }
    if (!absl::IsNotFound(stored.status())) return stored.status();
    key = NewLinkKey(random);
    return txn.PutSetting(kLinkKeySetting, key);
  });
  if (!s.ok()) return s;
  return key;
}

absl::StatusOr<std::vector<Authorizer::TokenHash>> LoadTokenHashes(
    Store& store) {
  std::vector<Authorizer::TokenHash> out;
  absl::Status s = store.Read([&](StoreReader& r) -> absl::Status {
    absl::StatusOr<std::vector<TokenRecord>> tokens = r.ListTokens();
    if (!tokens.ok()) return tokens.status();
    for (const TokenRecord& t : *tokens)
      out.push_back({t.sha256_hex, t.person_id});
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace herald
