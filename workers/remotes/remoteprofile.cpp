#include "remotes/remoteprofile.h"

#include "net/ratelimit.h"
#include "net/tls.h"
#include "settings/sessionstore.h"

#include <QCoreApplication>
#include <QDir>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QUrl>

#include <algorithm>

namespace quire {

namespace {

// The translation context of the messages below (RemoteProfile is no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::RemoteProfile)
};

const QString kPrefix = QStringLiteral("settings/remotes/");

bool optionIsTrue(const QVariantMap &options, const QString &key)
{
    const QVariant v = options.value(key);
    if (v.typeId() == QMetaType::QString) {
        const QString s = v.toString().trimmed().toLower();
        return s == QLatin1String("true") || s == QLatin1String("1") || s == QLatin1String("yes");
    }
    return v.toBool();
}

} // namespace

QString remoteKindName(RemoteKind kind)
{
    switch (kind) {
    case RemoteKind::Local: return QStringLiteral("local");
    case RemoteKind::WebDav: return QStringLiteral("webdav");
    case RemoteKind::Http: return QStringLiteral("http");
    case RemoteKind::S3: return QStringLiteral("s3");
    }
    return {};
}

std::optional<RemoteKind> remoteKindFromName(QStringView name)
{
    for (RemoteKind k : {RemoteKind::Local, RemoteKind::WebDav, RemoteKind::Http, RemoteKind::S3}) {
        if (name.compare(remoteKindName(k), Qt::CaseInsensitive) == 0)
            return k;
    }
    return std::nullopt;
}

bool RemoteProfile::allowInsecureAuth() const
{
    return optionIsTrue(options, QStringLiteral("allowInsecureAuth"));
}

bool RemoteProfile::resumeEnabled() const
{
    return options.value(QStringLiteral("resume")).toString().compare(QLatin1String("off"),
                                                                      Qt::CaseInsensitive) != 0;
}

bool RemoteProfile::usesBearerToken() const
{
    return optionIsTrue(options, QStringLiteral("bearer"));
}

QString RemoteProfile::caFile() const
{
    return options.value(QStringLiteral("caFile")).toString();
}

QString RemoteProfile::trustedCertificate() const
{
    return QString::fromLatin1(net::normalizeFingerprint(options.value(QStringLiteral("trustedCertificate")).toString())
                                   .value_or(QByteArray()));
}

qint64 RemoteProfile::limitRate() const
{
    const QVariant v = options.value(QStringLiteral("limitRate"));
    if (!v.isValid())
        return 0;
    return net::parseRate(v.toString()).value_or(0);
}

QString RemoteProfile::bucket() const
{
    return options.value(QStringLiteral("bucket")).toString().trimmed();
}

QString RemoteProfile::keyPrefix() const
{
    QString p = options.value(QStringLiteral("prefix")).toString();
    while (p.startsWith(QLatin1Char('/')))
        p.remove(0, 1);
    if (!p.isEmpty() && !p.endsWith(QLatin1Char('/')))
        p += QLatin1Char('/');
    return p;
}

QString RemoteProfile::region() const
{
    const QString r = options.value(QStringLiteral("region")).toString().trimmed();
    if (!r.isEmpty())
        return r;
    // s3.<region>.amazonaws.com, s3-<region>.amazonaws.com, s3.dualstack.<region>.amazonaws.com
    static const QRegularExpression aws(QStringLiteral(
        "^(?:.+\\.)?s3[.-](?:dualstack\\.)?([a-z]{2}(?:-[a-z]+)+-\\d+)\\.amazonaws\\.com$"));
    const auto m = aws.match(QUrl(url).host().toLower());
    return m.hasMatch() ? m.captured(1) : QStringLiteral("us-east-1");
}

bool RemoteProfile::pathStyle() const
{
    return optionIsTrue(options, QStringLiteral("pathStyle"));
}

bool RemoteProfile::needsSecret() const
{
    return kind != RemoteKind::Local && (!user.isEmpty() || usesBearerToken());
}

QVariantMap RemoteProfile::toVariantMap() const
{
    QVariantMap m;
    m.insert(QStringLiteral("kind"), remoteKindName(kind));
    m.insert(QStringLiteral("url"), url);
    if (!user.isEmpty())
        m.insert(QStringLiteral("user"), user);
    if (!options.isEmpty())
        m.insert(QStringLiteral("options"), options);
    return m;
}

Result<RemoteProfile> RemoteProfile::fromVariantMap(const QString &name, const QVariantMap &map)
{
    RemoteProfile p;
    p.name = name;
    const QString kindText = map.value(QStringLiteral("kind")).toString();
    const auto kind = remoteKindFromName(kindText);
    if (!kind) {
        return Result<RemoteProfile>::failure(
            Tr::tr("remote \"%1\": unknown kind \"%2\" (expected local, webdav, http or s3)")
                .arg(name, kindText));
    }
    p.kind = *kind;
    p.url = map.value(QStringLiteral("url")).toString();
    p.user = map.value(QStringLiteral("user")).toString();
    p.options = map.value(QStringLiteral("options")).toMap();
    return p;
}

std::optional<QString> RemoteProfile::nameError(const QString &name)
{
    if (name.isEmpty())
        return Tr::tr("a remote needs a name");
    if (name.size() > 64)
        return Tr::tr("a remote name has at most 64 characters");
    if (name.startsWith(QLatin1Char('.')))
        return Tr::tr("a remote name cannot start with '.'");
    const bool ok = std::all_of(name.begin(), name.end(), [](QChar c) {
        return (c.unicode() < 128 && c.isLetterOrNumber()) || c == QLatin1Char('.')
               || c == QLatin1Char('_') || c == QLatin1Char('-');
    });
    if (!ok) {
        return Tr::tr("remote name \"%1\": use only letters, digits, '.', '_' and '-'")
            .arg(name);
    }
    return std::nullopt;
}

std::optional<QString> RemoteProfile::validationError() const
{
    if (auto e = nameError(name))
        return e;
    // Secrets belong in the keychain; a profile ends up in a plain settings file.
    for (auto it = options.cbegin(); it != options.cend(); ++it) {
        const QString k = it.key().toLower();
        if (k.contains(QLatin1String("password")) || k.contains(QLatin1String("secret"))
            || k.contains(QLatin1String("token")) || k == QLatin1String("pass")) {
            return Tr::tr("remote \"%1\": option \"%2\" looks like a secret; secrets are "
                          "kept in the keychain, never in a remote profile")
                .arg(name, it.key());
        }
    }
    if (url.trimmed().isEmpty())
        return Tr::tr("remote \"%1\" needs a URL (--url)").arg(name);

    if (kind == RemoteKind::Local) {
        const QUrl u(url);
        const QString path = u.isLocalFile() ? u.toLocalFile() : url;
        if (!QDir::isAbsolutePath(path))
            return Tr::tr("remote \"%1\": a local remote needs an absolute folder path")
                .arg(name);
        return std::nullopt;
    }

    // Templates may contain "{collection}", which QUrl would reject in strict mode. ("{base}"
    // is how the documentation writes the URL itself: nothing replaces it in a URL.)
    const QString kSlot = QStringLiteral("quirecollectionslot");   // survives a host's lower-casing
    QString probe = url;
    probe.replace(QLatin1String("{collection}"), kSlot);
    const QUrl u(probe, QUrl::StrictMode);
    if (!u.isValid() || u.host().isEmpty()
        || (u.scheme() != QLatin1String("http") && u.scheme() != QLatin1String("https"))) {
        return Tr::tr("remote \"%1\": the URL must start with http:// or https:// and name "
                      "a host (got \"%2\")")
            .arg(name, displayUrl());
    }
    if (kind == RemoteKind::Http && (u.authority().contains(kSlot) || u.fragment().contains(kSlot))) {
        // The API's URL is made per collection by putting the encoded name in its path or query;
        // in the host or port there is no encoded form for it, and a fragment is never sent.
        return Tr::tr("remote \"%1\": {collection} can only stand in the URL's path or query (got \"%2\")")
            .arg(name, displayUrl());
    }
    if (kind != RemoteKind::Http) {
        // Only the HTTP API's URL is a template: the WebDAV and S3 remotes read the URL as it is
        // (tolerantly), "{collection}" in the host included.
        const QUrl asRead(url, QUrl::TolerantMode);
        if (!asRead.isValid() || asRead.host().isEmpty()) {
            return Tr::tr("remote \"%1\": the URL must start with http:// or https:// and name "
                          "a host (got \"%2\")")
                .arg(name, displayUrl());
        }
    }
    if (!u.password().isEmpty()) {
        return Tr::tr("remote \"%1\": the URL contains a password; give the user with "
                      "--user and the password when asked (it goes to the keychain)")
            .arg(name);
    }
    if (kind == RemoteKind::S3) {
        if (auto e = s3Error())
            return e;
    }
    if (const QString ca = caFile(); !ca.isEmpty() && !QDir::isAbsolutePath(ca))
        return Tr::tr("remote \"%1\": the CA file must be an absolute path (got \"%2\")").arg(name, ca);
    if (const QVariant pin = options.value(QStringLiteral("trustedCertificate"));
        pin.isValid() && !pin.toString().isEmpty() && !net::normalizeFingerprint(pin.toString())) {
        return Tr::tr("remote \"%1\": the trusted certificate must be a SHA-256 fingerprint "
                      "(64 hexadecimal digits, colons optional)").arg(name);
    }
    if (const QVariant rate = options.value(QStringLiteral("limitRate"));
        rate.isValid() && !rate.toString().isEmpty() && !net::parseRate(rate.toString())) {
        return Tr::tr("remote \"%1\": the upload limit must be a rate such as 10M or 512k (got \"%2\")")
            .arg(name, rate.toString());
    }
    return std::nullopt;
}

std::optional<QString> RemoteProfile::s3Error() const
{
    // Bucket names: the rules every S3 implementation accepts (AWS's, with the legacy upper case
    // and '_' of old us-east-1 buckets and some other services allowed).
    static const QRegularExpression bucketRe(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$"));
    const QString b = bucket();
    if (b.isEmpty())
        return Tr::tr("remote \"%1\": an S3 remote needs a bucket (--bucket)").arg(name);
    if (!bucketRe.match(b).hasMatch() || b.contains(QLatin1String("..")))
        return Tr::tr("remote \"%1\": \"%2\" is not a bucket name (3-63 letters, digits, '.', '_' "
                      "and '-', starting and ending with a letter or digit)").arg(name, b);
    static const QRegularExpression regionRe(QStringLiteral("^[a-z0-9][a-z0-9-]{0,62}$"));
    if (!regionRe.match(region()).hasMatch())
        return Tr::tr("remote \"%1\": \"%2\" is not a region name (such as eu-west-1)").arg(name, region());
    const QString prefix = keyPrefix();
    if (prefix.toUtf8().size() > 512)
        return Tr::tr("remote \"%1\": the key prefix is longer than 512 bytes").arg(name);
    for (const QString &part : prefix.split(QLatin1Char('/'), Qt::SkipEmptyParts)) {
        if (part == QLatin1String(".") || part == QLatin1String(".."))
            return Tr::tr("remote \"%1\": the key prefix cannot contain \".\" or \"..\"").arg(name);
    }
    for (QChar c : prefix) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f || c == QLatin1Char('\\'))
            return Tr::tr("remote \"%1\": the key prefix cannot contain control characters or '\\'").arg(name);
    }
    if (user.isEmpty())
        return Tr::tr("remote \"%1\": an S3 remote needs an access key id (--user)").arg(name);
    const QUrl u(url);
    if (!u.path().isEmpty() && u.path() != QLatin1String("/"))
        return Tr::tr("remote \"%1\": give the S3 endpoint without a path (%2); the bucket "
                      "goes in --bucket, a folder in --prefix").arg(name, displayUrl());
    return std::nullopt;
}

QString RemoteProfile::displayUrl() const
{
    if (kind == RemoteKind::Local)
        return url;
    QUrl u(url);
    if (!u.isValid())
        return url;
    u.setPassword(QString());
    return u.toString(QUrl::RemovePassword);
}

QString RemoteProfile::defaultLocalName()
{
    return QStringLiteral("local");
}

QString RemoteProfile::defaultLocalFolder()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)
           + QStringLiteral("/remote");
}

RemoteProfile RemoteProfile::defaultLocal()
{
    RemoteProfile p;
    p.name = defaultLocalName();
    p.kind = RemoteKind::Local;
    p.url = defaultLocalFolder();
    return p;
}

QString RemoteProfiles::settingsKey(const QString &name)
{
    return kPrefix + name;
}

Result<QList<RemoteProfile>> RemoteProfiles::list() const
{
    const auto snap = m_store.snapshot(kPrefix);
    if (!snap)
        return Result<QList<RemoteProfile>>::failure(snap.error());
    QList<RemoteProfile> out;
    bool haveLocal = false;
    for (auto it = snap->cbegin(); it != snap->cend(); ++it) {
        const QString name = it.key().mid(kPrefix.size());
        if (name.isEmpty() || name.contains(QLatin1Char('/')))
            continue;   // not a profile (a deeper key written by someone else)
        auto p = RemoteProfile::fromVariantMap(name, it.value().toMap());
        if (!p)
            return Result<QList<RemoteProfile>>::failure(p.error());
        haveLocal = haveLocal || name == RemoteProfile::defaultLocalName();
        out.append(std::move(p).value());
    }
    if (!haveLocal)
        out.append(RemoteProfile::defaultLocal());
    std::sort(out.begin(), out.end(),
              [](const RemoteProfile &a, const RemoteProfile &b) { return a.name < b.name; });
    return out;
}

Result<std::optional<RemoteProfile>> RemoteProfiles::find(const QString &name) const
{
    using R = Result<std::optional<RemoteProfile>>;
    if (RemoteProfile::nameError(name))
        return R(std::nullopt);
    const auto v = m_store.value(settingsKey(name));
    if (!v)
        return R::failure(v.error());
    if (!v->isValid()) {
        if (name == RemoteProfile::defaultLocalName())
            return R(RemoteProfile::defaultLocal());
        return R(std::nullopt);
    }
    auto p = RemoteProfile::fromVariantMap(name, v->toMap());
    if (!p)
        return R::failure(p.error());
    return R(std::move(p).value());
}

Status RemoteProfiles::save(const RemoteProfile &profile)
{
    if (auto e = profile.validationError())
        return Status::failure(*e);
    return m_store.setValue(settingsKey(profile.name), profile.toVariantMap());
}

Status RemoteProfiles::remove(const QString &name)
{
    const auto has = m_store.contains(settingsKey(name));
    if (!has)
        return Status::failure(has.error());
    if (!*has) {
        if (name == RemoteProfile::defaultLocalName())
            return Status::failure(Tr::tr("remote \"local\" is the built-in default and "
                                          "cannot be removed"));
        return Status::failure(Tr::tr("no remote named \"%1\"").arg(name));
    }
    return m_store.remove(settingsKey(name));
}

} // namespace quire
