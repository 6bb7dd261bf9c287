#pragma once

#include "jobs/result.h"

#include <QSqlDatabase>

namespace quire {

// The catalog's schema, as numbered migrations recorded in `schema_version` (one row per applied
// migration). Private to the catalog. Append migration N+1 to the list in migrations.cpp; never
// edit one that has shipped.

int latestMigration();
// 0 when the catalog is empty (no schema_version table yet).
Result<int> currentSchemaVersion(QSqlDatabase &db);
// Applies the pending migrations in one write transaction, re-reading the version inside it, so
// several threads or processes may call this at the same time. Refuses a newer schema.
Status migrate(QSqlDatabase &db);

} // namespace quire
