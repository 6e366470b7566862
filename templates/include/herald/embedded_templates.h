// The default templates compiled into herald's binaries, by file name
// ("investigating.title.mustache" -> contents). Immutable; thread-safe.
#ifndef HERALD_TEMPLATES_EMBEDDED_TEMPLATES_H_
#define HERALD_TEMPLATES_EMBEDDED_TEMPLATES_H_

#include <map>
#include <string>

namespace herald::templates {

const std::map<std::string, std::string>& EmbeddedTemplates();

}  // namespace herald::templates

#endif  // HERALD_TEMPLATES_EMBEDDED_TEMPLATES_H_
