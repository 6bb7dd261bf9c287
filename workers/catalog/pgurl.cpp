#include "catalog/pgurl.h"

#include <QByteArray>
#include <QCoreApplication>

#include <libpq-fe.h>

namespace quire {

namespace {

// The translation context of the messages below (PostgresUrl is no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::PostgresUrl)
};

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
    bool hasPath = false;
    QStringView path;       // without the leading '/'
    bool hasQuery = false;
    QStringView query;      // without the leading '?'
};

Split split(const QString &url, qsizetype schemeLen)
{
    Split s;
    QStringView rest(url);
    s.scheme = rest.left(schemeLen);
    rest = rest.mid(schemeLen);

    // libpq takes the first '@' before the first '/' as the end of the user info, wherever a '?'
    // is ("postgresql://ann?x:pw@db" is user "ann?x", password "pw"). The last one ends it
    // here: an unencoded '@' in a password is common enough, and all of it is then hidden.
    const qsizetype slash = rest.indexOf(u'/');
    const qsizetype at = (slash < 0 ? rest : rest.left(slash)).lastIndexOf(u'@');
    if (at >= 0) {
        s.hasUserInfo = true;
        s.userInfo = rest.left(at);
        rest = rest.mid(at + 1);
    }
    const qsizetype queryAt = rest.indexOf(u'?');
    if (queryAt >= 0) {
        s.hasQuery = true;
        s.query = rest.mid(queryAt + 1);
        rest = rest.left(queryAt);
    }
    const qsizetype pathAt = rest.indexOf(u'/');
    if (pathAt >= 0) {
        s.hasPath = true;
        s.path = rest.mid(pathAt + 1);
        rest = rest.left(pathAt);
    }
    s.hostPort = rest;
    return s;
}

// A part of the URL quoted in a message, as it may be shown: as it is when the redacted URL
// shows it anyway, else "***" (it may hold the password, or a piece of it).
QString shownPart(const QString &part, const QString &redacted)
{
    return redacted.contains(part) ? part : QStringLiteral("***");
}

// libpq's message about a URL it cannot read ends with the part it stopped at, quoted, and that
// part may be the password ('invalid percent-encoded token: "hunter%2"') or the whole URL.
QString libpqProblem(QString message, const QString &url, const QString &redacted)
{
    message = message.trimmed();
    if (!message.endsWith(u'"'))
        return message;
    const qsizetype close = message.size() - 1;
    // The opening quote: the earliest one that makes the quoted text a piece of the URL (a
    // password may hold quotes itself), else the last one.
    qsizetype open = message.lastIndexOf(u'"', close - 1);
    if (open < 0)
        return message;
    for (qsizetype at = message.indexOf(u'"'); at >= 0 && at < close; at = message.indexOf(u'"', at + 1)) {
        if (url.contains(QStringView(message).mid(at + 1, close - at - 1))) {
            open = at;
            break;
        }
    }
    const QString part = message.mid(open + 1, close - open - 1);
    return message.left(open + 1) + (part == url ? redacted : shownPart(part, redacted)) + u'"';
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
            *error = Tr::tr("invalid PostgreSQL URL \"%1\": %2").arg(redactPostgresUrl(url), why);
        return std::nullopt;
    };

    if (schemeLength(url) == 0)
        return fail(Tr::tr("it must start with postgresql:// or postgres://"));
    // libpq would read up to the NUL and never see the rest.
    if (url.contains(QChar(0)))
        return fail(Tr::tr("it contains a NUL character"));

    // libpq's own parser: multi-host lists, IPv6 literals, percent-decoding and every parameter
    // libpq knows (an unknown one is an error), exactly as libpq will connect. The scheme is
    // case-insensitive (RFC 3986 3.1) but libpq knows it in lower case only: "Postgresql://..."
    // would be read as "key=value" settings instead.
    const qsizetype schemeLen = schemeLength(url);
    const QString forLibpq = url.left(schemeLen).toLower() + url.mid(schemeLen);
    char *message = nullptr;
    PQconninfoOption *const options = PQconninfoParse(forLibpq.toUtf8().constData(), &message);
    if (!options) {
        const QString why = message ? libpqProblem(QString::fromUtf8(message), forLibpq, redactPostgresUrl(forLibpq))
                                    : Tr::tr("out of memory");
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
        // libpq ends the user info at the first '@', the redacted URL at the last: what libpq
        // reads as the port may be part of what the redacted URL hides.
        if (!port.isEmpty() && (!ok || p < 1 || p > 65535))
            return fail(Tr::tr("the port \"%1\" is not a number between 1 and 65535")
                            .arg(shownPart(port, redactPostgresUrl(url))));
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
    if (s.hasPath)
        out += u'/' + s.path.toString();
    if (s.hasQuery) {
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
