#include "catalog/mariadburl.h"

#include <QCoreApplication>
#include <QDir>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QtEndian>
#include <QFile>
#include <QRegularExpression>
#include <QUrl>
#include <QUrlQuery>

namespace quire {

namespace {

// The translation context of the messages below (MariaDbUrl is no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::MariaDbUrl)
};

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
            *error = Tr::tr("invalid MariaDB/MySQL URL \"%1\": %2").arg(redactMariaDbUrl(text), why);
        return std::nullopt;
    };
    if (!looksLikeMariaDbUrl(text))
        return fail(Tr::tr("it must start with mysql:// or mariadb://"));
    const QUrl url(text, QUrl::StrictMode);
    if (!url.isValid()) {
        // QUrl's message goes on with '; source was "<the whole URL>"', password and all; and
        // about a password it quotes the character it refused.
        QString why = url.errorString();
        if (const qsizetype end = why.indexOf(u';'); end >= 0)
            why.truncate(end);
        if (why.startsWith(QLatin1StringView("Invalid password")))
            why = Tr::tr("Invalid password (a character in it must be percent-encoded)");
        return fail(why);
    }
    if (!url.fragment().isEmpty())
        return fail(Tr::tr("it has a fragment (\"#…\")"));

    MariaDbUrl out;
    out.user = url.userName(QUrl::FullyDecoded);
    out.password = url.password(QUrl::FullyDecoded);
    out.host = url.host(QUrl::FullyDecoded);
    out.port = url.port(3306);
    if (out.port < 1 || out.port > 65535)
        return fail(Tr::tr("the port %1 is not between 1 and 65535").arg(out.port));
    QString path = url.path(QUrl::FullyDecoded);
    if (path.startsWith(u'/'))
        path.remove(0, 1);
    if (path.isEmpty())
        return fail(Tr::tr("it names no database (mysql://user@host/database)"));
    // MariaDB's own limits on a database name: 64 characters, no '/', '\\' or '.' and no NUL.
    if (path.size() > 64 || path.contains(u'/') || path.contains(u'\\') || path.contains(u'.')
        || path.contains(QChar(0)))
        return fail(Tr::tr("\"%1\" is not a database name (at most 64 characters, no '/', '\\' or '.')")
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
            return fail(Tr::tr("unknown parameter \"%1\" (Quire takes socket, ssl-ca, ssl-capath, "
                               "ssl-cert and ssl-key)").arg(rawKey));
        if (rawValue.isEmpty())
            return fail(Tr::tr("the parameter \"%1\" has no value").arg(rawKey));
        // Qt passes connect options as "KEY=value;KEY=value": a ';' would end the value early.
        if (rawValue.contains(u';'))
            return fail(Tr::tr("the value of \"%1\" contains ';', which Qt's MySQL driver cannot pass").arg(rawKey));
        *slot = rawValue;
    }
    if (out.host.isEmpty() && out.socket.isEmpty())
        return fail(Tr::tr("it names no host (mysql://user@host/database, or ?socket=PATH)"));
    if ((!out.sslCert.isEmpty() || !out.sslKey.isEmpty()) && out.sslCa.isEmpty() && out.sslCapath.isEmpty())
        return fail(Tr::tr("a client certificate needs the server's CA too (ssl-ca or ssl-capath)"));
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

Status checkMariaDbServerCertificate(const MariaDbUrl &url, int timeoutMs, bool *unreachable)
{
    if (unreachable)
        *unreachable = false;
    if ((url.sslCa.isEmpty() && url.sslCapath.isEmpty()) || !url.socket.isEmpty())
        return {};
    auto fail = [&](const QString &why) {
        return Status::failure(Tr::tr("TLS to %1:%2: %3").arg(url.host, QString::number(url.port), why));
    };
    QList<QSslCertificate> cas;
    if (!url.sslCa.isEmpty())
        cas += QSslCertificate::fromPath(url.sslCa, QSsl::Pem);
    if (!url.sslCapath.isEmpty())
        cas += QSslCertificate::fromPath(QDir(url.sslCapath).filePath(QStringLiteral("*")), QSsl::Pem,
                                         QSslCertificate::PatternSyntax::Wildcard);
    if (cas.isEmpty())
        return fail(Tr::tr("no CA certificate could be read from %1").arg(url.sslCa.isEmpty() ? url.sslCapath : url.sslCa));

    QSslSocket socket;
    QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    config.setCaCertificates(cas);
    config.setPeerVerifyMode(QSslSocket::VerifyPeer);
    socket.setSslConfiguration(config);
    socket.setPeerVerifyName(url.host);
    socket.connectToHost(url.host, quint16(url.port));
    if (!socket.waitForConnected(timeoutMs)) {
        if (unreachable)
            *unreachable = true;
        return fail(Tr::tr("the server could not be reached: %1").arg(socket.errorString()));
    }

    // The server's greeting: a 4-byte header (3-byte length, sequence number), then the payload.
    auto readPacket = [&](QByteArray *payload) {
        while (socket.bytesAvailable() < 4) {
            if (!socket.waitForReadyRead(timeoutMs))
                return false;
        }
        const QByteArray header = socket.read(4);
        const qint64 length = quint8(header[0]) | (quint8(header[1]) << 8) | (quint8(header[2]) << 16);
        while (socket.bytesAvailable() < length) {
            if (!socket.waitForReadyRead(timeoutMs))
                return false;
        }
        *payload = socket.read(length);
        return true;
    };
    QByteArray greeting;
    if (!readPacket(&greeting) || greeting.isEmpty())
        return fail(Tr::tr("the server sent no greeting: %1").arg(socket.errorString()));
    if (quint8(greeting[0]) == 0xff)   // an error packet: code (2 bytes), then "#" SQLSTATE and the message
        return fail(Tr::tr("the server refused: %1").arg(QString::fromUtf8(greeting.mid(3)).remove(QRegularExpression(QStringLiteral("^#.{5}")))));
    // Protocol 10: version string, connection id (4), scramble (8), filler (1), capabilities (2).
    const qsizetype versionEnd = greeting.indexOf('\0', 1);
    constexpr quint32 kClientSsl = 0x0800;
    if (quint8(greeting[0]) != 10 || versionEnd < 0 || greeting.size() < versionEnd + 1 + 4 + 8 + 1 + 2)
        return fail(Tr::tr("not a MariaDB or MySQL server"));
    const quint16 capabilities = qFromLittleEndian<quint16>(greeting.constData() + versionEnd + 1 + 4 + 8 + 1);
    if (!(capabilities & kClientSsl))
        return fail(Tr::tr("the server does not offer TLS"));

    // SSL request: capabilities, maximum packet size, character set, 23 bytes of zeros.
    constexpr quint32 kFlags = 0x0001 /* LONG_PASSWORD */ | 0x0200 /* PROTOCOL_41 */ | kClientSsl
                               | 0x8000 /* SECURE_CONNECTION */;
    QByteArray request(4 + 32, '\0');
    request[0] = 32;
    request[3] = 1;   // sequence number
    qToLittleEndian<quint32>(kFlags, request.data() + 4);
    qToLittleEndian<quint32>(16u << 20, request.data() + 8);
    request[12] = 45;   // utf8mb4_general_ci
    if (socket.write(request) != request.size() || !socket.waitForBytesWritten(timeoutMs))
        return fail(socket.errorString());
    socket.startClientEncryption();
    if (!socket.waitForEncrypted(timeoutMs)) {
        QStringList problems;
        for (const QSslError &e : socket.sslHandshakeErrors())
            problems.append(e.errorString());
        return fail(Tr::tr("the server's certificate is not trusted: %1")
                            .arg(problems.isEmpty() ? socket.errorString() : problems.join(QStringLiteral("; "))));
    }
    socket.abort();
    return {};
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
