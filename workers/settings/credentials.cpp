#include "settings/credentials.h"

#include <QCoreApplication>
#include <QEvent>
#include <QThread>

#include <qt6keychain/keychain.h>

#include <atomic>
#include <future>
#include <memory>
#include <mutex>

namespace quire {

namespace {

// The translation context of the messages below (Credentials is no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::Credentials)
};

struct JobOutcome
{
    QKeychain::Error error = QKeychain::NoError;
    QString errorString;
    QString text;
};

enum class Op { Read, Write, Delete };

// Posted keychain requests, counted. Qt hands a posted event over under a lock that
// ThreadSanitizer cannot see (Debian's Qt is not instrumented): a request is built completely,
// then counted here with a release, then posted; the keychain thread's first act on any event is
// an acquire load of the count. That is the same ordering made visible to it. (A lambda given to
// QMetaObject::invokeMethod() would not do: Qt copies it after any store of ours.)
std::atomic<quint64> g_postedRequests{0};

// One keychain operation, posted to the keychain thread.
class KeychainRequest final : public QEvent
{
public:
    static QEvent::Type type()
    {
        static const auto t = QEvent::Type(QEvent::registerEventType());
        return t;
    }
    KeychainRequest(Op op, const QString &key, const QString &secret)
        : QEvent(type()), op(op), key(key), secret(secret)
    {
    }

    const Op op;
    const QString key;
    const QString secret;
    std::shared_ptr<std::promise<JobOutcome>> outcome = std::make_shared<std::promise<JobOutcome>>();
};

// Lives in the keychain thread and starts the jobs posted to it.
class KeychainContext final : public QObject
{
public:
    bool event(QEvent *e) override
    {
        (void)g_postedRequests.load(std::memory_order_acquire);   // before anything of e is read
        if (e->type() != KeychainRequest::type())
            return QObject::event(e);
        start(*static_cast<KeychainRequest *>(e));
        return true;
    }

private:
    static void start(const KeychainRequest &request)
    {
        QKeychain::Job *job = nullptr;
        switch (request.op) {
        case Op::Read:
            job = new QKeychain::ReadPasswordJob(Credentials::service());
            break;
        case Op::Write: {
            auto *w = new QKeychain::WritePasswordJob(Credentials::service());
            w->setTextData(request.secret);
            job = w;
            break;
        }
        case Op::Delete:
            job = new QKeychain::DeletePasswordJob(Credentials::service());
            break;
        }
        job->setKey(request.key);
        job->setInsecureFallback(false);   // never a plain-text file
        job->setAutoDelete(true);
        // The job finishes in this thread; the promise carries the outcome to the caller.
        QObject::connect(job, &QKeychain::Job::finished, job, [outcome = request.outcome](QKeychain::Job *j) {
            JobOutcome o;
            o.error = j->error();
            o.errorString = j->errorString();
            if (auto *r = qobject_cast<QKeychain::ReadPasswordJob *>(j))
                o.text = r->textData();
            outcome->set_value(std::move(o));
        });
        job->start();
    }
};

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
        m_context = new KeychainContext;
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

Result<JobOutcome> runJob(Op op, const QString &key, const QString &secret, std::chrono::milliseconds timeout)
{
    KeychainThread *kt = KeychainThread::instance();
    if (!kt)
        return Result<JobOutcome>::failure(Tr::tr("the keychain is not available (no application object)"));
    auto *request = new KeychainRequest(op, key, secret);
    std::future<JobOutcome> future = request->outcome->get_future();
    g_postedRequests.fetch_add(1, std::memory_order_release);
    QCoreApplication::postEvent(kt->context(), request);   // Qt owns and deletes it

    if (future.wait_for(timeout) != std::future_status::ready) {
        return Result<JobOutcome>::failure(
            Tr::tr("the keychain did not answer within %1 s").arg(timeout.count() / 1000));
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
        return Status::failure(Tr::tr("could not store the password of %1: %2").arg(what, r.error()));
    if (r->error != QKeychain::NoError) {
        return Status::failure(Tr::tr("could not store the password of %1 in the keychain: %2")
                                   .arg(what, r->errorString));
    }
    return {};
}

Result<std::optional<QString>> readSecret(const QString &key, const QString &what, std::chrono::milliseconds timeout)
{
    using R = Result<std::optional<QString>>;
    const auto r = runJob(Op::Read, key, {}, timeout);
    if (!r)
        return R::failure(Tr::tr("could not read the password of %1: %2").arg(what, r.error()));
    if (r->error == QKeychain::EntryNotFound)
        return R(std::nullopt);
    if (r->error != QKeychain::NoError) {
        return R::failure(Tr::tr("could not read the password of %1 from the keychain: %2")
                              .arg(what, r->errorString));
    }
    return R(r->text);
}

QString remoteWhat(const QString &profileName)
{
    return Tr::tr("remote \"%1\"").arg(profileName);
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
    return storeSecret(catalogKey(location), Tr::tr("catalog \"%1\"").arg(location), secret, timeout);
}

Result<std::optional<QString>> Credentials::readCatalogPassword(const QString &location, std::chrono::milliseconds timeout)
{
    return readSecret(catalogKey(location), Tr::tr("catalog \"%1\"").arg(location), timeout);
}

Status Credentials::remove(const QString &profileName, std::chrono::milliseconds timeout)
{
    const auto r = runJob(Op::Delete, profileName, {}, timeout);
    if (!r)
        return Status::failure(Tr::tr("could not remove the password of remote \"%1\": %2").arg(profileName, r.error()));
    if (r->error != QKeychain::NoError && r->error != QKeychain::EntryNotFound) {
        return Status::failure(Tr::tr("could not remove the password of remote \"%1\" from the keychain: %2")
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
        return Result<QString>::failure(Tr::tr("%1 (set %2 to give it without a keychain)")
                                            .arg(r.error(), environmentVariableFor(profile.name)));
    }
    if (!r->has_value()) {
        return Result<QString>::failure(
            Tr::tr("the keychain has no password for remote \"%1\": store it with "
                   "'quire remote add %1 --kind %2 --url URL --user %3' (it asks for it), "
                   "or set %4")
                .arg(profile.name, remoteKindName(profile.kind), profile.user.isEmpty() ? QStringLiteral("USER") : profile.user,
                     environmentVariableFor(profile.name)));
    }
    return **r;
}

} // namespace quire
