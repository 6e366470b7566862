// SqlTxn (server/store/sql/txn.h) over SQLite.
#include "server/store/sql/txn_reads-inl.h"
#include "server/store/sql/txn_writes-inl.h"
#include "server/store/sqlite/statement.h"

namespace herald::sql {

template class SqlTxn<sqlite::Dialect>;

}  // namespace herald::sql
