#pragma once

#include <QList>
#include <QString>

#include <optional>
#include <utility>

namespace quire {

// The parts of a "postgresql://user[:password]@host[:port]/dbname[?key=value&...]" URL
// (also "postgres://"), percent-decoded. Private to the catalog code.
struct PostgresUrl
{
    QString user;
    QString password;
    QString host;                                   // empty: libpq's default (local socket)
    int port = -1;                                  // -1: libpq's default (5432)
    QString dbname;
    QList<std::pair<QString, QString>> options;     // query parameters, passed to libpq as-is
};

bool looksLikePostgresUrl(const QString &location);
// nullopt and *error set when the URL cannot be parsed.
std::optional<PostgresUrl> parsePostgresUrl(const QString &url, QString *error = nullptr);
// The URL with the password (in the user info or a "password" parameter) replaced by "***".
QString redactPostgresUrl(const QString &url);

} // namespace quire
