#include "credentials.h"

#include <QCoreApplication>
#include <QThread>

#include <qt6keychain/keychain.h>

#include <future>
#include <atomic>
#include <memory>
#include <mutex>

namespace quire {

namespace {

// The thread every QtKeychain job runs in (see the header for why one long-lived thread).
class KeychainThread final
{
public:
    static KeychainThread *instance()
    {
        static std::mutex mutex;
        static KeychainThread *self = nullptr;
        static bool stopped = false;
        std::lock_guard lock(mutex);
        if (!self && !stopped && QCoreApplication::instance()) {
            self = new KeychainThread;
            qAddPostRoutine([] {
                std::lock_guard lock(mutex);
                if (self) {
                    self->stop();
                    delete self;
                    self = nullptr;
                }
                stopped = true;
            });
        }
        return self;
    }

    QObject *context() const { return m_context; }

private:
    KeychainThread()
    {
        m_thread.setObjectName(QStringLiteral("quire-keychain"));
        m_context = new QObject;
        m_context->moveToThread(&m_thread);
        m_thread.start();
    }
    ~KeychainThread() = default;

    void stop()
    {
        QMetaObject::invokeMethod(m_context, [ctx = m_context] { delete ctx; }, Qt::QueuedConnection);
        m_thread.quit();
        m_thread.wait();
    }

    QThread m_thread;
    QObject *m_context = nullptr;
};

struct JobOutcome
{
    QKeychain::Error error = QKeychain::NoError;
    QString errorString;
    QString text;
};

enum class Op { Read, Write, Delete };

Result<JobOutcome> runJob(Op op, const QString &key, const QString &secret, std::chrono::milliseconds timeout)
{
    KeychainThread *kt = KeychainThread::instance();
    if (!kt)
        return Result<JobOutcome>::failure(QStringLiteral("the keychain is not available (no application object)"));
    // Qt's queued call hands the captures over under a lock ThreadSanitizer cannot see (Debian's
    // Qt is not instrumented): a release store before the call and the matching acquire load
    // first thing on the keychain thread are the same ordering, made visible to it.
    struct Handoff
    {
        std::promise<JobOutcome> value;
        std::atomic<bool> published{false};
    };
    auto handoff = std::make_shared<Handoff>();
    std::future<JobOutcome> future = handoff->value.get_future();
    handoff->published.store(true, std::memory_order_release);
    QMetaObject::invokeMethod(kt->context(), [op, key, secret, handoff] {
        if (!handoff->published.load(std::memory_order_acquire))
            return;   // cannot happen: stored before the call was queued
        QKeychain::Job *job = nullptr;
        switch (op) {
        case Op::Read:
            job = new QKeychain::ReadPasswordJob(Credentials::service());
            break;
        case Op::Write: {
            auto *w = new QKeychain::WritePasswordJob(Credentials::service());
            w->setTextData(secret);
            job = w;
            break;
        }
        case Op::Delete:
            job = new QKeychain::DeletePasswordJob(Credentials::service());
            break;
        }
        job->setKey(key);
        job->setInsecureFallback(false);   // never a plain-text file
        job->setAutoDelete(true);
        QObject::connect(job, &QKeychain::Job::finished, job, [handoff](QKeychain::Job *j) {
            JobOutcome o;
            o.error = j->error();
            o.errorString = j->errorString();
            if (auto *r = qobject_cast<QKeychain::ReadPasswordJob *>(j))
                o.text = r->textData();
            handoff->value.set_value(std::move(o));
        });
        job->start();
    }, Qt::QueuedConnection);

    if (future.wait_for(timeout) != std::future_status::ready) {
        return Result<JobOutcome>::failure(
            QStringLiteral("the keychain did not answer within %1 s").arg(timeout.count() / 1000));
    }
    return future.get();
}

} // namespace

QString Credentials::service()
{
    return QStringLiteral("Quire");
}

QString Credentials::environmentVariable()
{
    return QStringLiteral("QUIRE_PASSWORD");
}

QString Credentials::environmentVariableFor(const QString &profileName)
{
    QString suffix = profileName.toUpper();
    for (QChar &c : suffix) {
        if (!((c >= QLatin1Char('A') && c <= QLatin1Char('Z')) || (c >= QLatin1Char('0') && c <= QLatin1Char('9'))))
            c = QLatin1Char('_');
    }
    return environmentVariable() + QLatin1Char('_') + suffix;
}

namespace {
std::mutex g_soleMutex;
QString g_soleRemote;
} // namespace

void Credentials::setSoleRemote(const QString &profileName)
{
    std::lock_guard lock(g_soleMutex);
    g_soleRemote = profileName;
}

std::optional<QString> Credentials::environmentSecret(const RemoteProfile &profile)
{
    const QString own = qEnvironmentVariable(environmentVariableFor(profile.name).toLatin1().constData());
    if (!own.isEmpty())
        return own;
    {
        std::lock_guard lock(g_soleMutex);
        if (g_soleRemote.isEmpty() || g_soleRemote != profile.name)
            return std::nullopt;
    }
    const QString generic = qEnvironmentVariable("QUIRE_PASSWORD");
    if (generic.isEmpty())
        return std::nullopt;
    return generic;
}

namespace {

// `what` names the secret in messages: remote "nas", catalog "mysql://quire@db/quire".
Status storeSecret(const QString &key, const QString &what, const QString &secret, std::chrono::milliseconds timeout)
{
    const auto r = runJob(Op::Write, key, secret, timeout);
    if (!r)
        return Status::failure(QStringLiteral("could not store the password of %1: %2").arg(what, r.error()));
    if (r->error != QKeychain::NoError) {
        return Status::failure(QStringLiteral("could not store the password of %1 in the keychain: %2")
                                   .arg(what, r->errorString));
    }
    return {};
}

Result<std::optional<QString>> readSecret(const QString &key, const QString &what, std::chrono::milliseconds timeout)
{
    using R = Result<std::optional<QString>>;
    const auto r = runJob(Op::Read, key, {}, timeout);
    if (!r)
        return R::failure(QStringLiteral("could not read the password of %1: %2").arg(what, r.error()));
    if (r->error == QKeychain::EntryNotFound)
        return R(std::nullopt);
    if (r->error != QKeychain::NoError) {
        return R::failure(QStringLiteral("could not read the password of %1 from the keychain: %2")
                              .arg(what, r->errorString));
    }
    return R(r->text);
}

QString remoteWhat(const QString &profileName)
{
    return QStringLiteral("remote \"%1\"").arg(profileName);
}

// Remote names have no spaces (RemoteProfile::nameError), so no remote's key starts like this.
QString catalogKey(const QString &location)
{
    return QStringLiteral("catalog ") + location;
}

} // namespace

Status Credentials::store(const QString &profileName, const QString &secret, std::chrono::milliseconds timeout)
{
    return storeSecret(profileName, remoteWhat(profileName), secret, timeout);
}

Result<std::optional<QString>> Credentials::read(const QString &profileName, std::chrono::milliseconds timeout)
{
    return readSecret(profileName, remoteWhat(profileName), timeout);
}

Status Credentials::storeCatalogPassword(const QString &location, const QString &secret, std::chrono::milliseconds timeout)
{
    return storeSecret(catalogKey(location), QStringLiteral("catalog \"%1\"").arg(location), secret, timeout);
}

Result<std::optional<QString>> Credentials::readCatalogPassword(const QString &location, std::chrono::milliseconds timeout)
{
    return readSecret(catalogKey(location), QStringLiteral("catalog \"%1\"").arg(location), timeout);
}

Status Credentials::remove(const QString &profileName, std::chrono::milliseconds timeout)
{
    const auto r = runJob(Op::Delete, profileName, {}, timeout);
    if (!r)
        return Status::failure(QStringLiteral("could not remove the password of remote \"%1\": %2").arg(profileName, r.error()));
    if (r->error != QKeychain::NoError && r->error != QKeychain::EntryNotFound) {
        return Status::failure(QStringLiteral("could not remove the password of remote \"%1\" from the keychain: %2")
                                   .arg(profileName, r->errorString));
    }
    return {};
}

Result<QString> Credentials::secretFor(const RemoteProfile &profile, std::chrono::milliseconds timeout)
{
    if (!profile.needsSecret())
        return QString();
    if (auto fromEnv = environmentSecret(profile))
        return *fromEnv;
    const auto r = read(profile.name, timeout);
    if (!r) {
        return Result<QString>::failure(r.error() + QStringLiteral(" (set %1 to give it "
                                                                   "without a keychain)").arg(environmentVariableFor(profile.name)));
    }
    if (!r->has_value()) {
        return Result<QString>::failure(
            QStringLiteral("the keychain has no password for remote \"%1\": store it with "
                           "'quire remote add %1 --kind %2 --url URL --user %3' (it asks for it), "
                           "or set %4")
                .arg(profile.name, remoteKindName(profile.kind), profile.user.isEmpty() ? QStringLiteral("USER") : profile.user,
                     environmentVariableFor(profile.name)));
    }
    return **r;
}

} // namespace quire
