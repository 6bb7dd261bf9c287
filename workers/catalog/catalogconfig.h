#pragma once

#include <QString>

#include <optional>

namespace quire {

// Where the catalog lives: a SQLite file path (the default; also as a file:// URL), a
// PostgreSQL URL "postgresql://user[:password]@host[:port]/dbname" (also "postgres://") or a
// MariaDB/MySQL URL "mysql://user[:password]@host[:port]/database" (also "mariadb://").
// Any other "scheme://" location is refused (locationError()), never taken for a file name.
struct CatalogConfig
{
    QString location;

    bool isPostgres() const;
    bool isMariaDb() const;
    // A database server (PostgreSQL or MariaDB/MySQL), as opposed to a SQLite file.
    bool isServer() const { return isPostgres() || isMariaDb(); }
    // Why Quire cannot serve this location (an unknown URL scheme, an empty location), naming
    // what it supports; nullopt when it can.
    std::optional<QString> locationError() const;
    // True when the location is a URL that carries a password (user info or a "password"
    // parameter): on a command line it would show in every process listing.
    bool passwordInUrl() const;
    // The default SQLite file: <AppDataLocation>/catalog.sqlite (QStandardPaths).
    static CatalogConfig defaultConfig();
    // --catalog value, else $QUIRE_CATALOG, else `saved` (settings/catalog, Settings › Catalog),
    // else the default.
    static CatalogConfig fromOption(const QString &option, const QString &saved = {});
    // The location with any password replaced by "***", for messages and logs.
    QString displayLocation() const;
};

} // namespace quire
