#include "mariadburl.h"

#include <QDir>
#include <QFile>
#include <QUrl>
#include <QUrlQuery>

namespace quire {

namespace {

constexpr QLatin1StringView kSchemes[] = {QLatin1StringView("mysql://"), QLatin1StringView("mariadb://")};

// Option files spell keys with '-' or '_' alike ("ssl-ca" is "ssl_ca").
QString optionKey(QString key)
{
    return key.trimmed().toLower().replace(u'_', u'-');
}

// An option file value: quoted ('…' or "…", with backslash escapes inside double quotes) or bare
// up to a " #" comment.
QString optionValue(QStringView raw)
{
    raw = raw.trimmed();
    if (raw.size() >= 2 && (raw.front() == u'"' || raw.front() == u'\'')) {
        const QChar quote = raw.front();
        QString out;
        for (qsizetype i = 1; i < raw.size(); ++i) {
            const QChar c = raw.at(i);
            if (c == quote)
                return out;
            if (c == u'\\' && i + 1 < raw.size()) {
                const QChar n = raw.at(++i);
                switch (n.unicode()) {
                case 'n': out += u'\n'; break;
                case 't': out += u'\t'; break;
                case 'r': out += u'\r'; break;
                case 'b': out += u'\b'; break;
                case 's': out += u' '; break;
                default: out += n; break;
                }
                continue;
            }
            out += c;
        }
        return out;   // no closing quote: the rest, as the client tools do
    }
    const qsizetype comment = raw.indexOf(QLatin1StringView(" #"));
    return (comment >= 0 ? raw.left(comment) : raw).trimmed().toString();
}

} // namespace

bool looksLikeMariaDbUrl(const QString &location)
{
    for (const auto scheme : kSchemes) {
        if (location.startsWith(scheme, Qt::CaseInsensitive))
            return true;
    }
    return false;
}

std::optional<MariaDbUrl> parseMariaDbUrl(const QString &text, QString *error)
{
    auto fail = [&](const QString &why) -> std::optional<MariaDbUrl> {
        if (error)
            *error = QStringLiteral("invalid MariaDB/MySQL URL \"%1\": %2").arg(redactMariaDbUrl(text), why);
        return std::nullopt;
    };
    if (!looksLikeMariaDbUrl(text))
        return fail(QStringLiteral("it must start with mysql:// or mariadb://"));
    const QUrl url(text, QUrl::StrictMode);
    if (!url.isValid())
        return fail(url.errorString());
    if (!url.fragment().isEmpty())
        return fail(QStringLiteral("it has a fragment (\"#…\")"));

    MariaDbUrl out;
    out.user = url.userName(QUrl::FullyDecoded);
    out.password = url.password(QUrl::FullyDecoded);
    out.host = url.host(QUrl::FullyDecoded);
    out.port = url.port(3306);
    if (out.port < 1 || out.port > 65535)
        return fail(QStringLiteral("the port %1 is not between 1 and 65535").arg(out.port));
    QString path = url.path(QUrl::FullyDecoded);
    if (path.startsWith(u'/'))
        path.remove(0, 1);
    if (path.isEmpty())
        return fail(QStringLiteral("it names no database (mysql://user@host/database)"));
    // MariaDB's own limits on a database name: 64 characters, no '/', '\\' or '.' and no NUL.
    if (path.size() > 64 || path.contains(u'/') || path.contains(u'\\') || path.contains(u'.')
        || path.contains(QChar(0)))
        return fail(QStringLiteral("\"%1\" is not a database name (at most 64 characters, no '/', '\\' or '.')")
                            .arg(path));
    out.database = path;

    const QUrlQuery query(url);
    for (const auto &[rawKey, rawValue] : query.queryItems(QUrl::FullyDecoded)) {
        const QString key = optionKey(rawKey);
        QString *slot = key == QLatin1StringView("socket")       ? &out.socket
                      : key == QLatin1StringView("ssl-ca")       ? &out.sslCa
                      : key == QLatin1StringView("ssl-capath")   ? &out.sslCapath
                      : key == QLatin1StringView("ssl-cert")     ? &out.sslCert
                      : key == QLatin1StringView("ssl-key")      ? &out.sslKey
                                                                  : nullptr;
        if (!slot)
            return fail(QStringLiteral("unknown parameter \"%1\" (Quire takes socket, ssl-ca, ssl-capath, "
                                       "ssl-cert and ssl-key)").arg(rawKey));
        if (rawValue.isEmpty())
            return fail(QStringLiteral("the parameter \"%1\" has no value").arg(rawKey));
        // Qt passes connect options as "KEY=value;KEY=value": a ';' would end the value early.
        if (rawValue.contains(u';'))
            return fail(QStringLiteral("the value of \"%1\" contains ';', which Qt's MySQL driver cannot pass").arg(rawKey));
        *slot = rawValue;
    }
    if (out.host.isEmpty() && out.socket.isEmpty())
        return fail(QStringLiteral("it names no host (mysql://user@host/database, or ?socket=PATH)"));
    if ((!out.sslCert.isEmpty() || !out.sslKey.isEmpty()) && out.sslCa.isEmpty() && out.sslCapath.isEmpty())
        return fail(QStringLiteral("a client certificate needs the server's CA too (ssl-ca or ssl-capath)"));
    return out;
}

QString redactMariaDbUrl(const QString &text)
{
    const QUrl url(text);
    if (url.isValid())
        return url.password().isEmpty() ? text : url.toDisplayString(QUrl::RemovePassword);
    // Not a URL QUrl can read: keep the scheme and say nothing of the rest, which may hold a password.
    const qsizetype end = text.indexOf(QLatin1StringView("://"));
    return (end > 0 ? text.left(end) : QStringLiteral("mysql")) + QLatin1StringView("://…");
}

QString optionFilePassword(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        return {};
    QString group, client, clientMariaDb;
    while (!file.atEnd()) {
        const QString line = QString::fromUtf8(file.readLine()).trimmed();
        if (line.isEmpty() || line.startsWith(u'#') || line.startsWith(u';') || line.startsWith(u'!'))
            continue;
        if (line.startsWith(u'[')) {
            group = line.mid(1, line.indexOf(u']') - 1).trimmed().toLower();
            continue;
        }
        const qsizetype eq = line.indexOf(u'=');
        if (eq <= 0 || optionKey(line.left(eq)) != QLatin1StringView("password"))
            continue;
        if (group == QLatin1StringView("client"))
            client = optionValue(QStringView(line).mid(eq + 1));
        else if (group == QLatin1StringView("client-mariadb"))
            clientMariaDb = optionValue(QStringView(line).mid(eq + 1));
    }
    return clientMariaDb.isEmpty() ? client : clientMariaDb;
}

QString mariaDbPassword(const MariaDbUrl &url)
{
    if (!url.password.isEmpty())
        return url.password;
    const QString fromEnvironment = qEnvironmentVariable("QUIRE_CATALOG_PASSWORD");
    if (!fromEnvironment.isEmpty())
        return fromEnvironment;
    return optionFilePassword(QDir::home().filePath(QStringLiteral(".my.cnf")));
}

} // namespace quire
