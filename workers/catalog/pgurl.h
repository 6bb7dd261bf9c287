#pragma once

#include <QList>
#include <QString>

#include <optional>
#include <utility>

namespace quire {

// A "postgresql://user[:password]@host[:port][,host2[:port2]...]/dbname[?key=value&...]" URL
// (also "postgres://") as libpq's PQconninfoParse reads it. Private to the catalog code.
struct PostgresUrl
{
    QString user;
    QString password;
    QString dbname;
    QString host;                                   // empty: libpq's default; "h1,h2" for several
    QString port;                                   // empty: 5432; "5432,5433" for several
    QList<std::pair<QString, QString>> options;     // every other parameter (sslmode, service...)
};

bool looksLikePostgresUrl(const QString &location);
// nullopt and *error set when the URL cannot be parsed.
std::optional<PostgresUrl> parsePostgresUrl(const QString &url, QString *error = nullptr);
// The URL with the password (in the user info, or a parameter whose name has "pass" in it)
// replaced by "***".
QString redactPostgresUrl(const QString &url);

} // namespace quire
