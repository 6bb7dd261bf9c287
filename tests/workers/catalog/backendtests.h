#pragma once

// What the catalog and connection test classes share: the throw-away PostgreSQL and MariaDB
// servers (started on first use, kept for the whole run), a folder for the SQLite catalogs, and
// a new catalog location on any backend.

#include "catalogservers.h"

#include <QObject>
#include <QTemporaryDir>

namespace quire::test {

class BackendTests : public QObject
{
protected:
    // A new, empty catalog location on `backend` ("sqlite", "postgres" or "mariadb"); "" with
    // *skip set when its server is not installed, or *fail when it could not be started (or the
    // folder for the SQLite catalogs could not be made).
    QString newLocation(const QString &backend, QString *skip, QString *fail)
    {
        if (!m_dir.isValid()) {
            *fail = m_dir.errorString();
            return QString();
        }
        return m_servers.newLocation(backend, m_dir.filePath(QStringLiteral("catalogs-%1").arg(++m_counter)), skip, fail);
    }

    // The data rows of a test that runs on every backend.
    static void addBackends() { CatalogServers::addBackendRows(); }

    QTemporaryDir m_dir;
    CatalogServers m_servers;
    int m_counter = 0;
};

} // namespace quire::test
