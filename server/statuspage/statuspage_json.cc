#include "server/statuspage/statuspage_json.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"

namespace herald {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

void AppendString(const std::string& s, std::string& out) {
  out.push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x",
                        static_cast<unsigned char>(c));
          out += escaped;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void AppendMessage(const Message& m, std::string& out);

// One value of `field` (element `index` when repeated, else -1).
void AppendValue(const Message& m, const FieldDescriptor& field, int index,
                 std::string& out) {
  const Reflection& r = *m.GetReflection();
  const bool repeated = index >= 0;
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      AppendString(repeated ? r.GetRepeatedString(m, &field, index)
                            : r.GetString(m, &field),
                   out);
      return;
    case FieldDescriptor::CPPTYPE_INT32:
      absl::StrAppend(&out, repeated ? r.GetRepeatedInt32(m, &field, index)
                                     : r.GetInt32(m, &field));
      return;
    case FieldDescriptor::CPPTYPE_INT64:
      absl::StrAppend(&out, repeated ? r.GetRepeatedInt64(m, &field, index)
                                     : r.GetInt64(m, &field));
      return;
    case FieldDescriptor::CPPTYPE_BOOL:
      out += (repeated ? r.GetRepeatedBool(m, &field, index)
                       : r.GetBool(m, &field))
                 ? "true"
                 : "false";
      return;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      AppendMessage(repeated ? r.GetRepeatedMessage(m, &field, index)
                             : r.GetMessage(m, &field),
                    out);
      return;
    default:
      // The Statuspage shapes hold none of the other types; a new field of
      // one would show here at once in every test.
      out += "null";
  }
}

void AppendMessage(const Message& m, std::string& out) {
  const auto& descriptor = *m.GetDescriptor();
  const Reflection& r = *m.GetReflection();
  out.push_back('{');
  for (int i = 0; i < descriptor.field_count(); ++i) {
    const FieldDescriptor& field = *descriptor.field(i);
    if (i > 0) out.push_back(',');
    AppendString(field.name(), out);
    out.push_back(':');
    if (field.is_repeated()) {
      out.push_back('[');
      for (int j = 0; j < r.FieldSize(m, &field); ++j) {
        if (j > 0) out.push_back(',');
        AppendValue(m, field, j, out);
      }
      out.push_back(']');
    } else if (field.has_presence() && !r.HasField(m, &field)) {
      out += "null";
    } else {
      AppendValue(m, field, -1, out);
    }
  }
  out.push_back('}');
}

}  // namespace

std::string StatuspageJson(const Message& message) {
  std::string out;
  AppendMessage(message, out);
  out.push_back('\n');
  return out;
}

}  // namespace herald
