#pragma once

#include <QString>

namespace quire {

// Where the catalog lives: a SQLite file path (the default) or a PostgreSQL URL
// "postgresql://user[:password]@host[:port]/dbname" (also "postgres://").
struct CatalogConfig
{
    QString location;

    bool isPostgres() const;
    // The default SQLite file: <AppDataLocation>/catalog.sqlite (QStandardPaths).
    static CatalogConfig defaultConfig();
    // --catalog value, else $QUIRE_CATALOG, else the default.
    static CatalogConfig fromOption(const QString &option);
    // The location with any password replaced by "***", for messages and logs.
    QString displayLocation() const;
};

} // namespace quire
