#include "net/http.h"

#include "net/ratelimit.h"
#include "net/tlsopenssl.h"

#include <QCoreApplication>
#include <QHostAddress>
#include <QThread>

#if defined(Q_OS_WIN) || defined(Q_OS_MACOS)
#  include <QNetworkProxyFactory>
#endif

#include <curl/curl.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <list>
#include <mutex>
#include <vector>

namespace quire::net {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The translation context of the messages below (Client is no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::HttpClient)
};

bool onGuiThread()
{
    const auto *app = QCoreApplication::instance();
    return app && QThread::currentThread() == app->thread();
}

void globalInit()
{
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Bodies from this size on are sent from a 512 KiB buffer (fewer, larger writes) instead of
// libcurl's 64 KiB.
constexpr qint64 kBigBufferFrom = 1024 * 1024;

QString durationText(milliseconds d)
{
    const qint64 s = (d.count() + 999) / 1000;
    if (s < 120)
        return Tr::tr("%1 s").arg(s);
    if (s < 7200)
        return Tr::tr("%1 min").arg((s + 59) / 60);
    return Tr::tr("%1 h").arg(QString::number(double(s) / 3600.0, 'f', 1));
}

int defaultPort(const QUrl &url)
{
    return url.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0 ? 443 : 80;
}

QString hostPort(const QUrl &url)
{
    QString host = url.host();
    if (host.contains(QLatin1Char(':')))
        host = QLatin1Char('[') + host + QLatin1Char(']');
    return QStringLiteral("%1:%2").arg(host).arg(url.port(defaultPort(url)));
}

// A header line must not be able to start another header (values can come from a server or a
// shared catalog).
bool safeHeaderPart(QByteArrayView v)
{
    return !v.contains('\r') && !v.contains('\n') && !v.contains('\0');
}

CURLcode sslContextCallback(CURL *, void *sslctx, void *userptr)
{
    // libcurl has set SSL_VERIFY_PEER; the callback only watches (and honours a pin).
    watchHandshakes(static_cast<SSL_CTX *>(sslctx), *static_cast<TlsCaptureRef *>(userptr));
    return CURLE_OK;
}

// One request in flight.
struct Transfer
{
    CURL *easy = nullptr;
    curl_slist *headerList = nullptr;
    Request rq;
    Response out;
    char errorBuffer[CURL_ERROR_SIZE] = {};
    TlsCaptureRef tls;
    const Client *client = nullptr;
    UploadControl *control = nullptr;
    std::shared_ptr<RateLimiter> remoteLimiter;
    bool withCredentials = false;
    bool insecureRefused = false;
    bool consumerAborted = false;
    bool withheld = false;            // the body device had nothing more to give before its end
    bool headersComplete = false;
    bool finished = false;
    bool paused = false;
    Clock::time_point started;
    Clock::time_point lastActivity;
    Clock::time_point resumeAt;
    curl_off_t lastUp = -1;
    curl_off_t lastDown = -1;
    qint64 bodyPos = 0;
    qint64 progressTotal = 0;

    ~Transfer()
    {
        if (easy)
            curl_easy_cleanup(easy);
        curl_slist_free_all(headerList);
    }

    qint64 grant(qint64 want)
    {
        Clock::time_point retryA{}, retryB{};
        qint64 n = RateLimiter::global().take(want, &retryA);
        if (n > 0 && remoteLimiter) {
            const qint64 m = remoteLimiter->take(n, &retryB);
            RateLimiter::global().giveBack(n - m);
            n = m;
        }
        if (n == 0)
            resumeAt = std::max(retryA, retryB);
        return n;
    }
};

size_t readCallback(char *buffer, size_t size, size_t nitems, void *userdata)
{
    auto *t = static_cast<Transfer *>(userdata);
    const qint64 left = t->out.bodySize - t->bodyPos;
    if (left <= 0)
        return 0;
    qint64 want = std::min<qint64>(left, qint64(size * nitems));
    want = t->grant(want);
    if (want == 0) {
        t->paused = true;
        return CURL_READFUNC_PAUSE;
    }
    qint64 n = 0;
    if (t->rq.body) {
        n = t->rq.body->read(buffer, want);
        if (n < 0) {
            t->errorBuffer[0] = 0;
            t->out.errorString = t->rq.body->errorString();
            return CURL_READFUNC_ABORT;
        }
        if (n == 0) {
            // Withheld (the source changed) or shorter than promised: never send a short body.
            t->withheld = true;
            return CURL_READFUNC_ABORT;
        }
    } else {
        n = want;
        std::memcpy(buffer, t->rq.bodyBytes.constData() + t->bodyPos, size_t(n));
    }
    if (n < want) {
        RateLimiter::global().giveBack(want - n);
        if (t->remoteLimiter)
            t->remoteLimiter->giveBack(want - n);
    }
    t->bodyPos += n;
    return size_t(n);
}

size_t headerCallback(char *buffer, size_t size, size_t nitems, void *userdata)
{
    auto *t = static_cast<Transfer *>(userdata);
    const size_t len = size * nitems;
    QByteArray line(buffer, qsizetype(len));
    while (line.endsWith('\n') || line.endsWith('\r'))
        line.chop(1);
    if (line.startsWith("HTTP/")) {
        // A new status line (after 100 Continue, or a new answer): start over.
        const QList<QByteArray> parts = line.split(' ');
        t->out.httpVersion = parts.value(0);
        t->out.status = parts.value(1).toInt();
        t->out.reason = parts.size() > 2 ? line.mid(line.indexOf(' ', line.indexOf(' ') + 1) + 1) : QByteArray();
        t->out.headers.clear();
        t->headersComplete = false;
    } else if (line.isEmpty()) {
        if (t->out.status >= 200)
            t->headersComplete = true;
    } else if (const qsizetype colon = line.indexOf(':'); colon > 0) {
        if (t->out.headers.size() < 1000)
            t->out.headers.append({line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
    }
    return len;
}

size_t writeCallback(char *data, size_t size, size_t nmemb, void *userdata)
{
    auto *t = static_cast<Transfer *>(userdata);
    const size_t len = size * nmemb;
    const int status = t->out.status;
    if (t->rq.onBodyData && status >= 200 && status < 300) {
        if (!t->rq.onBodyData(QByteArrayView(data, qsizetype(len)))) {
            t->consumerAborted = true;
            return 0;   // CURLE_WRITE_ERROR
        }
    } else if (t->out.body.size() < t->rq.maxBufferedBody) {
        t->out.body.append(data, qsizetype(std::min<qint64>(qint64(len), t->rq.maxBufferedBody - t->out.body.size())));
    }
    return len;
}

int progressCallback(void *clientp, curl_off_t, curl_off_t, curl_off_t, curl_off_t ulnow)
{
    auto *t = static_cast<Transfer *>(clientp);
    const qint64 sent = std::min<qint64>(qint64(ulnow), t->out.bodySize);
    if (sent != t->out.bytesSent) {
        t->out.bytesSent = sent;
        if (t->rq.onUploadProgress)
            t->rq.onUploadProgress(sent);
        else if (t->control && sent > 0 && t->progressTotal > 0)   // a document's bytes, not XML
            t->control->reportProgress(t->rq.progressOffset + sent, t->progressTotal);
    }
    return 0;
}

// Judges the resolved address before any byte of the request goes out: Basic credentials over
// plain http only to loopback, unless the remote allows it.
int prereqCallback(void *clientp, char *primaryIp, char *, int, int)
{
    auto *t = static_cast<Transfer *>(clientp);
    if (!t->withCredentials || t->rq.url.scheme() != QLatin1String("http")
        || t->client->profile().allowInsecureAuth())
        return CURL_PREREQFUNC_OK;
    QHostAddress addr;
    if (primaryIp)
        t->out.peerAddress = QString::fromLatin1(primaryIp);
    if (addr.setAddress(t->out.peerAddress) && addr.isLoopback())
        return CURL_PREREQFUNC_OK;
    t->insecureRefused = true;
    return CURL_PREREQFUNC_ABORT;
}

// This thread's multi handle: its connection cache keeps connections alive between requests.
struct ThreadMulti
{
    CURLM *multi = nullptr;
    bool busy = false;

    ThreadMulti()
    {
        globalInit();
        multi = curl_multi_init();
        curl_multi_setopt(multi, CURLMOPT_PIPELINING, long(CURLPIPE_MULTIPLEX));
        curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 16L);
    }
    ~ThreadMulti() { curl_multi_cleanup(multi); }
    Q_DISABLE_COPY(ThreadMulti)
};

thread_local ThreadMulti *t_multi = nullptr;

struct ThreadMultiHolder
{
    std::unique_ptr<ThreadMulti> owned;
    ~ThreadMultiHolder() { t_multi = nullptr; }
};

ThreadMulti &threadMulti()
{
    thread_local ThreadMultiHolder holder;
    if (!holder.owned) {
        holder.owned = std::make_unique<ThreadMulti>();
        t_multi = holder.owned.get();
    }
    return *holder.owned;
}

Response::Failure failureFor(CURLcode code)
{
    using F = Response::Failure;
    switch (code) {
    case CURLE_OK: return F::None;
    case CURLE_COULDNT_CONNECT: return F::ConnectionRefused;
    case CURLE_COULDNT_RESOLVE_HOST: return F::HostNotFound;
    case CURLE_OPERATION_TIMEDOUT: return F::ConnectTimeout;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_PROXY: return F::ProxyFailed;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE: return F::Tls;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return F::BadRequest;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY: return F::ConnectionBroken;
    default: return F::Other;
    }
}

} // namespace

QByteArray Response::header(QByteArrayView name) const
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

void initLibraries()
{
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
    globalInit();
}

bool isLoopbackHost(const QString &host)
{
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0
        || host.endsWith(QLatin1String(".localhost"), Qt::CaseInsensitive))
        return true;
    QHostAddress addr;
    return addr.setAddress(host) && addr.isLoopback();
}

QByteArray encodeSegment(const QString &segment)
{
    // toPercentEncoding escapes everything but the unreserved characters: exactly what a
    // path segment needs to survive every server (and '%' itself is escaped as %25).
    return QUrl::toPercentEncoding(segment);
}

QUrl childUrl(const QUrl &base, const QList<QString> &segments, bool trailingSlash)
{
    QByteArray s = base.toEncoded(QUrl::RemoveQuery | QUrl::RemoveFragment);
    if (!s.endsWith('/'))
        s += '/';
    for (qsizetype i = 0; i < segments.size(); ++i) {
        s += encodeSegment(segments.at(i));
        if (i + 1 < segments.size() || trailingSlash)
            s += '/';
    }
    return QUrl::fromEncoded(s, QUrl::StrictMode);
}

QString curlVersion()
{
    return QString::fromLatin1(curl_version());
}

// --- Client ------------------------------------------------------------------------------------

Client::Client(const RemoteProfile &profile, const QString &secret, const RemoteLimits &limits)
    : m_profile(profile), m_limits(limits), m_trust(TlsTrust::fromProfile(profile))
{
    if (profile.usesBearerToken() && !secret.isEmpty())
        m_authorization = "Bearer " + secret.toUtf8();
    else if (!profile.user.isEmpty())
        m_authorization = "Basic " + (profile.user + QLatin1Char(':') + secret).toUtf8().toBase64();
    QString url = profile.url;
    url.replace(QLatin1String("{collection}"), QLatin1String("c"));
    const QUrl parsed(url, QUrl::TolerantMode);
    m_origin.setScheme(parsed.scheme().toLower());
    m_origin.setHost(parsed.host());
    m_origin.setPort(parsed.port(defaultPort(parsed)));
    if (m_limits.sendRate <= 0)
        m_limits.sendRate = profile.limitRate();
    if (limits.globalSendRate >= 0)
        RateLimiter::global().setRate(limits.globalSendRate);
}

bool Client::sameOrigin(const QUrl &url) const
{
    return url.scheme().compare(m_origin.scheme(), Qt::CaseInsensitive) == 0
           && url.host().compare(m_origin.host(), Qt::CaseInsensitive) == 0
           && url.port(defaultPort(url)) == m_origin.port();
}

std::optional<RemoteError> Client::securityError(const QUrl &url) const
{
    if (m_authorization.isEmpty() || url.scheme() != QLatin1String("http")
        || isLoopbackHost(url.host()) || m_profile.allowInsecureAuth())
        return std::nullopt;
    return RemoteError::make(
        RemoteError::Kind::Refused,
        Tr::tr("refusing to send the password of remote \"%1\" unencrypted over http:// "
               "to %2: use an https:// URL, or allow it explicitly for this remote "
               "(quire remote add %1 ... --allow-insecure-auth)")
            .arg(m_profile.name, url.host()));
}

Response Client::send(Request rq, UploadControl *control,
                      const std::function<std::optional<RemoteError>()> &check) const
{
    std::optional<Request> one = std::move(rq);
    Response result;
    sendParallel(
        1, [&]() -> std::optional<Request> { return std::exchange(one, std::nullopt); },
        [&](const Response &r) {
            result = r;
            return true;
        },
        control, check);
    return result;
}

void Client::sendParallel(int lanes, const std::function<std::optional<Request>()> &next,
                          const std::function<bool(const Response &)> &done, UploadControl *control,
                          const std::function<std::optional<RemoteError>()> &check) const
{
    Q_ASSERT_X(!onGuiThread(), "quire::net::Client",
               "network remotes block: call them on a worker thread, never the GUI thread");
    // A nested call (from a done() callback) gets a multi handle of its own, so that it never
    // reads the outer call's completions.
    ThreadMulti &shared = threadMulti();
    std::unique_ptr<ThreadMulti> nested;
    if (shared.busy)
        nested = std::make_unique<ThreadMulti>();
    ThreadMulti &tm = nested ? *nested : shared;
    tm.busy = true;
    CURLM *multi = tm.multi;

    std::shared_ptr<RateLimiter> remoteLimiter;
    if (m_limits.sendRate > 0)
        remoteLimiter = RateLimiter::forRemote(m_profile.name, m_limits.sendRate);

    std::list<Transfer> running;
    bool stopping = false;

    std::function<void()> previousWakeup;
    if (control)
        previousWakeup = control->setWakeup([multi] { curl_multi_wakeup(multi); });

    auto finalize = [&](Transfer &t, CURLcode code) {
        t.finished = true;
        curl_multi_remove_handle(multi, t.easy);
        Response &out = t.out;
        if (t.tls)
            out.tls = t.tls->report;   // empty when this transfer reused a connection
        curl_off_t up = 0;
        curl_easy_getinfo(t.easy, CURLINFO_SIZE_UPLOAD_T, &up);
        out.bytesSent = std::min<qint64>(qint64(up), out.bodySize);
        if (out.end != Response::End::Finished)
            return;   // aborted by us: end says why
        if (t.consumerAborted) {
            out.end = Response::End::CheckFailed;
            return;
        }
        if (t.withheld) {
            out.end = Response::End::CheckFailed;
            out.checkError = check ? check() : std::nullopt;
            if (!out.checkError) {
                out.checkError = RemoteError::make(RemoteError::Kind::SourceChanged,
                                                   Tr::tr("the file changed while it was being uploaded"));
            }
            return;
        }
        if (code == CURLE_OK) {
            long status = 0;
            curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
            out.status = int(status);
            return;
        }
        // What arrived before the error may be the whole answer (a refusal sent before the body
        // was read, followed by a reset).
        if (!t.headersComplete)
            out.status = 0;
        out.failure = t.insecureRefused ? Response::Failure::InsecureCredentials : failureFor(code);
        if (out.errorString.isEmpty()) {
            out.errorString = QString::fromUtf8(t.errorBuffer).trimmed();
            if (out.errorString.isEmpty())
                out.errorString = QString::fromUtf8(curl_easy_strerror(code));
        }
    };

    auto abortOne = [&](Transfer &t, Response::End why, const std::optional<RemoteError> &error = {}) {
        if (t.finished)
            return;
        t.out.end = why;
        if (error)
            t.out.checkError = error;
        finalize(t, CURLE_ABORTED_BY_CALLBACK);
    };
    auto abortAll = [&](Response::End why, const std::optional<RemoteError> &error = {}) {
        stopping = true;
        for (Transfer &t : running)
            abortOne(t, why, error);
    };

    auto setup = [&](Transfer &t) -> bool {
        Request &rq = t.rq;
        Response &out = t.out;
        out.url = rq.url;
        out.tag = rq.tag;
        out.bodySize = rq.body ? rq.body->size() : rq.bodyBytes.size();
        out.budget = m_limits.totalFor(rq.uploadBytes + rq.downloadBytes);
        out.idleTimeout = std::max(m_limits.transferTimeout, rq.idleTimeout);
        t.progressTotal = rq.progressTotal >= 0 ? rq.progressTotal : rq.uploadBytes;
        t.client = this;
        t.control = control;
        t.remoteLimiter = remoteLimiter;
        t.started = t.lastActivity = Clock::now();

        const QString scheme = rq.url.scheme().toLower();
        if (!rq.url.isValid() || rq.url.host().isEmpty()
            || (scheme != QLatin1String("http") && scheme != QLatin1String("https"))) {
            out.failure = Response::Failure::BadRequest;
            out.errorString = Tr::tr("not an http:// or https:// address: %1").arg(rq.url.toDisplayString());
            return false;
        }
        t.withCredentials = !m_authorization.isEmpty() && sameOrigin(rq.url);
        QList<QByteArray> lines;
        if (t.withCredentials)
            lines << "Authorization: " + m_authorization;
        for (const auto &h : rq.headers) {
            if (!safeHeaderPart(h.first) || !safeHeaderPart(h.second) || h.first.isEmpty()
                || h.first.contains(':') || h.first.contains(' ')) {
                out.failure = Response::Failure::BadRequest;
                out.errorString = Tr::tr("refusing to send a header with a line break or a bad name (%1)")
                                      .arg(QString::fromLatin1(h.first.left(40).toPercentEncoding()));
                return false;
            }
            lines << h.first + ": " + h.second;
        }
        // No "Expect: 100-continue": many servers and proxies never answer it, and libcurl then
        // waits a second before every large body. A server that refuses a body early is heard
        // all the same (and never taken for a success: Response::answeredEarly).
        lines << QByteArrayLiteral("Expect:");
        for (const QByteArray &l : std::as_const(lines))
            t.headerList = curl_slist_append(t.headerList, l.constData());

        CURL *e = t.easy = curl_easy_init();
        if (!e) {
            out.failure = Response::Failure::Other;
            out.errorString = Tr::tr("libcurl could not start a request");
            return false;
        }
        const QByteArray url = rq.url.toEncoded(QUrl::RemoveFragment | QUrl::RemoveUserInfo);
        curl_easy_setopt(e, CURLOPT_URL, url.constData());
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);   // a redirect is reported, never followed
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "Quire/" QUIRE_VERSION);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headerList);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.errorBuffer);
        curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, long(std::max<qint64>(1000, m_limits.transferTimeout.count())));
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, headerCallback);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, writeCallback);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
        curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, progressCallback);
        curl_easy_setopt(e, CURLOPT_XFERINFODATA, &t);
        curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, prereqCallback);
        curl_easy_setopt(e, CURLOPT_PREREQDATA, &t);
        if (rq.freshConnection)
            curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        if (rq.fileBody) {
            curl_easy_setopt(e, CURLOPT_HTTP_VERSION, long(CURL_HTTP_VERSION_1_1));
            if (out.bodySize >= kBigBufferFrom)
                curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
        } else {
            curl_easy_setopt(e, CURLOPT_HTTP_VERSION, long(CURL_HTTP_VERSION_2TLS));
            curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
        }
        if (scheme == QLatin1String("https")) {
            t.tls = std::make_shared<TlsCapture>();
            t.tls->pin = m_trust.pinnedSha256;
            if (!m_trust.caFile.isEmpty())
                curl_easy_setopt(e, CURLOPT_CAINFO, m_trust.caFile.toLocal8Bit().constData());
            curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, sslContextCallback);
            curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, &t.tls);
        }
#if defined(Q_OS_WIN) || defined(Q_OS_MACOS)
        // The system's proxy settings (on Linux libcurl reads http_proxy, https_proxy and
        // no_proxy from the environment itself).
        const QList<QNetworkProxy> proxies = QNetworkProxyFactory::systemProxyForQuery(QNetworkProxyQuery(rq.url));
        if (!proxies.isEmpty() && proxies.first().type() == QNetworkProxy::HttpProxy) {
            const QByteArray proxy = "http://" + proxies.first().hostName().toUtf8() + ':'
                                     + QByteArray::number(proxies.first().port());
            curl_easy_setopt(e, CURLOPT_PROXY, proxy.constData());
        }
#endif
        const bool hasBody = rq.body || !rq.bodyBytes.isEmpty() || rq.verb == "PUT" || rq.verb == "POST";
        if (rq.verb == "HEAD") {
            curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        } else if (hasBody) {
            if (rq.body && !rq.body->seek(0)) {
                out.failure = Response::Failure::Other;
                out.errorString = Tr::tr("cannot rewind the request body");
                return false;
            }
            curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, curl_off_t(out.bodySize));
            curl_easy_setopt(e, CURLOPT_READFUNCTION, readCallback);
            curl_easy_setopt(e, CURLOPT_READDATA, &t);
            if (rq.verb != "PUT")
                curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, rq.verb.constData());
        } else if (rq.verb != "GET") {
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, rq.verb.constData());
        }
        return true;
    };

    auto launch = [&] {
        while (!stopping && int(std::count_if(running.begin(), running.end(), [](const Transfer &t) { return !t.finished; }))
                                < std::max(1, lanes)) {
            std::optional<Request> rq = next();
            if (!rq)
                break;
            Transfer &t = running.emplace_back();
            t.rq = std::move(*rq);
            if (!setup(t)) {
                t.finished = true;
                continue;
            }
            curl_multi_add_handle(multi, t.easy);
        }
    };

    auto sweep = [&] {
        // Outside libcurl's callbacks: finished transfers can be judged and freed now.
        for (auto it = running.begin(); it != running.end();) {
            if (!it->finished) {
                ++it;
                continue;
            }
            const bool goOn = done(it->out);
            it = running.erase(it);
            if (!goOn && !stopping)
                abortAll(Response::End::Abandoned);
        }
    };

    Clock::time_point nextCheck = Clock::now() + milliseconds(300);
    launch();
    sweep();
    launch();
    while (!running.empty()) {
        int still = 0;
        curl_multi_perform(multi, &still);
        while (CURLMsg *msg = curl_multi_info_read(multi, &still)) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            Transfer *t = nullptr;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
            if (t && !t->finished)
                finalize(*t, msg->data.result);
        }

        const auto now = Clock::now();
        if (control && control->isStopped())
            abortAll(Response::End::Stopped);
        if (check && now >= nextCheck) {
            nextCheck = now + milliseconds(300);
            if (auto e = check())
                abortAll(Response::End::CheckFailed, e);
        }
        milliseconds wait(100);
        for (Transfer &t : running) {
            if (t.finished)
                continue;
            if (t.paused) {
                if (now >= t.resumeAt) {
                    t.paused = false;
                    t.lastActivity = now;
                    curl_easy_pause(t.easy, CURLPAUSE_CONT);
                } else {
                    wait = std::min(wait, std::chrono::ceil<milliseconds>(t.resumeAt - now));
                }
                continue;
            }
            curl_off_t up = 0, down = 0;
            curl_easy_getinfo(t.easy, CURLINFO_SIZE_UPLOAD_T, &up);
            curl_easy_getinfo(t.easy, CURLINFO_SIZE_DOWNLOAD_T, &down);
            if (up != t.lastUp || down != t.lastDown) {
                t.lastUp = up;
                t.lastDown = down;
                t.lastActivity = now;
            }
            if (now - t.started > t.out.budget)
                abortOne(t, Response::End::TotalTimeout);
            else if (now - t.lastActivity > t.out.idleTimeout)
                abortOne(t, Response::End::TransferTimeout);
        }
        sweep();
        launch();
        sweep();
        if (running.empty())
            break;
        curl_multi_poll(multi, nullptr, 0, int(std::max<qint64>(1, wait.count())), nullptr);
    }

    if (control)
        control->setWakeup(std::move(previousWakeup));
    tm.busy = false;
}

ServerCertificate inspectCertificate(const RemoteProfile &profile, const RemoteLimits &limits,
                                     UploadControl *control)
{
    ServerCertificate out;
    RemoteProfile anonymous = profile;
    anonymous.user.clear();
    anonymous.options.remove(QStringLiteral("bearer"));
    const Client client(anonymous, QString(), limits);
    QString url = profile.url;
    if (url.contains(QLatin1String("{collection}")))
        url = url.left(url.indexOf(QLatin1String("{collection}")));
    Request rq;
    rq.verb = "HEAD";
    rq.url = QUrl(url, QUrl::TolerantMode);
    rq.freshConnection = true;
    if (rq.url.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) != 0) {
        out.error = RemoteError::make(RemoteError::Kind::Config,
                                      Tr::tr("remote \"%1\" does not use https://, so it has no certificate to trust")
                                          .arg(profile.name));
        return out;
    }
    const Response r = client.send(rq, control);
    out.tls = r.tls;
    if (r.end == Response::End::Finished && r.failure == Response::Failure::None && r.status > 0) {
        out.trusted = true;
        return out;
    }
    if (r.failure == Response::Failure::Tls && r.tls.peer.isValid())
        return out;
    out.error = client.errorFor(r, Tr::tr("connecting to %1").arg(rq.url.toDisplayString()));
    return out;
}

RemoteError Client::errorFor(const Response &r, const QString &action) const
{
    using K = RemoteError::Kind;
    const QString prefix = action.isEmpty() ? QString() : action + QStringLiteral(": ");
    switch (r.end) {
    case Response::End::TransferTimeout: {
        RemoteError e = RemoteError::make(K::Timeout,
                                          prefix + Tr::tr("%1 stopped responding (no data moved "
                                                          "for %2)")
                                                       .arg(hostPort(r.url), durationText(std::max(m_limits.transferTimeout, r.idleTimeout))));
        if (r.status == 0)
            e.problem = RemoteError::Problem::Unreachable;   // not even an answer
        return e;
    }
    case Response::End::TotalTimeout:
        return RemoteError::make(K::Timeout,
                                 prefix + Tr::tr("gave up after %1, the longest this "
                                                 "request may take")
                                              .arg(durationText(r.budget)));
    case Response::End::Stopped:
        return RemoteError::make(K::Stopped, prefix + Tr::tr("stopped"));
    case Response::End::Abandoned:
        return RemoteError::make(K::Network, prefix + Tr::tr("abandoned because a parallel request failed"));
    case Response::End::CheckFailed:
        if (r.checkError)
            return *r.checkError;
        return RemoteError::make(K::Protocol, prefix + Tr::tr("aborted"));
    case Response::End::Finished:
        break;
    }

    if (r.failure == Response::Failure::Tls) {
        RemoteError e = RemoteError::make(K::Tls, QString());
        e.certificate = r.tls.peer;
        const QString where = hostPort(r.url);
        const QString trustHint = Tr::tr("If this is your server's certificate, trust it: "
                                         "quire remote trust %1 (in the window: Settings › Remotes, "
                                         "Test Connection), or give the CA that signed it with "
                                         "--ca-file.")
                                      .arg(m_profile.name);
        if (r.tls.pinMismatch) {
            e.problem = RemoteError::Problem::CertificateChanged;
            e.message = prefix
                        + Tr::tr("the certificate of %1 has changed: the trusted one has SHA-256 "
                                 "%2, the server now shows %3. Nothing was sent. If the server's "
                                 "certificate was replaced on purpose, trust the new one "
                                 "(quire remote trust %4); if not, someone may be intercepting "
                                 "the connection.")
                              .arg(where, QString::fromLatin1(r.tls.pinned),
                                   QString::fromLatin1(r.tls.peer.sha256), m_profile.name);
        } else if (r.errorString.contains(QLatin1String("subject name"), Qt::CaseInsensitive)
                   || r.errorString.contains(QLatin1String("does not match target host"), Qt::CaseInsensitive)) {
            e.problem = RemoteError::Problem::Untrusted;
            e.message = prefix
                        + Tr::tr("the certificate of %1 is for %2, not for %3. Nothing was sent. "
                                 "Use the name the certificate is for in the remote's URL.")
                              .arg(where,
                                   r.tls.peer.altNames.isEmpty() ? r.tls.peer.subject
                                                                  : r.tls.peer.altNames.join(QStringLiteral(", ")),
                                   r.url.host());
        } else if (r.tls.peer.isValid()) {
            e.problem = RemoteError::Problem::Untrusted;
            e.message = prefix
                        + Tr::tr("the certificate of %1 is not trusted (%2). Nothing was sent. "
                                 "Subject: %3; issuer: %4; valid until %5; SHA-256 %6. %7")
                              .arg(where, r.tls.problem.isEmpty() ? r.errorString : r.tls.problem,
                                   r.tls.peer.subject, r.tls.peer.issuer,
                                   r.tls.peer.notAfter.toString(Qt::ISODate),
                                   QString::fromLatin1(r.tls.peer.sha256), trustHint);
        } else {
            e.message = prefix + Tr::tr("TLS problem with %1: %2. Nothing was sent.").arg(where, r.errorString);
        }
        return e;
    }

    if (r.status > 0) {
        RemoteError e;
        e.kind = K::Http;
        e.httpStatus = r.status;
        e.message = prefix + httpErrorMessage(r.status, r.reason, r.body, r.header("Content-Type"));
        if (r.status >= 200 && r.status < 300 && r.answeredEarly()) {
            e.kind = K::Protocol;
            e.message = prefix
                        + Tr::tr("the server answered HTTP %1 after %2 of %3 bytes, before it "
                                 "had the whole request; not counted as done")
                              .arg(r.status)
                              .arg(r.bytesSent)
                              .arg(r.bodySize);
        } else if (r.status >= 300 && r.status < 400) {
            const QByteArray where = r.header("Location");
            e.message = where.isEmpty()
                            ? Tr::tr("%1. The server redirects; check the remote's URL.").arg(e.message)
                            : Tr::tr("%1. The server redirects to %2; set the remote's URL to that address.")
                                  .arg(e.message, serverText(where.left(500), "text/plain", 200));
        } else if (r.status == 401) {
            e.problem = RemoteError::Problem::Credentials;
            e.message = m_authorization.isEmpty()
                            ? Tr::tr("%1. The server wants a user name and password "
                                     "(quire remote edit %2 --user USER).").arg(e.message, m_profile.name)
                            : Tr::tr("%1. Check the user name and password "
                                     "(quire remote test %2).").arg(e.message, m_profile.name);
        }
        e.retryAfter = parseRetryAfter(r.header("Retry-After"), QDateTime::currentDateTimeUtc());
        return e;
    }

    QString what;
    K kind = K::Network;
    switch (r.failure) {
    case Response::Failure::ConnectionRefused:
        what = Tr::tr("%1 refused the connection (is the server running?)").arg(hostPort(r.url));
        break;
    case Response::Failure::HostNotFound:
        what = Tr::tr("host %1 not found").arg(r.url.host());
        break;
    case Response::Failure::ConnectTimeout:
        what = Tr::tr("could not connect to %1 within %2").arg(hostPort(r.url), durationText(m_limits.transferTimeout));
        kind = K::Timeout;
        break;
    case Response::Failure::ConnectionBroken:
        what = Tr::tr("the connection to %1 broke off (%2)").arg(hostPort(r.url), r.errorString);
        break;
    case Response::Failure::ProxyFailed:
        what = Tr::tr("the proxy failed for %1 (%2)").arg(hostPort(r.url), r.errorString);
        break;
    case Response::Failure::InsecureCredentials:
        kind = K::Refused;
        what = Tr::tr("refusing to send the password of remote \"%1\" unencrypted over http:// to %2: "
                      "the connection goes to %3, which is not this computer; use an https:// URL, "
                      "or allow it explicitly (--allow-insecure-auth)")
                   .arg(m_profile.name, hostPort(r.url),
                        r.peerAddress.isEmpty() ? Tr::tr("an unknown address") : r.peerAddress);
        break;
    case Response::Failure::BadRequest:
        kind = K::Config;
        what = r.errorString;
        break;
    default:
        what = QStringLiteral("%1 (%2)").arg(r.errorString, hostPort(r.url));
        break;
    }
    RemoteError e = RemoteError::make(kind, prefix + what);
    if (kind == K::Network || kind == K::Timeout) {
        if (r.failure == Response::Failure::ConnectionRefused || r.failure == Response::Failure::HostNotFound
            || r.failure == Response::Failure::ConnectTimeout || r.failure == Response::Failure::ProxyFailed)
            e.problem = RemoteError::Problem::Unreachable;
    }
    return e;
}

} // namespace quire::net
