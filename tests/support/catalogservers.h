#pragma once

#include "mariadbserver.h"
#include "pgserver.h"

#include <QString>

#include <memory>

namespace quire::test {

// The catalogs a suite runs against: "sqlite" (a file in a folder the caller gives), "postgres"
// and "mariadb" (a new database on a throw-away server of that kind, started on first use and
// stopped when this object goes). One per test process, used from the test's main thread.
class CatalogServers final
{
public:
    CatalogServers() = default;
    ~CatalogServers();
    Q_DISABLE_COPY(CatalogServers)

    // Adds a "backend" column with the three rows (for initTestCase_data() or a *_data() slot).
    static void addBackendRows();

    // A new, empty catalog location for `backend`. Empty, with *skip set when the server is not
    // installed or *fail set when it could not be started or the database not made.
    QString newLocation(const QString &backend, const QString &sqliteFolder, QString *skip, QString *fail);

    PgServer *postgres() { return m_pg.get(); }
    MariaDbServer *mariaDb() { return m_maria.get(); }

private:
    std::unique_ptr<PgServer> m_pg;
    std::unique_ptr<MariaDbServer> m_maria;
    int m_counter = 0;
};

} // namespace quire::test
