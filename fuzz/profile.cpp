// Remote profiles (remoteprofile.h) as the settings file keeps them (a JSON object: kind, url,
// user, options), or a bare URL typed for a remote of each kind. Checked: what validation lets
// through makes a remote and the URLs it sends to; a URL shown to people carries no password;
// a profile survives being stored and read back.

#include "fuzzsupport.h"
#include "remotes/remote.h"
#include "remotes/remotehttp.h"
#include "remotes/remotes3.h"
#include "remotes/remotewebdav.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace {

using namespace quire;

const QString kCollection = QStringLiteral("Reports 2024");
const QString kName = QStringLiteral("report #1?.pdf");

void checkProfile(const RemoteProfile &p)
{
    const auto problem = p.validationError();
    if (RemoteProfile::nameError(p.name))
        FUZZ_CHECK(problem.has_value(), p.name);
    for (auto it = p.options.cbegin(); it != p.options.cend(); ++it) {
        if (it.key().contains(QLatin1String("password"), Qt::CaseInsensitive))
            FUZZ_CHECK(problem.has_value(), it.key());   // secrets belong in the keychain
    }

    const QString shown = p.displayUrl();
    if (p.kind != RemoteKind::Local && QUrl(p.url).isValid())
        FUZZ_CHECK(QUrl(shown).password().isEmpty(), shown);
    (void)p.needsSecret();
    (void)p.limitRate();
    (void)p.trustedCertificate();
    (void)p.caFile();
    (void)p.bucket();
    (void)p.pathStyle();
    const QString prefix = p.keyPrefix();
    FUZZ_CHECK(prefix.isEmpty() || (prefix.endsWith(QLatin1Char('/')) && !prefix.startsWith(QLatin1Char('/'))), prefix);

    const auto back = RemoteProfile::fromVariantMap(p.name, p.toVariantMap());
    FUZZ_CHECK(back.ok(), back.error());
    FUZZ_CHECK(back->kind == p.kind && back->url == p.url && back->user == p.user && back->options == p.options,
               p.url);

    if (problem)
        return;
    FUZZ_CHECK(!p.url.trimmed().isEmpty(), p.url);
    const auto remote = Remote::create(p, QStringLiteral("secret"));
    if (!remote)
        return;   // e.g. Basic auth over plain http: refused, with a reason
    if (const auto *http = dynamic_cast<const HttpRemote *>(remote->get())) {
        const QUrl url = http->documentsUrl(kCollection);
        FUZZ_CHECK(url.isValid() && !url.isRelative(), url.toString());
        FUZZ_CHECK(url.toEncoded().contains("Reports%202024"), url.toString());
    } else if (const auto *dav = dynamic_cast<const WebDavRemote *>(remote->get())) {
        const QUrl url = dav->fileUrl(kCollection, kName);
        FUZZ_CHECK(url.isValid() && !url.isRelative(), url.toString());
        FUZZ_CHECK(url.path(QUrl::FullyEncoded).endsWith(QLatin1String("/Reports%202024/report%20%231%3F.pdf")),
                   url.toString());
    } else if (const auto *s3 = dynamic_cast<const S3Remote *>(remote->get())) {
        const QByteArray key = s3->objectKey(kCollection, kName);
        FUZZ_CHECK(key.endsWith("Reports 2024/report #1?.pdf"), QString::fromUtf8(key));
        const QUrl url = s3->objectUrl(key);
        FUZZ_CHECK(url.isValid() && !url.isRelative() && !url.hasQuery() && !url.hasFragment(), url.toString());
    }
}

} // namespace

QUIRE_FUZZ_TARGET(profile)(const uint8_t *data, size_t size)
{
    quire::fuzz::init();
    const QByteArray input = quire::fuzz::bytes(data, size);
    const QJsonDocument doc = QJsonDocument::fromJson(input);
    if (doc.isObject()) {
        const QVariantMap map = doc.object().toVariantMap();
        QString name = map.value(QStringLiteral("name")).toString();
        if (name.isEmpty())
            name = QStringLiteral("fuzz");
        const auto p = RemoteProfile::fromVariantMap(name, map);
        if (p)
            checkProfile(*p);
        else
            FUZZ_CHECK(!p.error().isEmpty(), QString());
        return 0;
    }
    // Not JSON: the URL of a remote of each kind, as `quire remote add --url` takes it.
    const auto [line, rest] = quire::fuzz::splitLine(input);
    for (const RemoteKind kind : {RemoteKind::Local, RemoteKind::WebDav, RemoteKind::Http, RemoteKind::S3}) {
        RemoteProfile p;
        p.name = QStringLiteral("fuzz");
        p.kind = kind;
        p.url = QString::fromUtf8(line);
        p.user = QString::fromUtf8(rest.left(64));
        if (kind == RemoteKind::S3) {
            p.options.insert(QStringLiteral("bucket"), QStringLiteral("photos"));
            p.options.insert(QStringLiteral("prefix"), QString::fromUtf8(rest.mid(64)));
        }
        checkProfile(p);
    }
    return 0;
}
