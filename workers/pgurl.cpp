#include "pgurl.h"

#include <QByteArray>

namespace quire {

namespace {

constexpr QLatin1StringView kSchemes[] = {QLatin1StringView("postgresql://"),
                                          QLatin1StringView("postgres://")};

qsizetype schemeLength(const QString &location)
{
    for (const auto scheme : kSchemes) {
        if (location.startsWith(scheme, Qt::CaseInsensitive))
            return scheme.size();
    }
    return 0;
}

QString decode(QStringView part)
{
    // Percent-decoding works on bytes: "%C3%A9" is one UTF-8 character.
    return QString::fromUtf8(QByteArray::fromPercentEncoding(part.toUtf8()));
}

struct Split
{
    QStringView scheme;     // "postgresql://"
    QStringView userInfo;   // "user:password" (may be empty)
    bool hasUserInfo = false;
    QStringView hostPort;
    QStringView path;       // without the leading '/'
    QStringView query;      // without the leading '?'
};

Split split(const QString &url, qsizetype schemeLen)
{
    Split s;
    QStringView rest(url);
    s.scheme = rest.left(schemeLen);
    rest = rest.mid(schemeLen);

    const qsizetype queryAt = rest.indexOf(u'?');
    if (queryAt >= 0) {
        s.query = rest.mid(queryAt + 1);
        rest = rest.left(queryAt);
    }
    const qsizetype pathAt = rest.indexOf(u'/');
    QStringView authority = rest;
    if (pathAt >= 0) {
        s.path = rest.mid(pathAt + 1);
        authority = rest.left(pathAt);
    }
    // The last '@' ends the user info: an unencoded '@' in a password is common enough.
    const qsizetype at = authority.lastIndexOf(u'@');
    if (at >= 0) {
        s.hasUserInfo = true;
        s.userInfo = authority.left(at);
        s.hostPort = authority.mid(at + 1);
    } else {
        s.hostPort = authority;
    }
    return s;
}

} // namespace

bool looksLikePostgresUrl(const QString &location)
{
    return schemeLength(location) > 0;
}

std::optional<PostgresUrl> parsePostgresUrl(const QString &url, QString *error)
{
    auto fail = [&](const QString &why) -> std::optional<PostgresUrl> {
        if (error)
            *error = QStringLiteral("invalid PostgreSQL URL \"%1\": %2").arg(redactPostgresUrl(url), why);
        return std::nullopt;
    };

    const qsizetype schemeLen = schemeLength(url);
    if (schemeLen == 0)
        return fail(QStringLiteral("it must start with postgresql:// or postgres://"));

    const Split s = split(url, schemeLen);
    PostgresUrl out;
    if (s.hasUserInfo) {
        const qsizetype colon = s.userInfo.indexOf(u':');
        if (colon >= 0) {
            out.user = decode(s.userInfo.left(colon));
            out.password = decode(s.userInfo.mid(colon + 1));
        } else {
            out.user = decode(s.userInfo);
        }
    }

    QStringView host = s.hostPort;
    QStringView port;
    if (host.startsWith(u'[')) {            // [IPv6]:port
        const qsizetype close = host.indexOf(u']');
        if (close < 0)
            return fail(QStringLiteral("unterminated '[' in the host"));
        const QStringView after = host.mid(close + 1);
        if (!after.isEmpty()) {
            if (!after.startsWith(u':'))
                return fail(QStringLiteral("unexpected text after the IPv6 address"));
            port = after.mid(1);
        }
        host = host.mid(1, close - 1);
    } else {
        const qsizetype colon = host.lastIndexOf(u':');
        if (colon >= 0) {
            port = host.mid(colon + 1);
            host = host.left(colon);
        }
    }
    out.host = decode(host);
    if (!port.isEmpty()) {
        bool ok = false;
        const int p = port.toInt(&ok);
        if (!ok || p < 1 || p > 65535)
            return fail(QStringLiteral("the port \"%1\" is not a number between 1 and 65535").arg(port));
        out.port = p;
    }

    out.dbname = decode(s.path);
    if (out.dbname.contains(u'/'))
        return fail(QStringLiteral("the database name cannot contain '/'"));

    if (!s.query.isEmpty()) {
        for (const QStringView pair : s.query.split(u'&', Qt::SkipEmptyParts)) {
            const qsizetype eq = pair.indexOf(u'=');
            if (eq <= 0)
                return fail(QStringLiteral("the parameter \"%1\" is not key=value").arg(pair));
            const QString key = decode(pair.left(eq));
            for (const QChar c : key) {
                if (!(c.isLetterOrNumber() || c == u'_'))
                    return fail(QStringLiteral("the parameter name \"%1\" is not valid").arg(key));
            }
            out.options.append({key, decode(pair.mid(eq + 1))});
        }
    }
    return out;
}

QString redactPostgresUrl(const QString &url)
{
    const qsizetype schemeLen = schemeLength(url);
    if (schemeLen == 0)
        return url;
    const Split s = split(url, schemeLen);

    QString out = s.scheme.toString();
    if (s.hasUserInfo) {
        const qsizetype colon = s.userInfo.indexOf(u':');
        if (colon >= 0)
            out += s.userInfo.left(colon).toString() + QLatin1StringView(":***");
        else
            out += s.userInfo;
        out += u'@';
    }
    out += s.hostPort;
    // Keep "/" only when the original had a path separator.
    const qsizetype queryAt = url.indexOf(u'?', schemeLen);
    const QStringView authorityAndPath = QStringView(url).mid(schemeLen, queryAt < 0 ? -1 : queryAt - schemeLen);
    if (authorityAndPath.contains(u'/'))
        out += u'/' + s.path.toString();
    if (queryAt >= 0) {
        QStringList params;
        for (const QStringView pair : s.query.split(u'&')) {
            const qsizetype eq = pair.indexOf(u'=');
            if (eq > 0 && decode(pair.left(eq)).compare(QLatin1StringView("password"), Qt::CaseInsensitive) == 0)
                params.append(pair.left(eq + 1).toString() + QLatin1StringView("***"));
            else
                params.append(pair.toString());
        }
        out += u'?' + params.join(u'&');
    }
    return out;
}

} // namespace quire
