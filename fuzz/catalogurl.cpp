// Catalog locations (catalogconfig.h): SQLite paths and file:// URLs, postgresql:// URLs (read
// by libpq's own parser, pgurl.h) and mysql:// URLs (mariadburl.h), as typed on a command line,
// in $QUIRE_CATALOG or in the settings. Checked beyond "no crash": a password the URL carries is
// never shown (displayLocation(), error messages), and passwordInUrl() knows it is there.

#include "catalog/catalogconfig.h"
#include "fuzzsupport.h"
#include "catalog/mariadburl.h"
#include "catalog/pgurl.h"

#include <cctype>

namespace {

using namespace quire;

// True when `password` could be checked for in a text made from `location`: it is there once,
// verbatim (no percent-encoding anywhere that could hide or fake it), and it is no text the
// redaction itself writes ("***", "…").
bool checkable(const QString &location, const QString &password)
{
    if (password.isEmpty() || location.contains(QLatin1Char('%')))
        return false;
    for (const QChar c : password) {
        if (c.unicode() > 0x7e || c.unicode() < 0x21 || c == QLatin1Char('*'))
            return false;
    }
    return location.count(password, Qt::CaseInsensitive) == 1;
}

void checkHidden(const QString &location, const QString &password, const QString &shown)
{
    if (checkable(location, password))
        FUZZ_CHECK(!shown.contains(password, Qt::CaseInsensitive), shown);
}

// The password part of the user info ("user:password@"), as typed: what a message about a URL
// that does not parse must not repeat either.
QString typedPassword(const QString &location)
{
    const qsizetype scheme = location.indexOf(QLatin1String("://"));
    if (scheme < 0)
        return {};
    QStringView authority = QStringView(location).mid(scheme + 3);
    for (const QChar end : {QLatin1Char('?'), QLatin1Char('#'), QLatin1Char('/')}) {
        if (const qsizetype at = authority.indexOf(end); at >= 0)
            authority = authority.left(at);
    }
    const qsizetype at = authority.lastIndexOf(QLatin1Char('@'));
    const qsizetype colon = authority.indexOf(QLatin1Char(':'));
    if (at < 0 || colon < 0 || colon > at)
        return {};
    return authority.mid(colon + 1, at - colon - 1).toString();
}

// True when QUrl shows location with more percent-encoding than it was written with (a space, a
// NUL, a '%' not followed by two hex digits...): that can write a "p%40ss%" of its own.
bool reencoded(const QString &location)
{
    static const QString kAllowed = QStringLiteral(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=");
    for (qsizetype i = 0; i < location.size(); ++i) {
        const QChar c = location.at(i);
        if (c == QLatin1Char('%')) {
            if (i + 2 >= location.size() || !std::isxdigit(static_cast<unsigned char>(location.at(i + 1).toLatin1()))
                || !std::isxdigit(static_cast<unsigned char>(location.at(i + 2).toLatin1())))
                return true;
        } else if (!kAllowed.contains(c)) {
            return true;
        }
    }
    return false;
}

// The message about a URL that does not parse. The PostgreSQL one is made from the URL's text
// (libpq's); the MariaDB one from QUrl's reading, which may encode other parts anew.
void checkErrorHides(const QString &location, const QString &error, bool byQUrl)
{
    const QString typed = typedPassword(location);
    if (typed.size() < 4 || location.count(typed) != 1 || typed.contains(QLatin1Char('*')))
        return;
    if (byQUrl && typed.contains(QLatin1Char('%')) && reencoded(location))
        return;
    FUZZ_CHECK(!error.contains(typed), error);
}

} // namespace

QUIRE_FUZZ_TARGET(catalogurl)(const uint8_t *data, size_t size)
{
    quire::fuzz::init();
    const QString location = QString::fromUtf8(quire::fuzz::bytes(data, size));

    const CatalogConfig config{location};
    const QString shown = config.displayLocation();
    const auto problem = config.locationError();
    const bool withPassword = config.passwordInUrl();
    if (location.isEmpty())
        FUZZ_CHECK(problem.has_value(), QString());
    else
        (void)CatalogConfig::fromOption(location).displayLocation();

    QString error;
    if (const auto pg = parsePostgresUrl(location, &error)) {
        FUZZ_CHECK(config.isPostgres(), location);
        FUZZ_CHECK(!problem, *problem);
        FUZZ_CHECK(withPassword == !pg->password.isEmpty(), location);
        checkHidden(location, pg->password, shown);
        checkHidden(location, pg->password, redactPostgresUrl(location));
        for (const auto &[key, value] : pg->options) {
            if (key.contains(QLatin1String("pass"), Qt::CaseInsensitive))
                checkHidden(location, value, shown);
        }
    } else {
        FUZZ_CHECK(!error.isEmpty(), location);
        if (config.isPostgres())
            checkErrorHides(location, error, false);
    }

    error.clear();
    if (const auto maria = parseMariaDbUrl(location, &error)) {
        FUZZ_CHECK(config.isMariaDb(), location);
        FUZZ_CHECK(!problem, *problem);
        FUZZ_CHECK(withPassword == !maria->password.isEmpty(), location);
        FUZZ_CHECK(maria->port >= 1 && maria->port <= 65535, QString::number(maria->port));
        FUZZ_CHECK(!maria->database.isEmpty() && maria->database.size() <= 64, maria->database);
        FUZZ_CHECK(!maria->host.isEmpty() || !maria->socket.isEmpty(), location);
        checkHidden(location, maria->password, shown);
        checkHidden(location, maria->password, redactMariaDbUrl(location));
    } else {
        FUZZ_CHECK(!error.isEmpty(), location);
        if (config.isMariaDb())
            checkErrorHides(location, error, true);
    }
    return 0;
}
