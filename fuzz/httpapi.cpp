// The HTTP collections API remote (remotehttp.h): the JSON answers it reads (an error's text,
// where a document was stored) and the URL it posts to for a collection name.
// Input: a first line (a Location header, and a collection name) and the rest (a JSON body).

#include "fuzzsupport.h"
#include "net/http.h"
#include "remotes/remotehttp.h"

#include <memory>

namespace {

using namespace quire;

const QUrl kDocuments = QUrl::fromEncoded("https://api.example/v1/collections/Reports%202024/documents");

const HttpRemote &remote(const char *url)
{
    RemoteProfile p;
    p.name = QStringLiteral("api");
    p.kind = RemoteKind::Http;
    p.url = QString::fromLatin1(url);
    return *new HttpRemote(p, QString(), RemoteLimits());   // one per process, never freed
}

void checkAnswers(const QByteArray &line, const QByteArray &body)
{
    (void)httpapi::errorText(body);
    (void)httpapi::storedLocation(body, QByteArray(), kDocuments);
    const QString fromHeader = httpapi::storedLocation(QByteArray(), line, kDocuments);
    if (line.startsWith('/') && fromHeader != QString::fromUtf8(line)) {
        // A path (or "//host/path") is resolved into an absolute URL of the API's scheme.
        const QUrl resolved(fromHeader, QUrl::StrictMode);
        FUZZ_CHECK(resolved.isValid() && resolved.scheme() == QLatin1String("https"), fromHeader);
    }
}

// The collection is one path segment of the URL, whatever it holds.
void checkCollection(const QString &collection)
{
    static const HttpRemote &plain = remote("https://api.example/v1/");
    static const HttpRemote &templated = remote("https://api.example/c/{collection}/docs?for={collection}");
    const bool refused = collection.isEmpty() || collection == QLatin1String(".") || collection == QLatin1String("..");
    const QString segment = QString::fromLatin1(net::encodeSegment(collection));

    const QUrl url = plain.documentsUrl(collection);
    FUZZ_CHECK(url.isEmpty() == refused, url.toString());
    if (refused)
        return;
    FUZZ_CHECK(url.isValid(), url.errorString());
    FUZZ_CHECK(url.path(QUrl::FullyEncoded) == QLatin1String("/v1/collections/") + segment + QLatin1String("/documents"),
               url.path(QUrl::FullyEncoded));
    FUZZ_CHECK(!url.hasQuery() && !url.hasFragment(), url.toString());
    // What curl is given: the same path, nothing decoded that would split it.
    const QByteArray sent = url.toEncoded(QUrl::RemoveFragment | QUrl::RemoveUserInfo);
    FUZZ_CHECK(sent == "https://api.example/v1/collections/" + segment.toLatin1() + "/documents", QString::fromLatin1(sent));

    const QUrl t = templated.documentsUrl(collection);
    FUZZ_CHECK(t.path(QUrl::FullyEncoded) == QLatin1String("/c/") + segment + QLatin1String("/docs"), t.toString());
    FUZZ_CHECK(t.query(QUrl::FullyEncoded) == QLatin1String("for=") + segment, t.toString());
}

} // namespace

QUIRE_FUZZ_TARGET(httpapi)(const uint8_t *data, size_t size)
{
    quire::fuzz::init();
    const auto [line, body] = quire::fuzz::splitLine(quire::fuzz::bytes(data, size));
    checkAnswers(line, body);
    checkCollection(QString::fromUtf8(line));
    return 0;
}
