#include "dialogs/remotetester.h"

#include "catalog/catalogservice.h"
#include "settings/credentials.h"
#include "jobs/pools.h"
#include "net/http.h"
#include "remotes/remote.h"

namespace quire {

namespace {

// The secret to test with, resolved on the worker thread (the keychain blocks).
Result<QString> secretFor(const RemoteProfile &profile, const std::optional<QString> &given)
{
    if (!profile.needsSecret())
        return QString();
    if (given && !given->isEmpty())
        return *given;
    if (auto fromEnvironment = Credentials::environmentSecret(profile))
        return *fromEnvironment;
    const auto stored = Credentials::read(profile.name);
    if (!stored) {
        return Result<QString>::failure(
            RemoteTester::tr("the system keychain could not be read: %1").arg(stored.error()));
    }
    if (!stored->has_value()) {
        return Result<QString>::failure(
            RemoteTester::tr("the system keychain has no password for this remote: edit the remote "
                             "and type its password"));
    }
    return **stored;
}

} // namespace

RemoteTester::RemoteTester(Pools &pools, QObject *parent)
    : QObject(parent)
    , m_pools(pools)
{
}

RemoteTester::~RemoteTester()
{
    if (m_control)
        m_control->requestStop(UploadControl::Stop::Cancel);
}

void RemoteTester::start(const RemoteProfile &profile, const UploadSettings &settings,
                         std::optional<QString> secret)
{
    if (m_control)
        m_control->requestStop(UploadControl::Stop::Cancel);
    auto control = std::make_shared<UploadControl>();
    m_control = control;
    m_name = profile.name;
    const quint64 generation = ++m_generation;
    Pools *pools = &m_pools;
    const RemoteLimits limits = settings.limits;
    struct Outcome
    {
        Result<QString> result = QString();
        net::TlsReport tls;
        bool untrusted = false;
    };
    m_untrusted = {};
    m_tls = {};
    auto future = m_pools.run(m_pools.io(), [pools, profile, limits, secret = std::move(secret),
                                             control]() -> Outcome {
        // Network tests wait most of the time: give the slot back meanwhile (like uploads), so
        // catalog queries never queue behind a slow server.
        QThreadPool *pool = pools->io();
        pool->releaseThread();
        struct Reserve
        {
            QThreadPool *pool;
            ~Reserve() { pool->reserveThread(); }
        } reserve{pool};

        Outcome out;
        if (profile.kind != RemoteKind::Local && profile.url.startsWith(QLatin1String("https:"), Qt::CaseInsensitive)) {
            // The certificate first, before any credentials go anywhere.
            const net::ServerCertificate cert = net::inspectCertificate(profile, limits, control.get());
            out.tls = cert.tls;
            if (!cert.trusted && !cert.error && cert.tls.peer.isValid()) {
                out.untrusted = true;
                out.result = Result<QString>::failure(
                    cert.tls.pinMismatch
                        ? RemoteTester::tr("the server's certificate has changed: it is not the one trusted before")
                        : RemoteTester::tr("the server's certificate is not trusted (%1)").arg(cert.tls.problem));
                return out;
            }
        }
        const auto s = secretFor(profile, secret);
        if (!s) {
            out.result = Result<QString>::failure(s.error());
            return out;
        }
        if (control->isStopped()) {
            out.result = Result<QString>::failure(RemoteTester::tr("stopped"));
            return out;
        }
        auto remote = Remote::create(profile, *s, limits);
        if (!remote) {
            out.result = Result<QString>::failure(remote.error());
            return out;
        }
        out.result = (*remote)->test(*control);
        return out;
    });
    onFinished(future, this, [this, generation](const Outcome &o) {
        if (generation != m_generation)
            return;   // a later start() or stop() superseded it
        m_control.reset();
        m_tls = o.tls;
        m_untrusted = o.untrusted ? o.tls.peer : net::CertificateInfo();
        Q_EMIT finished(o.result.ok(), o.result.ok() ? *o.result : o.result.error());
    });
}

void RemoteTester::stop()
{
    if (m_control)
        m_control->requestStop(UploadControl::Stop::Cancel);
}

} // namespace quire
