#include "remotetester.h"

#include "catalogservice.h"
#include "credentials.h"
#include "pools.h"
#include "remote.h"

namespace quire {

namespace {

// The secret to test with, resolved on the worker thread (the keychain blocks).
Result<QString> secretFor(const RemoteProfile &profile, const std::optional<QString> &given)
{
    if (!profile.needsSecret())
        return QString();
    if (given && !given->isEmpty())
        return *given;
    const QString fromEnvironment = qEnvironmentVariable(Credentials::environmentVariable().toLatin1().constData());
    if (!fromEnvironment.isEmpty())
        return fromEnvironment;
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
    auto future = m_pools.run(m_pools.io(), [pools, profile, limits, secret = std::move(secret),
                                             control]() -> Result<QString> {
        // Network tests wait most of the time: give the slot back meanwhile (like uploads), so
        // catalog queries never queue behind a slow server.
        QThreadPool *pool = pools->io();
        pool->releaseThread();
        struct Reserve
        {
            QThreadPool *pool;
            ~Reserve() { pool->reserveThread(); }
        } reserve{pool};

        const auto s = secretFor(profile, secret);
        if (!s)
            return Result<QString>::failure(s.error());
        if (control->isStopped())
            return Result<QString>::failure(RemoteTester::tr("stopped"));
        auto remote = Remote::create(profile, *s, limits);
        if (!remote)
            return Result<QString>::failure(remote.error());
        return (*remote)->test(*control);
    });
    onFinished(future, this, [this, generation](const Result<QString> &r) {
        if (generation != m_generation)
            return;   // a later start() or stop() superseded it
        m_control.reset();
        Q_EMIT finished(r.ok(), r.ok() ? *r : r.error());
    });
}

void RemoteTester::stop()
{
    if (m_control)
        m_control->requestStop(UploadControl::Stop::Cancel);
}

} // namespace quire
