#include "guicommand.h"

#include "catalog/catalog.h"
#include "catalog/catalogconfig.h"
#include "catalog/catalogservice.h"
#include "commands.h"
#include "models/documentmodel.h"
#include "views/documentview.h"
#include "views/browserwindow.h"
#include "common/fileopenreceiver.h"
#include "platform/nativefs.h"
#include "upload/uploadcontroller.h"
#include "jobs/pools.h"
#include "common/responsivenessmonitor.h"
#include "settings/sessionstore.h"
#include "platform/singleinstance.h"

#include <QApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QTimer>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#ifdef Q_OS_UNIX
#  include <QSocketNotifier>
#  include <csignal>
#  include <fcntl.h>
#  include <sys/socket.h>
#  include <unistd.h>
#endif

namespace quire {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;

// The system's 1-minute load average (Linux), -1 where unknown: lateness figures mean little on
// a machine with more runnable threads than cores. Reads /proc, so it runs on a worker.
double loadAverage()
{
    QFile f(QStringLiteral("/proc/loadavg"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    bool ok = false;
    const double v = f.readLine().split(' ').value(0).toDouble(&ok);
    return ok ? v : -1;
}

// File writes at exit still go to the I/O pool: the event loop is running until quit().
Status writeFile(const QString &path, const QByteArray &data)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return Status::failure(cli::Tr::tr("cannot write %1: %2").arg(path, file.errorString()));
    file.write(data);
    if (!file.commit())
        return Status::failure(cli::Tr::tr("cannot write %1: %2").arg(path, file.errorString()));
    return {};
}

#ifdef Q_OS_UNIX
// Unix only. SIGTERM (logout, `systemctl --user stop`, `kill`) and SIGINT (Ctrl+C in the terminal
// that started the window) close the window as its close button does: running work is
// cancelled and recorded, settings are saved. A second signal ends the process the default way.
// (On Windows the window is a GUI-subsystem program without a console: the system sends it
// WM_CLOSE / WM_ENDSESSION, which Qt turns into the same close.)
// Qt's documented pattern: the handler only writes a byte to a socket pair; a QSocketNotifier
// reads it on the event loop.
int g_signalSockets[2] = {-1, -1};

extern "C" void onTerminateSignal(int sig)
{
    const int savedErrno = errno;   // the interrupted code may be about to read errno
    const char byte = static_cast<char>(sig);
    [[maybe_unused]] const ssize_t n = ::write(g_signalSockets[0], &byte, 1);
    errno = savedErrno;
}

class TerminationSignals final
{
public:
    template <typename F>
    explicit TerminationSignals(F onSignal)
    {
        if (::socketpair(AF_UNIX, SOCK_STREAM, 0, g_signalSockets) != 0) {
            const int err = errno;   // what perror() would name
            cli::printError(cli::Tr::tr("socketpair (SIGTERM will end the window abruptly): %1")
                                .arg(QString::fromLocal8Bit(std::strerror(err))));
            return;
        }
        // Not inherited by programs the window starts (xdg-open...). SOCK_CLOEXEC is not on macOS.
        for (int fd : g_signalSockets)
            ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        m_notifier.emplace(g_signalSockets[1], QSocketNotifier::Read);
        QObject::connect(&*m_notifier, &QSocketNotifier::activated, &*m_notifier, [onSignal] {
            char byte = 0;
            if (::read(g_signalSockets[1], &byte, 1) == 1)
                onSignal(int(byte));
        });
        struct sigaction action = {};
        action.sa_handler = onTerminateSignal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART | SA_RESETHAND;   // the second signal: default action
        for (int sig : {SIGTERM, SIGINT})
            ::sigaction(sig, &action, nullptr);
    }
    ~TerminationSignals()
    {
        if (!m_notifier)
            return;
        for (int sig : {SIGTERM, SIGINT})
            std::signal(sig, SIG_DFL);
        m_notifier.reset();
        ::close(g_signalSockets[0]);
        ::close(g_signalSockets[1]);
        g_signalSockets[0] = g_signalSockets[1] = -1;
    }
    Q_DISABLE_COPY(TerminationSignals)

private:
    std::optional<QSocketNotifier> m_notifier;
};
#endif

// Who shares a window: the same user (home folder) on the same catalog.
QString instanceKey(const CatalogConfig &catalog)
{
    const QString where = catalog.isServer() ? catalog.location : QFileInfo(catalog.location).absoluteFilePath();
    return QDir::homePath() + QLatin1Char('\n') + where;
}

// Everything one run of the window needs to remember; lives on runGui()'s stack.
class GuiRun final : public QObject
{
public:
    GuiRun(const GuiOptions &options, CatalogService &service, UploadController &uploads, BrowserWindow &window,
           ResponsivenessMonitor &monitor)
        : m_options(options)
        , m_service(service)
        , m_uploads(uploads)
        , m_window(window)
        , m_monitor(monitor)
    {
        connect(&window, &BrowserWindow::firstPainted, this, [this] {
            m_firstPaintMs = m_options.startClock.elapsed();
            maybeFinish();
        });
        connect(&window, &BrowserWindow::documentsPainted, this, [this] {
            m_firstRowsPaintMs = m_options.startClock.elapsed();
            maybeFinish();
        });
        // The list settling (its last refresh in) may be the last thing "idle" waits for.
        for (auto signal : {&DocumentModel::loaded, &DocumentModel::refreshed})
            connect(window.documentModel(), signal, this, &GuiRun::maybeFinish, Qt::QueuedConnection);
        connect(window.documentModel(), &DocumentModel::batchFetched, this, &GuiRun::maybeFinish, Qt::QueuedConnection);
        connect(&window, &BrowserWindow::ready, this, [this] {
            m_readyMs = m_options.startClock.elapsed();
            maybeFinish();
        });
        connect(&window, &BrowserWindow::startFailed, this, [this](const QString &error) {
            std::fprintf(stderr, "quire: %s\n", qUtf8Printable(error));
            m_exitCode = kExitFailure;
            if (m_options.quitWhenIdle)
                finish();
        });
        connect(&window, &BrowserWindow::closing, this, &GuiRun::finish);
        connect(&service, &CatalogService::jobStarted, this, [this] {
            if (!m_firstJob.isValid())
                m_firstJob.start();
            ++m_jobs;
        });
        connect(&service, &CatalogService::jobFinished, this, [this](IngestJob *, const IngestResult &r) {
            m_filesDone += r.totals.filesDone;
            m_filesFailed += r.totals.filesFailed;
            m_bytesDone += r.totals.bytesDone;
            if (r.outcome == IngestResult::Outcome::Error) {
                std::fprintf(stderr, "quire: %s\n", qUtf8Printable(r.error));
                m_exitCode = kExitFailure;
            }
        });
        connect(&service, &CatalogService::idle, this, [this] {
            m_idleMs = m_options.startClock.elapsed();
            // Let the views catch up with the last results before judging "idle".
            QTimer::singleShot(300, this, &GuiRun::maybeFinish);
        });
        // "All work" includes uploading what was added (collections with a remote).
        connect(&uploads, &UploadController::idle, this, [this] {
            m_idleMs = m_options.startClock.elapsed();
            QTimer::singleShot(300, this, &GuiRun::maybeFinish);
        });

        if (!m_options.screenshotPath.isEmpty()) {
            m_screenshotTimer.setInterval(250);
            connect(&m_screenshotTimer, &QTimer::timeout, this, &GuiRun::maybeScreenshot);
            m_screenshotTimer.start();
        }
    }

    int exitCode() const { return m_exitCode; }

private:
    bool painted() const
    {
        if (m_firstPaintMs < 0)
            return false;
        // With rows to show, wait until they were painted too (the first-paint figure).
        return m_window.documentModel()->rowCount() == 0 || m_firstRowsPaintMs >= 0;
    }

    void maybeFinish()
    {
        if (!m_options.quitWhenIdle || m_finishing)
            return;
        // The list too: a change hint's refresh may still be on its way after the work is done.
        if (!m_window.isReady() || m_service.isBusy() || m_uploads.isBusy() || !m_window.documentModel()->isSettled()
            || !painted())
            return;
        finish();
    }

    void maybeScreenshot()
    {
        if (m_screenshotTaken || !m_window.isReady() || !painted())
            return;
        const WorkSummary s = m_service.summary();
        bool now = false;
        if (s.runningJobs > 0) {
            // Mid-ingest: a good part done, much still to do (or, failing that, a while in).
            now = (!s.walking && s.bytesFound > 0 && s.bytesDone * 20 >= s.bytesFound * 9)
                || (m_firstJob.isValid() && m_firstJob.elapsed() > 8000);
        } else {
            now = m_options.paths.isEmpty() && m_readyMs >= 0 && m_options.startClock.elapsed() > m_readyMs + 1000;
        }
        if (now)
            takeScreenshot();
    }

    void takeScreenshot()
    {
        if (m_screenshotTaken)
            return;
        m_screenshotTaken = true;
        m_screenshotTimer.stop();
        // Show a document's details rather than the empty details pane.
        QTableView *table = m_window.documentView();
        if (!table->selectionModel()->hasSelection() && table->model()->rowCount() > 0)
            table->selectRow(std::min(2, table->model()->rowCount() - 1));
        // Rendering the whole window into an image is slow and only done for the docs: keep it
        // out of the figures (start() begins a fresh interval).
        const bool measuring = m_monitor.isRunning();
        m_monitor.stop();
        const QImage image = m_window.grab().toImage();
        if (measuring)
            m_monitor.start();
        const QString path = m_options.screenshotPath;
        // QImage (unlike QPixmap) may be used on another thread; saving is file I/O.
        m_screenshot = m_options.pools.run(m_options.pools.io(), [image, path] {
            return image.save(path, "PNG") ? Status() : Status::failure(cli::Tr::tr("cannot write %1").arg(path));
        });
    }

    void finish()
    {
        if (m_finishing)
            return;
        m_finishing = true;
        if (!m_options.screenshotPath.isEmpty() && !m_screenshotTaken)
            takeScreenshot();
        m_window.hide();
        const QJsonObject responsiveness = m_monitor.toJson();
        m_monitor.stop();
        // Cancelled jobs still record what they cancelled: let them finish before going on.
        m_service.cancelAll();
        if (m_service.isBusy()) {
            connect(&m_service, &CatalogService::idle, this, [this, responsiveness] { writeStatsAndQuit(responsiveness); },
                    Qt::SingleShotConnection);
            // A job stuck in a system call must not keep the process alive forever.
            QTimer::singleShot(15'000, this, [this, responsiveness] {
                cli::printError(cli::Tr::tr("work did not stop within 15 s of cancelling; quitting anyway"));
                writeStatsAndQuit(responsiveness);
            });
        } else {
            writeStatsAndQuit(responsiveness);
        }
    }

    void writeStatsAndQuit(const QJsonObject &responsiveness)
    {
        if (m_writing)
            return;
        m_writing = true;
        if (m_options.statsJsonPath.isEmpty()) {
            afterScreenshot([] { QCoreApplication::quit(); });
            return;
        }
        onFinished(m_service.statusCounts(0), this, [this, responsiveness](Result<QHash<DocStatus, qint64>> counts) {
            QJsonObject byStatus;
            qint64 total = 0;
            if (counts) {
                for (int i = 0; i < kDocStatusCount; ++i) {
                    const qint64 n = counts->value(static_cast<DocStatus>(i), 0);
                    byStatus.insert(statusName(static_cast<DocStatus>(i)), n);
                    total += n;
                }
            } else {
                std::fprintf(stderr, "quire: %s\n", qUtf8Printable(counts.error()));
                m_exitCode = kExitFailure;
            }
            const ResponsivenessMonitor::Figures session = m_monitor.session();
            QJsonObject stats{
                {QStringLiteral("quire_version"), QStringLiteral(QUIRE_VERSION)},
                {QStringLiteral("qt_version"), QString::fromLatin1(qVersion())},
                {QStringLiteral("elapsed_ms"), m_options.startClock.elapsed()},
                {QStringLiteral("first_paint_ms"), m_firstPaintMs},
                {QStringLiteral("first_rows_paint_ms"), m_firstRowsPaintMs},
                {QStringLiteral("ready_ms"), m_readyMs},
                {QStringLiteral("idle_ms"), m_idleMs},
                {QStringLiteral("max_lateness_ms"), session.maxMs},
                {QStringLiteral("p50_lateness_ms"), session.p50Ms},
                {QStringLiteral("p99_lateness_ms"), session.p99Ms},
                {QStringLiteral("ui_thread_cpu_ms"), responsiveness.value(QStringLiteral("ui_thread_cpu_ms"))},
                {QStringLiteral("responsiveness"), responsiveness},
                {QStringLiteral("documents_by_status"), byStatus},
                {QStringLiteral("documents_total"), total},
                {QStringLiteral("documents_listed"), m_window.documentModel()->rowCount()},
                {QStringLiteral("ingest"),
                 QJsonObject{
                     {QStringLiteral("jobs"), m_jobs},
                     {QStringLiteral("files_done"), m_filesDone},
                     {QStringLiteral("files_failed"), m_filesFailed},
                     {QStringLiteral("bytes_done"), m_bytesDone},
                 }},
                {QStringLiteral("exit_code"), m_exitCode},
            };
            const QString path = m_options.statsJsonPath;
            auto write = [stats, path]() mutable {
                stats.insert(QStringLiteral("load_average"), loadAverage());
                return writeFile(path, QJsonDocument(stats).toJson(QJsonDocument::Indented));
            };
            onFinished(m_options.pools.run(m_options.pools.io(), std::move(write)), this,
                       [this](Status written) {
                           if (!written) {
                               std::fprintf(stderr, "quire: %s\n", qUtf8Printable(written.error()));
                               m_exitCode = kExitFailure;
                           }
                           afterScreenshot([] { QCoreApplication::quit(); });
                       });
        });
    }

    template <typename F>
    void afterScreenshot(F done)
    {
        if (!m_screenshot.isValid() || m_screenshot.isFinished()) {
            if (m_screenshot.isValid() && !m_screenshot.result())
                std::fprintf(stderr, "quire: %s\n", qUtf8Printable(m_screenshot.result().error()));
            done();
            return;
        }
        onFinished(m_screenshot, this, [done](Status saved) {
            if (!saved)
                std::fprintf(stderr, "quire: %s\n", qUtf8Printable(saved.error()));
            done();
        });
    }

    const GuiOptions &m_options;
    CatalogService &m_service;
    UploadController &m_uploads;
    BrowserWindow &m_window;
    ResponsivenessMonitor &m_monitor;
    int m_exitCode = kExitOk;
    bool m_finishing = false;
    bool m_writing = false;
    qint64 m_firstPaintMs = -1;
    qint64 m_firstRowsPaintMs = -1;
    qint64 m_readyMs = -1;
    qint64 m_idleMs = -1;
    int m_jobs = 0;
    qint64 m_filesDone = 0;
    qint64 m_filesFailed = 0;
    qint64 m_bytesDone = 0;
    QElapsedTimer m_firstJob;
    QTimer m_screenshotTimer;
    bool m_screenshotTaken = false;
    QFuture<Status> m_screenshot;
};

} // namespace

int runGui(const GuiOptions &options)
{
    Q_ASSERT(qobject_cast<QApplication *>(QCoreApplication::instance()));
    // The window's close starts an orderly shutdown (stats, pending writes); quit comes after.
    QApplication::setQuitOnLastWindowClosed(false);
    QGuiApplication::setDesktopFileName(QStringLiteral("io.github.quire.Quire"));

    // Measured from the first paint on: before it there is no window to respond with, and the
    // start-up itself is reported separately (first_paint_ms).
    ResponsivenessMonitor monitor;
    CatalogService service(options.catalog, options.pools);
    // Shown to the person in their language; written to --stats-json in English.
    monitor.setContextProvider([&service] {
        static const char *const text = QT_TRANSLATE_N_NOOP(
                "quire::cli", "%n ingest job(s), %1 of %2 files done; I/O pool %3/%4 busy, CPU pool %5/%6 busy");
        const WorkSummary s = service.summary();
        const int ioBusy = service.pools().io()->activeThreadCount();
        const int cpuBusy = service.pools().cpu()->activeThreadCount();
        auto fill = [&](const QString &words) {
            return words.arg(s.filesDone)
                .arg(s.filesFound)
                .arg(ioBusy)
                .arg(service.pools().io()->maxThreadCount())
                .arg(cpuBusy)
                .arg(service.pools().cpu()->maxThreadCount());
        };
        return ResponsivenessMonitor::Words{
                fill(cli::Tr::tr(text, nullptr, s.runningJobs)),
                fill(QString::fromLatin1(text).replace(QLatin1String("%n"), QString::number(s.runningJobs)))};
    });

    // PATHs (and files handed over later) go into --collection, else where `quire add` puts them.
    const QString addInto = options.collection.isEmpty() ? cli::defaultCollectionName() : options.collection;
    // Made absolute here: they may be handed to a window running in another folder.
    QList<QByteArray> paths;
    for (const QByteArray &p : options.paths)
        paths << absolutePath(p);
    // What the window selects at start: where PATHs go, else --collection (none: the last used).
    const QString collection = paths.isEmpty() ? options.collection : addInto;

    // An interactive window is the one window of its catalog: when one is open already, PATHs
    // go to it and this process ends (runs that measure or quit by themselves stay apart).
    std::optional<SingleInstance> instance;
    if (!options.quitWhenIdle && options.statsJsonPath.isEmpty() && options.screenshotPath.isEmpty()) {
        instance.emplace(instanceKey(options.catalog.config()));
        switch (instance->claim(addInto, paths)) {
        case SingleInstance::Role::HandedOver:
            cli::printError(cli::Tr::tr("handed over to the Quire window already open on this catalog"));
            return kExitOk;
        case SingleInstance::Role::Alone:
            instance.reset();
            break;
        case SingleInstance::Role::Primary:
            break;
        }
    }

    // Uploads, next to the catalog service: the window tells the controller what happened and
    // shows what it does; it starts once the window has opened the catalog.
    UploadController uploads(service, options.store);
    BrowserWindow window(service, options.store, uploads, &monitor);
    QObject::connect(&window, &BrowserWindow::firstPainted, &monitor, &ResponsivenessMonitor::start,
                     Qt::SingleShotConnection);
    GuiRun run(options, service, uploads, window, monitor);
#ifdef Q_OS_MACOS
    // Files the system hands over later (Dock icon, Finder's Open With) go where PATHs go. Only
    // here: Qt sends QFileOpenEvent on macOS alone, and the filter sees every event of the app.
    const FileOpenReceiver fileOpen(window, addInto);
#endif
    if (instance) {
        QObject::connect(&window, &BrowserWindow::closing, &*instance, &SingleInstance::stopListening);
        QObject::connect(&*instance, &SingleInstance::filesReceived, &window,
                         [&window, addInto](const QString &collection, const QList<QByteArray> &received) {
                             if (!received.isEmpty())
                                 window.openFiles(collection.isEmpty() ? addInto : collection, received);
                             window.setWindowState((window.windowState() & ~Qt::WindowMinimized) | Qt::WindowActive);
                             window.raise();
                             window.activateWindow();
                         });
    }
#ifdef Q_OS_UNIX
    const TerminationSignals terminationSignals([&window](int sig) {
        cli::printError(cli::Tr::tr("%1 received, closing the window")
                            .arg(QLatin1String(sig == SIGINT ? "SIGINT" : "SIGTERM")));
        window.close();
    });
#endif
    window.show();
    window.start(collection, paths);

    QCoreApplication::exec();
    return run.exitCode();
}

} // namespace quire
