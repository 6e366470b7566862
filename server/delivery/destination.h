// Where a send goes, as one key per server that could hang: the SMTP relay
// ("email") and the SMS gateway ("sms") that every recipient shares, or the
// endpoint of a webhook or Slack contact ("webhook https://hooks.acme.example/
// status"). Sends to the same key share one in-flight limit in the outbox, so
// one destination that hangs cannot hold every worker. Stateless;
// thread-safe.
#ifndef HERALD_SERVER_DELIVERY_DESTINATION_H_
#define HERALD_SERVER_DELIVERY_DESTINATION_H_

#include <string>

#include "server/delivery/channel.h"

namespace herald {

std::string DestinationOf(const Outgoing& outgoing);

}  // namespace herald

#endif  // HERALD_SERVER_DELIVERY_DESTINATION_H_
