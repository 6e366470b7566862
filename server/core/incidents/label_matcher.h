// Alertmanager-style label matchers (`name="v"`, `!=`, `=~`, `!~`), with
// regexes fully anchored as Alertmanager anchors them, and the ComponentRouter
// that maps an alert's labels to the components it affects.
// Both are immutable after construction and thread-safe.
#ifndef HERALD_SERVER_CORE_INCIDENTS_LABEL_MATCHER_H_
#define HERALD_SERVER_CORE_INCIDENTS_LABEL_MATCHER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace re2 {
class RE2;
}

namespace herald {

using Labels = std::map<std::string, std::string>;

class LabelMatcher {
 public:
  enum class Op { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

  // Parses `name OP "value"` (the quotes may be left out). Returns
  // InvalidArgument naming what is wrong.
  static absl::StatusOr<LabelMatcher> Parse(absl::string_view text);

  // A missing label matches as the empty string, as in Alertmanager.
  bool Matches(const Labels& labels) const;

  const std::string& name() const { return name_; }
  Op op() const { return op_; }
  const std::string& value() const { return value_; }

 private:
  LabelMatcher(std::string name, Op op, std::string value,
               std::shared_ptr<const re2::RE2> regex);

  std::string name_;
  Op op_;
  std::string value_;
  std::shared_ptr<const re2::RE2> regex_;  // set for the regex ops
};

// Components in config order, each with the matchers that must all hold.
class ComponentRouter {
 public:
  struct Rule {
    std::string component_id;
    std::vector<LabelMatcher> matchers;
  };
  ComponentRouter(std::vector<Rule> rules, std::string default_component);

  struct Routing {
    std::vector<std::string> component_ids;
    bool unrouted = false;  // no matchers held; the default component was used
  };

  // The components whose matchers all hold for `labels`, in config order.
  // When none match, the default component alone, with `unrouted` set.
  Routing Route(const Labels& labels) const;

 private:
  std::vector<Rule> rules_;
  std::string default_component_;
};

}  // namespace herald

#endif  // HERALD_SERVER_CORE_INCIDENTS_LABEL_MATCHER_H_
