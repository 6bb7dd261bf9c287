#include "remotes/remote.h"

#include "remotes/remotehttp.h"
#include "remotes/remotelocal.h"
#include "remotes/remotes3.h"
#include "remotes/remotetransport.h"
#include "remotes/remotewebdav.h"

#include <QCoreApplication>
#include <QLocale>
#include <QRegularExpression>
#include <QTimeZone>

#include <algorithm>

namespace quire {

namespace {

// The translation context of the messages below (Remote's helpers are no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::Remote)
};

} // namespace

bool RemoteError::retryable() const
{
    switch (kind) {
    case Kind::Network:
    case Kind::Timeout:
    case Kind::Protocol:
        return true;
    case Kind::Http:
        if (httpStatus == 408 || httpStatus == 429)
            return true;
        return httpStatus >= 500 && httpStatus != 501 && httpStatus != 505;
    default:
        return false;
    }
}

void UploadControl::requestStop(Stop how)
{
    {
        std::lock_guard lock(m_mutex);
        Stop expected = Stop::None;
        if (!m_stop.compare_exchange_strong(expected, how) && how == Stop::Cancel)
            m_stop.store(Stop::Cancel);
        m_stopFlag.store(m_stop.load() != Stop::None);
        if (m_wakeup)
            m_wakeup();
    }
    m_wake.notify_all();
}

std::function<void()> UploadControl::setWakeup(std::function<void()> wake)
{
    std::lock_guard lock(m_mutex);
    return std::exchange(m_wakeup, std::move(wake));
}

void UploadControl::clearStop()
{
    std::lock_guard lock(m_mutex);
    m_stop.store(Stop::None);
    m_stopFlag.store(false);
}

bool UploadControl::waitFor(std::chrono::milliseconds d)
{
    std::unique_lock lock(m_mutex);
    return m_wake.wait_for(lock, d, [this] { return m_stop.load() != Stop::None; });
}

std::chrono::milliseconds RemoteLimits::totalFor(qint64 bytes) const
{
    const qint64 speed = std::max<qint64>(1, minBytesPerSecond);
    return minTotal + std::chrono::milliseconds(bytes / speed * 1000 + (bytes % speed) * 1000 / speed);
}

Result<std::unique_ptr<Remote>> Remote::create(const RemoteProfile &profile, const QString &secret,
                                               const RemoteLimits &limits)
{
    using R = Result<std::unique_ptr<Remote>>;
    if (auto e = profile.validationError())
        return R::failure(*e);
    std::unique_ptr<Remote> remote;
    switch (profile.kind) {
    case RemoteKind::Local:
        remote = std::make_unique<LocalRemote>(profile, limits);
        break;
    case RemoteKind::WebDav:
    case RemoteKind::Http: {
        net::Client client(profile, secret, limits);
        QString probe = profile.url;
        probe.replace(QLatin1String("{collection}"), QLatin1String("c"));
        probe.replace(QLatin1String("{base}"), QString());
        if (auto e = client.securityError(QUrl(probe)))
            return R::failure(e->message);
        if (profile.kind == RemoteKind::WebDav)
            remote = std::make_unique<WebDavRemote>(profile, secret, limits);
        else
            remote = std::make_unique<HttpRemote>(profile, secret, limits);
        break;
    }
    case RemoteKind::S3:
        remote = std::make_unique<S3Remote>(profile, secret, limits);
        break;
    }
    return R(std::move(remote));
}

void Remote::discardPartial(const UploadItem &, UploadControl &) {}

QString collisionName(const QString &name, int n)
{
    if (n <= 1)
        return name;
    const qsizetype dot = name.lastIndexOf(QLatin1Char('.'));
    const QString suffix = QStringLiteral(" (%1)").arg(n);
    // No extension, or a leading dot only (".bashrc"): append.
    if (dot <= 0)
        return name + suffix;
    return name.left(dot) + suffix + name.mid(dot);
}

QString safeFileName(const QString &name)
{
    QString out = name;
    for (QChar &c : out) {
        if (c == QLatin1Char('/') || c == QLatin1Char('\\') || c.unicode() < 0x20 || c.unicode() == 0x7f)
            c = QLatin1Char('_');
    }
    if (out.isEmpty() || out == QLatin1String(".") || out == QLatin1String(".."))
        return QStringLiteral("_");
    return out;
}

QString windowsSafeFileName(const QString &name)
{
    QString out = safeFileName(name);
    for (QChar &c : out) {
        if (QStringView(u"<>:\"|?*").contains(c))
            c = QLatin1Char('_');
    }
    for (qsizetype i = out.size() - 1; i >= 0 && (out.at(i) == QLatin1Char('.') || out.at(i) == QLatin1Char(' ')); --i)
        out[i] = QLatin1Char('_');
    // "CON", "con.txt", "COM1.tar.gz": the part before the first dot names a device. Windows
    // reads the superscript digits ¹ ² ³ as digits there too ("LPT³.txt" is a device).
    static const QStringList kDevices = {QStringLiteral("CON"), QStringLiteral("PRN"), QStringLiteral("AUX"),
                                         QStringLiteral("NUL")};
    const QString stem = out.section(QLatin1Char('.'), 0, 0).trimmed().toUpper();
    const bool numbered = stem.size() == 4 && (stem.startsWith(QLatin1String("COM")) || stem.startsWith(QLatin1String("LPT")))
                          && QStringView(u"0123456789\u00b9\u00b2\u00b3").contains(stem.at(3));
    if (kDevices.contains(stem) || numbered) {
        const qsizetype dot = out.indexOf(QLatin1Char('.'));
        out.insert(dot < 0 ? out.size() : dot, QLatin1Char('_'));
    }
    return out;
}

QString httpStatusDescription(int status)
{
    // The reason phrase is HTTP's own; what it means for an upload is translated.
    struct Entry { int code; const char *reason; const char *meaning; };
    static constexpr Entry kTable[] = {
        {301, "Moved Permanently", QT_TRANSLATE_NOOP("quire::Remote", "the remote's address changed")},
        {302, "Found", QT_TRANSLATE_NOOP("quire::Remote", "the server redirects elsewhere")},
        {307, "Temporary Redirect", QT_TRANSLATE_NOOP("quire::Remote", "the server redirects elsewhere")},
        {308, "Permanent Redirect", QT_TRANSLATE_NOOP("quire::Remote", "the remote's address changed")},
        {400, "Bad Request", QT_TRANSLATE_NOOP("quire::Remote", "the server did not understand the request")},
        {401, "Unauthorized", QT_TRANSLATE_NOOP("quire::Remote", "the server did not accept the credentials")},
        {403, "Forbidden", QT_TRANSLATE_NOOP("quire::Remote", "this account may not write there")},
        {404, "Not Found", QT_TRANSLATE_NOOP("quire::Remote", "the remote folder or address does not exist")},
        {405, "Method Not Allowed", QT_TRANSLATE_NOOP("quire::Remote", "the server does not allow this kind of upload there")},
        {408, "Request Timeout", QT_TRANSLATE_NOOP("quire::Remote", "the server gave up waiting for the upload")},
        {409, "Conflict", QT_TRANSLATE_NOOP("quire::Remote", "the parent folder does not exist on the server")},
        {411, "Length Required", QT_TRANSLATE_NOOP("quire::Remote", "the server wants the upload's size in advance")},
        {412, "Precondition Failed", QT_TRANSLATE_NOOP("quire::Remote", "the file changed on the server or already exists")},
        {413, "Content Too Large", QT_TRANSLATE_NOOP("quire::Remote", "the file is larger than the server accepts")},
        {414, "URI Too Long", QT_TRANSLATE_NOOP("quire::Remote", "the file or folder name is too long for the server")},
        {415, "Unsupported Media Type", QT_TRANSLATE_NOOP("quire::Remote", "the server does not accept this kind of file")},
        {416, "Range Not Satisfiable", QT_TRANSLATE_NOOP("quire::Remote", "the server rejected a resumed upload")},
        {423, "Locked", QT_TRANSLATE_NOOP("quire::Remote", "the file or folder is locked on the server")},
        {424, "Failed Dependency", QT_TRANSLATE_NOOP("quire::Remote", "an earlier step failed on the server")},
        {425, "Too Early", QT_TRANSLATE_NOOP("quire::Remote", "the server wants the request sent again later")},
        {429, "Too Many Requests", QT_TRANSLATE_NOOP("quire::Remote", "the server asks to slow down")},
        {500, "Internal Server Error", QT_TRANSLATE_NOOP("quire::Remote", "the server failed")},
        {501, "Not Implemented", QT_TRANSLATE_NOOP("quire::Remote", "the server does not support this request")},
        {502, "Bad Gateway", QT_TRANSLATE_NOOP("quire::Remote", "a server in between got no valid answer")},
        {503, "Service Unavailable", QT_TRANSLATE_NOOP("quire::Remote", "the server is busy or down for maintenance")},
        {504, "Gateway Timeout", QT_TRANSLATE_NOOP("quire::Remote", "a server in between gave up waiting")},
        {505, "HTTP Version Not Supported", QT_TRANSLATE_NOOP("quire::Remote", "the server does not speak this HTTP version")},
        {507, "Insufficient Storage", QT_TRANSLATE_NOOP("quire::Remote", "the server is out of space")},
        {508, "Loop Detected", QT_TRANSLATE_NOOP("quire::Remote", "the server found a loop in its folders")},
    };
    for (const Entry &e : kTable) {
        if (e.code == status)
            return QStringLiteral("%1 %2: %3").arg(QString::number(status), QLatin1String(e.reason), Tr::tr(e.meaning));
    }
    return {};
}

QString serverText(const QByteArray &body, const QByteArray &contentType, int maxChars)
{
    if (body.isEmpty())
        return {};
    QString text = QString::fromUtf8(body.left(64 * 1024));
    const bool looksHtml = contentType.contains("html") || text.contains(QLatin1String("<html"), Qt::CaseInsensitive)
                           || text.contains(QLatin1String("<body"), Qt::CaseInsensitive);
    const bool looksXml = contentType.contains("xml") || text.startsWith(QLatin1String("<?xml"));
    if (looksHtml || looksXml) {
        static const QRegularExpression kTitle(QStringLiteral("<title>.*?</title>"),
                                               QRegularExpression::CaseInsensitiveOption
                                                   | QRegularExpression::DotMatchesEverythingOption);
        static const QRegularExpression kHead(QStringLiteral("<h1>.*?</h1>"),
                                              QRegularExpression::CaseInsensitiveOption
                                                  | QRegularExpression::DotMatchesEverythingOption);
        static const QRegularExpression kScript(QStringLiteral("<(script|style)\\b.*?</\\1>"),
                                                QRegularExpression::CaseInsensitiveOption
                                                    | QRegularExpression::DotMatchesEverythingOption);
        static const QRegularExpression kTag(QStringLiteral("<[^>]*>"));
        text.remove(kScript);
        // Apache's error pages repeat the status in <title> and <h1>; the <p> says what happened.
        if (looksHtml) {
            text.remove(kTitle);
            text.remove(kHead);
        }
        text.remove(kTag);
        text.replace(QLatin1String("&lt;"), QLatin1String("<"));
        text.replace(QLatin1String("&gt;"), QLatin1String(">"));
        text.replace(QLatin1String("&quot;"), QLatin1String("\""));
        text.replace(QLatin1String("&#39;"), QLatin1String("'"));
        text.replace(QLatin1String("&amp;"), QLatin1String("&"));
    }
    text = text.simplified();
    if (text.size() > maxChars)
        text = text.left(maxChars).trimmed() + QStringLiteral("...");
    return text;
}

QString httpErrorMessage(int status, const QByteArray &reasonPhrase, const QByteArray &body,
                         const QByteArray &contentType)
{
    QString known = httpStatusDescription(status);
    if (known.isEmpty())
        known = reasonPhrase.isEmpty() ? QString::number(status)
                                       : QStringLiteral("%1 %2").arg(QString::number(status), QString::fromUtf8(reasonPhrase));
    const QString said = serverText(body, contentType);
    return said.isEmpty() ? Tr::tr("HTTP %1").arg(known) : Tr::tr("HTTP %1 (server said: %2)").arg(known, said);
}

std::optional<std::chrono::milliseconds> parseRetryAfter(const QByteArray &value,
                                                         const QDateTime &nowUtc)
{
    const QByteArray v = value.trimmed();
    if (v.isEmpty())
        return std::nullopt;
    bool isNumber = false;
    const qint64 seconds = v.toLongLong(&isNumber);
    if (isNumber)
        return seconds < 0 ? std::nullopt
                           : std::optional(std::chrono::milliseconds(std::min<qint64>(seconds, 86'400 * 7) * 1000));

    QString text = QString::fromLatin1(v).simplified();
    // The weekday is redundant, and Qt rejects a date whose weekday does not match (which two-digit
    // RFC 850 years make likely): drop it.
    if (const qsizetype comma = text.indexOf(QLatin1Char(',')); comma > 0)
        text = text.mid(comma + 1).trimmed();
    else if (const qsizetype space = text.indexOf(QLatin1Char(' ')); space > 0)
        text = text.mid(space + 1);
    const QLocale c = QLocale::c();
    QDateTime when;
    // IMF-fixdate, then the two obsolete forms RFC 9110 still asks recipients to accept.
    for (const QString &format : {QStringLiteral("dd MMM yyyy HH:mm:ss 'GMT'"),
                                  QStringLiteral("dd-MMM-yy HH:mm:ss 'GMT'"),
                                  QStringLiteral("MMM d HH:mm:ss yyyy")}) {
        when = c.toDateTime(text, format);
        if (when.isValid())
            break;
    }
    if (!when.isValid())
        return std::nullopt;
    if (when.date().year() < 1970)
        when = when.addYears(100);   // two-digit years (RFC 850)
    when.setTimeZone(QTimeZone::utc());
    const qint64 ms = nowUtc.msecsTo(when);
    return std::chrono::milliseconds(std::max<qint64>(0, ms));
}

QString formatBytes(qint64 bytes, const QLocale &locale)
{
    return locale.formattedDataSize(bytes, bytes < 1024 * 1024 ? 0 : 1, QLocale::DataSizeIecFormat);
}

} // namespace quire
