// SqlTxn (server/store/sql/txn.h) over PostgreSQL.
#include "server/store/postgres/connection.h"
#include "server/store/sql/txn_reads-inl.h"
#include "server/store/sql/txn_writes-inl.h"

namespace herald::sql {

template class SqlTxn<postgres::Dialect>;

}  // namespace herald::sql
