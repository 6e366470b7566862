#include "server/config/config_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "herald/enum_labels.h"
#include "server/base/text.h"

namespace herald {

const std::map<std::string, std::string>& EmbeddedConfigFiles();  // generated

namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

class YamlMapper {
 public:
  explicit YamlMapper(absl::string_view source) : source_(source) {}

  absl::Status MapMessage(const YAML::Node& node, const std::string& path,
                          Message* msg) {
    if (node.IsNull()) return absl::OkStatus();
    if (!node.IsMap())
      return Error(node, path, "expected a mapping of keys to values");
    const Descriptor* d = msg->GetDescriptor();
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>();
      const FieldDescriptor* f = d->FindFieldByName(key);
      const std::string field_path =
          path.empty() ? key : absl::StrCat(path, ".", key);
      if (f == nullptr) {
        std::vector<std::string> known;
        for (int i = 0; i < d->field_count(); ++i)
          known.push_back(d->field(i)->name());
        return Error(kv.first, field_path,
                     absl::StrCat("unknown field; expected one of: ",
                                  absl::StrJoin(known, ", ")));
      }
      if (auto s = MapField(kv.second, field_path, msg, f); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  absl::Status MapField(const YAML::Node& node, const std::string& path,
                        Message* msg, const FieldDescriptor* f) {
    const Reflection* r = msg->GetReflection();
    if (f->is_map()) {
      if (node.IsNull()) return absl::OkStatus();
      if (!node.IsMap()) return Error(node, path, "expected a mapping");
      const FieldDescriptor* key_f = f->message_type()->map_key();
      const FieldDescriptor* value_f = f->message_type()->map_value();
      for (const auto& kv : node) {
        Message* entry = r->AddMessage(msg, f);
        const std::string entry_path =
            absl::StrCat(path, ".", kv.first.as<std::string>());
        if (auto s = SetScalar(kv.first, entry_path, entry, key_f, false);
            !s.ok())
          return s;
        if (value_f->type() == FieldDescriptor::TYPE_MESSAGE) {
          if (auto s = MapMessage(
                  kv.second, entry_path,
                  entry->GetReflection()->MutableMessage(entry, value_f));
              !s.ok()) {
            return s;
          }
        } else if (auto s =
                       SetScalar(kv.second, entry_path, entry, value_f, false);
                   !s.ok()) {
          return s;
        }
      }
      return absl::OkStatus();
    }
    if (f->is_repeated()) {
      if (node.IsNull()) return absl::OkStatus();
      if (!node.IsSequence()) return Error(node, path, "expected a list");
      for (size_t i = 0; i < node.size(); ++i) {
        const std::string item_path = absl::StrCat(path, "[", i, "]");
        if (f->type() == FieldDescriptor::TYPE_MESSAGE) {
          if (auto s = MapMessage(node[i], item_path, r->AddMessage(msg, f));
              !s.ok())
            return s;
        } else if (auto s = SetScalar(node[i], item_path, msg, f, true);
                   !s.ok()) {
          return s;
        }
      }
      return absl::OkStatus();
    }
    if (f->type() == FieldDescriptor::TYPE_MESSAGE) {
      return MapMessage(node, path, r->MutableMessage(msg, f));
    }
    return SetScalar(node, path, msg, f, false);
  }

  absl::Status SetScalar(const YAML::Node& node, const std::string& path,
                         Message* msg, const FieldDescriptor* f, bool add) {
    const Reflection* r = msg->GetReflection();
    if (!node.IsScalar())
      return Error(node, path, absl::StrCat("expected ", TypeName(f)));
    const std::string text = node.Scalar();
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        if (f->type() == FieldDescriptor::TYPE_STRING) {
          if (absl::Status s = CheckText("", text); !s.ok()) {
            // CheckText's message after its (empty) field name.
            return Error(node, path, s.message().substr(2));
          }
        }
        add ? r->AddString(msg, f, text) : r->SetString(msg, f, text);
        return absl::OkStatus();
      case FieldDescriptor::CPPTYPE_INT32: {
        int32_t v;
        if (!absl::SimpleAtoi(text, &v))
          return Error(node, path, Expected(f, text));
        add ? r->AddInt32(msg, f, v) : r->SetInt32(msg, f, v);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_INT64: {
        int64_t v;
        if (!absl::SimpleAtoi(text, &v))
          return Error(node, path, Expected(f, text));
        add ? r->AddInt64(msg, f, v) : r->SetInt64(msg, f, v);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_DOUBLE: {
        double v;
        if (!absl::SimpleAtod(text, &v))
          return Error(node, path, Expected(f, text));
        add ? r->AddDouble(msg, f, v) : r->SetDouble(msg, f, v);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_BOOL: {
        bool v;
        if (!absl::SimpleAtob(text, &v))
          return Error(node, path, Expected(f, text));
        add ? r->AddBool(msg, f, v) : r->SetBool(msg, f, v);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        const EnumDescriptor* e = f->enum_type();
        const std::string name =
            absl::StrCat(EnumValuePrefix(*e), absl::AsciiStrToUpper(text));
        const auto* value = e->FindValueByName(name);
        if (value == nullptr || value->number() == 0)
          return Error(node, path, Expected(f, text));
        add ? r->AddEnumValue(msg, f, value->number())
            : r->SetEnumValue(msg, f, value->number());
        return absl::OkStatus();
      }
      default:
        return Error(node, path, "unsupported field type");
    }
  }

  static std::string TypeName(const FieldDescriptor* f) {
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        return "a string";
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64:
        return "an integer";
      case FieldDescriptor::CPPTYPE_DOUBLE:
        return "a number";
      case FieldDescriptor::CPPTYPE_BOOL:
        return "true or false";
      case FieldDescriptor::CPPTYPE_ENUM: {
        std::vector<std::string> names;
        for (int i = 1; i < f->enum_type()->value_count(); ++i) {
          names.push_back(EnumLabel(*f->enum_type()->value(i)));
        }
        return absl::StrCat("one of ", absl::StrJoin(names, ", "));
      }
      default:
        return "a value";
    }
  }

  static std::string Expected(const FieldDescriptor* f,
                              const std::string& got) {
    return absl::StrCat("expected ", TypeName(f), ", got \"", ScrubText(got),
                        "\"");
  }

  absl::Status Error(const YAML::Node& node, const std::string& path,
                     absl::string_view what) {
    const YAML::Mark mark = node.Mark();
    std::string where(source_);
    if (mark.line >= 0)
      absl::StrAppend(&where, ":", mark.line + 1, ":", mark.column + 1);
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", path, ": ", what));
  }

  absl::string_view source_;
};

}  // namespace

absl::Status ParseYamlInto(absl::string_view yaml, absl::string_view source,
                           Message* message) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ":", e.mark.line + 1,
                                                   ":", e.mark.column + 1,
                                                   ": invalid YAML: ", e.msg));
  }
  try {
    return YamlMapper(source).MapMessage(root, "", message);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", e.what()));
  }
}

void ApplyServerDefaults(v1::Config* config) {
  v1::ServerConfig* s = config->mutable_server();
  if (s->grpc_listen().empty()) s->set_grpc_listen("127.0.0.1:7601");
  if (s->http_listen().empty()) s->set_http_listen("127.0.0.1:7600");
  if (s->data_dir().empty()) s->set_data_dir(".herald-data");
  if (s->page_name().empty()) s->set_page_name("Service status");
  if (s->max_request_bytes() <= 0) s->set_max_request_bytes(1 << 20);
  if (s->max_inflight_webhooks() <= 0) s->set_max_inflight_webhooks(64);
  // Zero only: a negative limit is an error BuildOrganisation names.
  if (s->max_connections() == 0) s->set_max_connections(1024);
  if (s->max_event_streams_per_session() == 0) {
    s->set_max_event_streams_per_session(8);
  }
  if (s->max_event_streams_per_person() == 0) {
    s->set_max_event_streams_per_person(16);
  }
  if (s->public_max_age_seconds() == 0) s->set_public_max_age_seconds(10);
  if (s->public_url().empty())
    s->set_public_url(absl::StrCat("http://", s->http_listen()));
  if (config->smtp().url().empty())
    config->mutable_smtp()->set_url("smtp://127.0.0.1:25");
  if (config->smtp().from().empty())
    config->mutable_smtp()->set_from("herald@localhost");
  if (config->smtp().timeout_seconds() <= 0)
    config->mutable_smtp()->set_timeout_seconds(30);
}

absl::StatusOr<v1::Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(absl::StrCat(path, ": cannot read config file"));
  std::stringstream buf;
  buf << in.rdbuf();
  v1::Config config;
  if (auto s = ParseYamlInto(buf.str(), path, &config); !s.ok()) return s;
  ApplyServerDefaults(&config);
  return config;
}

v1::Config DefaultConfig() {
  v1::Config config;
  const std::string& yaml = EmbeddedConfigFiles().at("default_config.yaml");
  // The embedded config is tested; failing here is a build defect.
  if (auto s = ParseYamlInto(yaml, "<embedded default config>", &config);
      !s.ok()) {
    std::fprintf(stderr, "heraldd: build defect: %s\n", s.ToString().c_str());
    std::abort();
  }
  ApplyServerDefaults(&config);
  return config;
}

namespace {

// The server's per-client limits: each a count in [1, max].
absl::Status ValidateServerLimits(const v1::ServerConfig& s) {
  const struct {
    const char* field;
    int64_t value;
    int64_t max;
  } limits[] = {
      {"server.max_connections", s.max_connections(), 1 << 20},
      {"server.max_event_streams_per_session",
       s.max_event_streams_per_session(), 1000},
      {"server.max_event_streams_per_person", s.max_event_streams_per_person(),
       10000},
      {"server.public_max_age_seconds", s.public_max_age_seconds(), 3600},
  };
  for (const auto& l : limits) {
    if (l.value < 0 || l.value > l.max) {
      return absl::InvalidArgumentError(
          absl::StrCat(l.field, ": expected a count from 1 to ", l.max,
                       " (0 or absent: the default), got ", l.value));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateStatusMirror(const v1::StatusMirrorConfig& m) {
  if (m.directory().empty()) {
    if (!m.after_write().empty()) {
      return absl::InvalidArgumentError(
          "status_mirror.after_write: needs status_mirror.directory");
    }
    return absl::OkStatus();
  }
  if (!absl::StartsWith(m.directory(), "/")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "status_mirror.directory: expected an absolute path, got \"",
        m.directory(), "\""));
  }
  absl::Duration timeout;
  if (!m.after_write_timeout().empty() &&
      (!absl::ParseDuration(m.after_write_timeout(), &timeout) ||
       timeout <= absl::ZeroDuration() || timeout > absl::Hours(1))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "status_mirror.after_write_timeout: expected a duration from 1s to "
        "1h such as \"60s\", got \"",
        m.after_write_timeout(), "\""));
  }
  absl::Duration cap;
  if (!m.after_write_retry_cap().empty() &&
      (!absl::ParseDuration(m.after_write_retry_cap(), &cap) ||
       cap < absl::Seconds(1) || cap > absl::Hours(24))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "status_mirror.after_write_retry_cap: expected a duration from 1s to "
        "24h such as \"5m\", got \"",
        m.after_write_retry_cap(), "\""));
  }
  return absl::OkStatus();
}

absl::Status ValidateStore(const v1::StoreConfig& store) {
  if (!store.has_postgres()) return absl::OkStatus();
  const v1::PostgresConfig& pg = store.postgres();
  if (pg.dsn().empty()) {
    return absl::InvalidArgumentError(
        "store.postgres.dsn: required, a libpq connection string or URI "
        "such as \"host=db dbname=herald user=herald\"");
  }
  if (pg.pool_size() < 0 || pg.pool_size() > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("store.postgres.pool_size: expected a count from 1 to "
                     "100 (0 or absent: 8), got ",
                     pg.pool_size()));
  }
  return absl::OkStatus();
}

// A claim must outlast any send begun in its first half (DeliveryOutbox).
absl::Status ValidateClaimLease(const v1::Config& config) {
  absl::Duration lease;
  if (config.delivery().claim_lease().empty() ||
      !absl::ParseDuration(config.delivery().claim_lease(), &lease)) {
    return absl::OkStatus();  // absent: the default; bad: delivery names it
  }
  const int http = config.delivery().http_timeout_seconds() > 0
                       ? config.delivery().http_timeout_seconds()
                       : 10;
  const int smtp = config.smtp().timeout_seconds() > 0
                       ? config.smtp().timeout_seconds()
                       : 30;
  const absl::Duration least =
      2 * (absl::Seconds(std::max(http, smtp)) + absl::Seconds(5));
  if (lease < least) {
    return absl::InvalidArgumentError(absl::StrCat(
        "delivery.claim_lease: at least twice the longest send timeout "
        "(smtp.timeout_seconds ",
        smtp, ", delivery.http_timeout_seconds ", http, ") plus 5s, i.e. ",
        absl::FormatDuration(least), "; got ",
        config.delivery().claim_lease()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Organisation>> BuildOrganisation(
    v1::Config config, absl::string_view source) {
  for (const absl::Status& s :
       {ValidateServerLimits(config.server()),
        ValidateStatusMirror(config.status_mirror()),
        ValidateStore(config.store()), ValidateClaimLease(config)}) {
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": ", s.message()));
    }
  }
  absl::StatusOr<std::shared_ptr<const Organisation>> org =
      Organisation::Create(std::move(config));
  if (!org.ok()) {
    return absl::Status(org.status().code(),
                        absl::StrCat(source, ": ", org.status().message()));
  }
  return org;
}

absl::StatusOr<std::string> CheckConfig(const v1::Config& config,
                                        absl::string_view source) {
  absl::StatusOr<std::shared_ptr<const Organisation>> org =
      BuildOrganisation(config, source);
  if (!org.ok()) return org.status();
  return absl::StrCat(source, ": OK: ", config.components_size(),
                      " component(s), ", config.people_size(), " person(s), ",
                      config.rotas_size(), " rota(s), ",
                      config.subscribers_size(),
                      " subscriber(s). Files it names (tokens, TLS, "
                      "templates) are read at start, not now.");
}

}  // namespace herald
