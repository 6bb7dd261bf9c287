#include "pgurl.h"

#include <QByteArray>

#include <libpq-fe.h>

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

    if (schemeLength(url) == 0)
        return fail(QStringLiteral("it must start with postgresql:// or postgres://"));

    // libpq's own parser: multi-host lists, IPv6 literals, percent-decoding and every parameter
    // libpq knows (an unknown one is an error), exactly as libpq will connect.
    char *message = nullptr;
    PQconninfoOption *const options = PQconninfoParse(url.toUtf8().constData(), &message);
    if (!options) {
        const QString why = message ? QString::fromUtf8(message).trimmed() : QStringLiteral("out of memory");
        PQfreemem(message);
        return fail(why);
    }
    PostgresUrl out;
    for (const PQconninfoOption *o = options; o->keyword; ++o) {
        if (!o->val)
            continue;
        const QString key = QString::fromUtf8(o->keyword);
        const QString value = QString::fromUtf8(o->val);
        if (key == QLatin1StringView("user"))
            out.user = value;
        else if (key == QLatin1StringView("password"))
            out.password = value;
        else if (key == QLatin1StringView("dbname"))
            out.dbname = value;
        else if (key == QLatin1StringView("host"))
            out.host = value;
        else if (key == QLatin1StringView("port"))
            out.port = value;
        else
            out.options.append({key, value});
    }
    PQconninfoFree(options);

    // libpq checks ports only when it connects; a typo is better told now.
    for (const QString &port : out.port.split(u',')) {
        bool ok = false;
        const int p = port.toInt(&ok);
        if (!port.isEmpty() && (!ok || p < 1 || p > 65535))
            return fail(QStringLiteral("the port \"%1\" is not a number between 1 and 65535").arg(port));
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
            // "password", and anything like it (a misspelt "passwrd" still holds a password).
            if (eq > 0 && decode(pair.left(eq)).contains(QLatin1StringView("pass"), Qt::CaseInsensitive))
                params.append(pair.left(eq + 1).toString() + QLatin1StringView("***"));
            else
                params.append(pair.toString());
        }
        out += u'?' + params.join(u'&');
    }
    return out;
}

} // namespace quire
