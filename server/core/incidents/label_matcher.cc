#include "server/core/incidents/label_matcher.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "re2/re2.h"

namespace herald {
namespace {

bool IsLabelNameChar(char c, bool first) {
  return absl::ascii_isalpha(c) || c == '_' ||
         (!first && absl::ascii_isdigit(c));
}

// Parses a double-quoted value with Go-style escapes \" \\ \n.
absl::StatusOr<std::string> Unquote(absl::string_view v) {
  if (v.size() < 2 || v.back() != '"') {
    return absl::InvalidArgumentError("unterminated quoted value");
  }
  std::string out;
  for (size_t i = 1; i + 1 < v.size(); ++i) {
    char c = v[i];
    if (c == '\\') {
      if (i + 2 >= v.size())
        return absl::InvalidArgumentError("dangling escape");
      char n = v[++i];
      out.push_back(n == 'n' ? '\n' : n);
    } else if (c == '"') {
      return absl::InvalidArgumentError("unescaped quote inside value");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

LabelMatcher::LabelMatcher(std::string name, Op op, std::string value,
                           std::shared_ptr<const re2::RE2> regex)
    : name_(std::move(name)),
      op_(op),
      value_(std::move(value)),
      regex_(std::move(regex)) {}

absl::StatusOr<LabelMatcher> LabelMatcher::Parse(absl::string_view text) {
  absl::string_view s = absl::StripAsciiWhitespace(text);
  size_t i = 0;
  while (i < s.size() && IsLabelNameChar(s[i], i == 0)) ++i;
  if (i == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("matcher \"", text, "\": expected a label name"));
  }
  std::string name(s.substr(0, i));
  absl::string_view rest = absl::StripLeadingAsciiWhitespace(s.substr(i));
  Op op;
  size_t op_len = 2;
  if (absl::StartsWith(rest, "=~")) {
    op = Op::kRegexMatch;
  } else if (absl::StartsWith(rest, "!~")) {
    op = Op::kRegexNoMatch;
  } else if (absl::StartsWith(rest, "!=")) {
    op = Op::kNotEqual;
  } else if (absl::StartsWith(rest, "=")) {
    op = Op::kEqual;
    op_len = 1;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("matcher \"", text,
                     "\": expected one of =, !=, =~, !~ after \"", name, "\""));
  }
  absl::string_view raw = absl::StripAsciiWhitespace(rest.substr(op_len));
  std::string value;
  if (absl::StartsWith(raw, "\"")) {
    absl::StatusOr<std::string> unquoted = Unquote(raw);
    if (!unquoted.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "matcher \"", text, "\": ", unquoted.status().message()));
    }
    value = *std::move(unquoted);
  } else {
    value = std::string(raw);
  }
  std::shared_ptr<const re2::RE2> regex;
  if (op == Op::kRegexMatch || op == Op::kRegexNoMatch) {
    // Alertmanager anchors matcher regexes at both ends.
    auto re = std::make_shared<re2::RE2>(absl::StrCat("^(?:", value, ")$"),
                                         re2::RE2::Quiet);
    if (!re->ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("matcher \"", text, "\": invalid regex: ", re->error()));
    }
    regex = std::move(re);
  }
  return LabelMatcher(std::move(name), op, std::move(value), std::move(regex));
}

bool LabelMatcher::Matches(const Labels& labels) const {
  auto it = labels.find(name_);
  const std::string empty;
  const std::string& actual = it == labels.end() ? empty : it->second;
  switch (op_) {
    case Op::kEqual:
      return actual == value_;
    case Op::kNotEqual:
      return actual != value_;
    case Op::kRegexMatch:
      return re2::RE2::FullMatch(actual, *regex_);
    case Op::kRegexNoMatch:
      return !re2::RE2::FullMatch(actual, *regex_);
  }
  return false;
}

ComponentRouter::ComponentRouter(std::vector<Rule> rules,
                                 std::string default_component)
    : rules_(std::move(rules)),
      default_component_(std::move(default_component)) {}

ComponentRouter::Routing ComponentRouter::Route(const Labels& labels) const {
  Routing out;
  for (const auto& route : rules_) {
    if (route.matchers.empty()) continue;  // never routed to by labels
    bool all = true;
    for (const auto& m : route.matchers) {
      if (!m.Matches(labels)) {
        all = false;
        break;
      }
    }
    if (all) out.component_ids.push_back(route.component_id);
  }
  if (out.component_ids.empty()) {
    out.unrouted = true;
    if (!default_component_.empty()) {
      out.component_ids.push_back(default_component_);
    }
  }
  return out;
}

}  // namespace herald
