#include "server/delivery/destination.h"

#include "absl/strings/str_cat.h"
#include "herald/enum_labels.h"

namespace herald {

std::string DestinationOf(const Outgoing& outgoing) {
  switch (outgoing.channel) {
    case v1::CHANNEL_KIND_WEBHOOK:
    case v1::CHANNEL_KIND_SLACK:
      // Each customer's own endpoint. (Endpoints on one host are not
      // limited together: a busy integration platform serves many
      // customers.)
      return absl::StrCat(EnumLabel(outgoing.channel), " ", outgoing.address);
    default:
      // The relay or gateway: one server for every recipient.
      return std::string(EnumLabel(outgoing.channel));
  }
}

}  // namespace herald
