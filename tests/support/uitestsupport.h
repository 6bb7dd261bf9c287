#pragma once

// Helpers shared by the UI tests (tst_documentmodel, tst_collectionmodel, tst_browserwindow...),
// and the fixture they stand on (UiFixture, WindowParts).

#include "catalog/catalog.h"
#include "catalog/catalogservice.h"
#include "jobs/pools.h"
#include "mariadbserver.h"
#include "settings/sessionstore.h"
#include "testsupport.h"
#include "upload/uploadcontroller.h"
#include "views/browserwindow.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlDriver>
#include <QStringList>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QtGlobal>

#include <fcntl.h>
#include <memory>
#include <optional>
#include <unistd.h>

namespace quire::uitest {

// Names of the QtSql connections that belong to the GUI thread. QSqlDatabase::database() from
// the GUI thread returns an invalid handle (and warns) for other threads' connections, so
// that warning is silenced while asking.
inline QStringList guiThreadConnections()
{
    Q_ASSERT(QThread::currentThread() == QCoreApplication::instance()->thread());
    static QtMessageHandler previous = nullptr;
    previous = qInstallMessageHandler([](QtMsgType type, const QMessageLogContext &ctx, const QString &msg) {
        if (msg.contains(QLatin1String("does not belong to the calling thread")))
            return;
        if (previous)
            previous(type, ctx, msg);
    });
    QStringList mine;
    const QStringList names = QSqlDatabase::connectionNames();
    for (const QString &name : names) {
        const QSqlDatabase db = QSqlDatabase::database(name, false);
        if (db.isValid() && db.driver() && db.driver()->thread() == QThread::currentThread())
            mine << name;
    }
    qInstallMessageHandler(previous);
    return mine;
}

inline void writeFile(const QString &path, const QByteArray &content)
{
    QDir().mkpath(QFileInfo(path).path());
    const QByteArray native = QFile::encodeName(path);
    const int fd = ::open(native.constData(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    Q_ASSERT(fd >= 0);
    [[maybe_unused]] const auto written = ::write(fd, content.constData(), size_t(content.size()));
    ::close(fd);
}

// Documents of a collection as the catalog has them, read on a worker thread.
inline QList<Document> documentsOf(Catalog &catalog, qint64 collectionId)
{
    return quire::test::onWorker([&] {
        DocumentQuery q;
        q.collectionId = collectionId;
        q.sortColumn = DocColumn::Name;
        return catalog.documents(q).valueOr({});
    });
}

inline qint64 collectionIdOf(Catalog &catalog, const QString &name)
{
    return quire::test::onWorker([&]() -> qint64 {
        const auto c = catalog.collectionByName(name);
        return c && c->has_value() ? (*c)->id : 0;
    });
}

inline QStringList fileNamesOf(Catalog &catalog, qint64 collectionId)
{
    QStringList names;
    for (const Document &d : documentsOf(catalog, collectionId))
        names << d.fileName;
    names.sort();
    return names;
}

// How long the fixture waits for a window to be ready, or for its work to end, unless told.
constexpr int kWindowTimeoutMs = 60'000;

// The window and what the composition root (app/guicommand.cpp) builds next to it, over a
// catalog, a session store and pools the test owns: the catalog service, the upload controller
// and, once asked for, the window. Goes window first, then the controller, then the service.
class WindowParts final
{
public:
    WindowParts(Catalog &catalog, SessionStore &store, Pools &pools)
        : m_store(store)
        , m_service(catalog, pools)
        , m_uploads(m_service, store)
    {
    }
    ~WindowParts() { m_window.reset(); }
    WindowParts(const WindowParts &) = delete;
    WindowParts &operator=(const WindowParts &) = delete;

    CatalogService &service() { return m_service; }
    UploadController &uploads() { return m_uploads; }
    BrowserWindow *window() const { return m_window.get(); }

    // A new window (an earlier one goes first), neither shown nor started.
    BrowserWindow &makeWindow()
    {
        m_window.reset();
        m_window = std::make_unique<BrowserWindow>(m_service, m_store, m_uploads);
        return *m_window;
    }
    // A new window, shown and started on `collection` (ingesting `paths` into it); true once it
    // is ready().
    bool startWindow(const QString &collection = {}, const QList<QByteArray> &paths = {},
                     int timeoutMs = kWindowTimeoutMs)
    {
        BrowserWindow &window = makeWindow();
        QSignalSpy ready(&window, &BrowserWindow::ready);
        window.show();
        window.start(collection, paths);
        return QTest::qWaitFor([&] { return ready.count() == 1; }, timeoutMs);
    }
    void closeWindow() { m_window.reset(); }
    // Neither ingest nor uploads run any more.
    bool waitIdle(int timeoutMs = kWindowTimeoutMs)
    {
        return QTest::qWaitFor([&] { return !m_service.isBusy() && !m_uploads.isBusy(); }, timeoutMs);
    }

private:
    SessionStore &m_store;
    CatalogService m_service;
    UploadController m_uploads;
    std::unique_ptr<BrowserWindow> m_window;
};

// What a UI test stands on: a temporary folder, an in-memory session store, pools, a SQLite
// catalog in the folder (not opened: the window opens it, or openCatalog() does) and the
// WindowParts over them. Torn down window, controller, service, pools, catalog, store, folder.
// After that, check that no catalog connection was left on the GUI thread
// (guiThreadConnections()).
class UiFixture final
{
public:
    explicit UiFixture(const QString &catalogFile = QStringLiteral("catalog.sqlite"), int cpuThreads = 2,
                       int ioThreads = 2)
        : m_store(std::make_unique<SessionStore>())
        , m_pools(std::make_unique<Pools>(cpuThreads, ioThreads))
    {
        useCatalog(m_dir.filePath(catalogFile));
    }
    ~UiFixture()
    {
        m_parts.reset();
        m_pools.reset();
        m_catalog.reset();
        m_store.reset();
    }
    UiFixture(const UiFixture &) = delete;
    UiFixture &operator=(const UiFixture &) = delete;

    bool isValid() const { return m_dir.isValid(); }
    QString path() const { return m_dir.path(); }
    QString filePath(const QString &name) const { return m_dir.filePath(name); }

    SessionStore &store() { return *m_store; }
    Pools &pools() { return *m_pools; }
    Catalog &catalog() { return *m_catalog; }
    CatalogService &service() { return m_parts->service(); }
    UploadController &uploads() { return m_parts->uploads(); }
    BrowserWindow *window() const { return m_parts->window(); }

    // Another catalog (a file in the folder, or a database server's URL), with new parts over it
    // (a window goes first).
    void useCatalog(const QString &location)
    {
        m_parts.reset();
        m_catalog = std::make_unique<Catalog>(CatalogConfig{location});
        m_parts.emplace(*m_catalog, *m_store, *m_pools);
    }
    // Opens the catalog on a worker, as a test that fills it before the window does.
    bool openCatalog()
    {
        return quire::test::onWorker([&] { return m_catalog->open(); }).ok();
    }

    BrowserWindow &makeWindow() { return m_parts->makeWindow(); }
    bool startWindow(const QString &collection = {}, const QList<QByteArray> &paths = {},
                     int timeoutMs = kWindowTimeoutMs)
    {
        return m_parts->startWindow(collection, paths, timeoutMs);
    }
    void closeWindow() { m_parts->closeWindow(); }
    bool waitIdle(int timeoutMs = kWindowTimeoutMs) { return m_parts->waitIdle(timeoutMs); }

private:
    QTemporaryDir m_dir;
    std::unique_ptr<SessionStore> m_store;
    std::unique_ptr<Pools> m_pools;
    std::unique_ptr<Catalog> m_catalog;
    std::optional<WindowParts> m_parts;
};

// A catalog database on a throw-away MariaDB server that only a user with a password may use,
// and an environment that gives no password (no QUIRE_CATALOG_PASSWORD, a HOME without
// ~/.my.cnf): what the window and the Settings dialog must ask a person for. The test skips
// when MariaDB is not installed:
//     if (const QString why = uitest::PasswordCatalogServer::unavailable(); !why.isEmpty())
//         QSKIP(qPrintable(why));
class PasswordCatalogServer final
{
public:
    // Why there can be none here (MariaDB is not installed); empty when there can.
    static QString unavailable()
    {
        return quire::test::MariaDbServer::available() ? QString() : quire::test::MariaDbServer::missingMessage();
    }

    // Starts the server, creates `database` and its user who must give `password`, and sets
    // the environment (HOME is `home`); false: see error().
    bool start(const QString &database, const QString &password, const QString &home)
    {
        if (!m_server.start() || m_server.createDatabase(database).isEmpty())
            return false;
        m_url = m_server.passwordUserUrl(database, password);
        if (m_url.isEmpty())
            return false;
        m_env.set("QUIRE_CATALOG_PASSWORD", QByteArray());
        m_env.set("HOME", QFile::encodeName(home));   // no ~/.my.cnf
        return true;
    }

    // The database's URL for that user (without the password).
    const QString &url() const { return m_url; }
    int port() const { return m_server.port(); }
    QString error() const { return m_server.error(); }

private:
    quire::test::MariaDbServer m_server;
    quire::test::ScopedEnv m_env;   // restored before the server stops
    QString m_url;
};

} // namespace quire::uitest
