// JSON for the Statuspage v2 documents, as Statuspage prints them: every
// field of the message, in the order the .proto declares them, named as
// written there; a field with presence (`optional`, or a message) that is
// unset prints as `null`, never omitted and never "". Typed Statuspage
// clients need every key, and fail to parse "" as a time. Stateless;
// thread-safe.
#ifndef HERALD_SERVER_STATUSPAGE_STATUSPAGE_JSON_H_
#define HERALD_SERVER_STATUSPAGE_STATUSPAGE_JSON_H_

#include <string>

#include "google/protobuf/message.h"

namespace herald {

// `message` as one line of JSON and a newline.
std::string StatuspageJson(const google::protobuf::Message& message);

}  // namespace herald

#endif  // HERALD_SERVER_STATUSPAGE_STATUSPAGE_JSON_H_
