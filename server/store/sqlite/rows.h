// How the store's rows map to protos where a table has columns beside the
// body: deliveries (their columns win over the body), subscribers (with
// their queryable columns and subscriptions) and fan-out audiences.
#ifndef HERALD_SERVER_STORE_SQLITE_ROWS_H_
#define HERALD_SERVER_STORE_SQLITE_ROWS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "herald/v1/domain.pb.h"
#include "server/store/sqlite/statement.h"

namespace herald::sqlite {

// Deliveries are read with their columns, which win over the body: a fan-out
// queues rows with an empty body, and the columns always hold the truth.
inline constexpr const char* kDeliveryColumns =
    "id, body, message_id, incident_id, idempotency_key, state, "
    "next_attempt_at, recipient, created_at";

// A body that cannot be read leaves what the columns hold, with
// `unreadable` saying so: the outbox then fails the delivery with that
// reason rather than sending an empty one or stalling the queue.
absl::StatusOr<v1::Delivery> DeliveryRow(const Statement& stmt);

absl::StatusOr<std::vector<v1::Delivery>> CollectDeliveries(Statement& stmt);

// A fan-out's audience, completed by InList(5, n) and ")": the subscribers
// whose status is ?4 (active) of the components bound from ?5 on.
inline constexpr const char* kAudience =
    "status = ?4 AND id IN (SELECT subscriber_id FROM subscriptions WHERE "
    "component_id IN ";

// "(?first, ?first+1, ...)" for `n` parameters; "(NULL)" for none.
std::string InList(int first, size_t n);

// Stores `subscriber` with its queryable columns and subscriptions.
absl::Status WriteSubscriber(Connection* db, const v1::Subscriber& subscriber);

// Rewrites every subscriber, filling the columns migrations added.
absl::Status BackfillSubscriberColumns(Connection* db);

// Fills the recipient and created_at columns (schema 5) of deliveries
// queued before them, from their stored records.
absl::Status BackfillDeliveryColumns(Connection* db);

}  // namespace herald::sqlite

#endif  // HERALD_SERVER_STORE_SQLITE_ROWS_H_
