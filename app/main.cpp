// The composition root: parses the command line, builds the session store, the catalog and the
// pools, and either opens the window or runs one headless command on a command thread.

#include "catalog/catalog.h"
#include "catalog/catalogconfig.h"
#include "cli.h"
#include "commands.h"
#include "settings/credentials.h"
#include "catalog/dbconnections.h"
#include "guicommand.h"
#include "hashcommand.h"
#include "platform/nativefs.h"
#include "jobs/pools.h"
#include "net/http.h"
#include "net/ratelimit.h"
#include "remotecommands.h"
#include "settings/sessionstore.h"
#include "platform/translations.h"

#include <QApplication>
#include <optional>
#include <QCommandLineParser>

#include <atomic>
#include <QElapsedTimer>
#include <QThread>

#include <csignal>
#include <cstdio>

#ifdef Q_OS_WIN
#  include <fcntl.h>
#  include <io.h>
#  include <windows.h>
#  ifndef ENABLE_VIRTUAL_TERMINAL_PROCESSING   // Windows SDKs before 10.0.14393
#    define ENABLE_VIRTUAL_TERMINAL_PROCESSING 0x0004
#  endif
#endif
#include <memory>

namespace {

using namespace quire;

std::atomic_bool g_interrupted{false};

extern "C" void onInterrupt(int sig)
{
    // Only async-signal-safe work here. A second Ctrl+C kills the process the default way.
    g_interrupted = true;
    std::signal(sig, SIG_DFL);
}

// Every option once: its names, its value, the lines --help gives it.
struct OptionInfo
{
    const char *names;        // comma-separated, a one-letter name first if it has one: "c,collection"
    const char *valueName;    // nullptr: a switch
    const char *help;         // lines after the first are indented under it; %1: the default collection
                              // (marked for translation, translated where --help is built)

    QStringList nameList() const { return QString::fromLatin1(names).split(QLatin1Char(',')); }
};

const QList<OptionInfo> &optionTable()
{
    static const QList<OptionInfo> table = {
        {"h,help", nullptr, QT_TRANSLATE_NOOP("quire::cli", "show this help and exit")},
        {"v,version", nullptr, QT_TRANSLATE_NOOP("quire::cli", "show the version and exit")},
        {"catalog", "PATH|URL",
         QT_TRANSLATE_NOOP("quire::cli",
                           "the catalog: a SQLite file (path or file:// URL),\n"
                           "postgresql://user@host/db or mysql://user@host/db (MariaDB)\n"
                           "(default: $QUIRE_CATALOG, else catalog.sqlite in the data folder)\n"
                           "its password: $QUIRE_CATALOG_PASSWORD, else ~/.pgpass or ~/.my.cnf")},
        {"config", "PATH",
         QT_TRANSLATE_NOOP("quire::cli",
                           "the settings file (default: $QUIRE_CONFIG, else settings.json\n"
                           "in the configuration folder)")},
        {"jobs", "N", QT_TRANSLATE_NOOP("quire::cli", "hash N files at a time (default: the number of cores)")},
        {"c,collection", "NAME", QT_TRANSLATE_NOOP("quire::cli", "the collection to add to (default: %1)")},
        {"remote", "NAME", QT_TRANSLATE_NOOP("quire::cli", "the remote a new collection uploads to")},
        {"no-upload", nullptr, QT_TRANSLATE_NOOP("quire::cli", "(add) only catalog; upload later with 'quire push'")},
        {"json", nullptr, QT_TRANSLATE_NOOP("quire::cli", "print JSON instead of a table")},
        {"kind", "KIND", QT_TRANSLATE_NOOP("quire::cli", "(remote add) local, webdav, http or s3")},
        {"url", "URL", QT_TRANSLATE_NOOP("quire::cli", "(remote add) the folder or server URL (s3: the endpoint)")},
        {"user", "USER",
         QT_TRANSLATE_NOOP("quire::cli",
                           "(remote add) the user name (s3: the access key id); the\n"
                           "password (s3: the secret access key) is asked for (or\n"
                           "$QUIRE_PASSWORD_<NAME>) and kept in the system keychain")},
        {"bucket", "BUCKET", QT_TRANSLATE_NOOP("quire::cli", "(remote add/edit, s3) the bucket")},
        {"prefix", "P",
         QT_TRANSLATE_NOOP("quire::cli", "(remote add/edit, s3) a key prefix: objects go to P<collection>/")},
        {"region", "R",
         QT_TRANSLATE_NOOP("quire::cli",
                           "(remote add/edit, s3) the signing region (default: from an AWS\n"
                           "endpoint's name, else us-east-1)")},
        {"path-style", nullptr,
         QT_TRANSLATE_NOOP("quire::cli", "(remote add/edit, s3) address the bucket as ENDPOINT/BUCKET/")},
        {"allow-insecure-auth", nullptr,
         QT_TRANSLATE_NOOP("quire::cli", "(remote add) allow a password over plain http://")},
        {"ca-file", "PATH",
         QT_TRANSLATE_NOOP("quire::cli",
                           "(remote add/edit) https: trust the CA certificates in this PEM\n"
                           "file instead of the system's (\"\" to go back to the system's)")},
        {"fingerprint", "SHA256",
         QT_TRANSLATE_NOOP("quire::cli",
                           "(remote trust) trust the server's certificate only if its SHA-256\n"
                           "fingerprint is SHA256 (as 'openssl x509 -fingerprint -sha256' prints it)")},
        {"limit-rate", "RATE",
         QT_TRANSLATE_NOOP("quire::cli",
                           "upload speed limit, bytes per second with k/M/G (1024-based):\n"
                           "(add, push) for this run; (remote add/edit) for that remote")},
        {"deep", nullptr, QT_TRANSLATE_NOOP("quire::cli", "(verify) read every document back and compare its SHA-256")},
        {"quit-when-idle", nullptr, QT_TRANSLATE_NOOP("quire::cli", "(gui) quit once all work is done")},
        {"stats-json", "FILE", QT_TRANSLATE_NOOP("quire::cli", "(gui) write responsiveness figures to FILE on exit")},
        {"screenshot", "FILE", nullptr},   // (gui) for the documentation; not in --help
    };
    return table;
}

QList<QCommandLineOption> parserOptions()
{
    QList<QCommandLineOption> out;
    for (const OptionInfo &o : optionTable())
        out.append(QCommandLineOption(o.nameList(), QString(), o.valueName ? QString::fromLatin1(o.valueName) : QString()));
    return out;
}

// Every command once: its name, its --help lines, the options it takes besides the global ones,
// and what runs it on the command thread (gui: nullptr, it runs on the main thread).
struct CommandInfo
{
    const char *name;
    const char *synopsis;     // marked for translation, as OptionInfo::help
    QStringList options;
    int (*run)(cli::Context &);
};

const QList<CommandInfo> &commands()
{
    static const QList<CommandInfo> list = {
        {"gui", QT_TRANSLATE_NOOP("quire::cli", "gui [--collection NAME] [PATH...]   open the window (the default), adding PATHs"),
         {QStringLiteral("collection"), QStringLiteral("quit-when-idle"), QStringLiteral("stats-json"),
          QStringLiteral("screenshot")},
         nullptr},
        {"hash", QT_TRANSLATE_NOOP("quire::cli", "hash [PATH...]                     print SHA-256 sums exactly like sha256sum"), {},
         [](cli::Context &c) { return runHashCommand(c.rawArgs, c.pools, &c.cancelled); }},
        {"add", QT_TRANSLATE_NOOP("quire::cli",
                                  "add [--collection NAME] [--no-upload] PATH...  hash files and folders into a\n"
                                  "                                     collection, then upload them if it has a remote"),
         {QStringLiteral("collection"), QStringLiteral("remote"), QStringLiteral("no-upload"),
          QStringLiteral("limit-rate")},
         cli::runAddCommand},
        {"collections",
         QT_TRANSLATE_NOOP("quire::cli",
                           "collections [list|create|rename|remove] [NAME [NEW-NAME]] [--remote R] [--json]\n"
                           "  collections set-remote NAME [REMOTE]  where a collection uploads (none: no uploads)"),
         {QStringLiteral("json"), QStringLiteral("remote")}, cli::runCollectionsCommand},
        {"ls", QT_TRANSLATE_NOOP("quire::cli", "ls [COLLECTION] [--json]           list documents and their status"),
         {QStringLiteral("json")}, cli::runLsCommand},
        {"remote",
         QT_TRANSLATE_NOOP("quire::cli",
                           "remote add NAME --kind local|webdav|http|s3 --url URL [--user USER] [--allow-insecure-auth]\n"
                           "           [--ca-file PATH] [--limit-rate RATE]\n"
                           "           (s3: --bucket BUCKET [--prefix P] [--region R] [--path-style])\n"
                           "  remote edit NAME [--url URL] [--user USER] [--ca-file PATH] [--limit-rate RATE]\n"
                           "  remote trust NAME [--fingerprint SHA256]  trust the server's certificate\n"
                           "  remote list | remove NAME | test NAME  manage where collections upload to"),
         {QStringLiteral("kind"), QStringLiteral("url"), QStringLiteral("user"),
          QStringLiteral("allow-insecure-auth"), QStringLiteral("ca-file"), QStringLiteral("limit-rate"),
          QStringLiteral("fingerprint"), QStringLiteral("bucket"), QStringLiteral("prefix"),
          QStringLiteral("region"), QStringLiteral("path-style")},
         cli::runRemoteCommand},
        {"push", QT_TRANSLATE_NOOP("quire::cli", "push [COLLECTION] [--limit-rate RATE]  upload whatever is pending"),
         {QStringLiteral("limit-rate")}, cli::runPushCommand},
        {"verify",
         QT_TRANSLATE_NOOP("quire::cli", "verify [COLLECTION] [--deep]       check uploaded documents against the remote"),
         {QStringLiteral("deep")}, cli::runVerifyCommand},
    };
    return list;
}

const QStringList kGlobalOptions = {
    QStringLiteral("help"), QStringLiteral("version"), QStringLiteral("catalog"),
    QStringLiteral("config"), QStringLiteral("jobs"),
};

QString helpText()
{
    QString text = cli::Tr::tr(
        "Usage: quire [OPTIONS] [COMMAND] [ARGS...]\n"
        "\n"
        "Quire hashes documents (SHA-256), records them in a catalog of collections and uploads\n"
        "them to a remote. With no command it opens the window; with a command it runs without one.\n");
    text += QLatin1Char('\n') + cli::Tr::tr("Commands:") + QLatin1Char('\n');
    for (const CommandInfo &c : commands())
        text += QStringLiteral("  %1\n").arg(cli::Tr::tr(c.synopsis));
    text += QLatin1Char('\n') + cli::Tr::tr("Options (before or after the command):") + QLatin1Char('\n');
    // "  -h, --help             show ...": the names in a column of 23, the help after it (or
    // two spaces further when the names are longer), its further lines under the first.
    constexpr int kColumn = 23;
    const QString indent(2 + kColumn, QLatin1Char(' '));
    for (const OptionInfo &o : optionTable()) {
        if (!o.help)
            continue;
        const QStringList names = o.nameList();
        QString left = names.first().size() == 1 ? QStringLiteral("-%1, ").arg(names.first()) : QStringLiteral("    ");
        left += QStringLiteral("--") + names.last();
        if (o.valueName)
            left += QLatin1Char(' ') + QLatin1String(o.valueName);
        left = left.size() < kColumn ? left.leftJustified(kColumn) : left + QStringLiteral("  ");
        const QStringList lines = cli::Tr::tr(o.help).split(QLatin1Char('\n'));
        text += QStringLiteral("  ") + left + lines.first() + QLatin1Char('\n');
        for (qsizetype i = 1; i < lines.size(); ++i)
            text += indent + lines.at(i) + QLatin1Char('\n');
    }
    text += QLatin1Char('\n')
        + cli::Tr::tr("Exit status: 0 success, 1 something failed (each failure is named on stderr),\n"
                      "2 bad command line, 130 interrupted.\n");
    return text.arg(cli::defaultCollectionName());
}

// The arguments as decoded strings (for QCommandLineParser) and as the exact bytes given:
// file names on POSIX are bytes and need not be valid UTF-8.
struct Arguments
{
    QStringList decoded;
    QList<QByteArray> raw;
};

Arguments readArguments(int argc, char *argv[])
{
    Arguments a;
    for (int i = 0; i < argc; ++i) {
#ifdef Q_OS_WIN
        // The application manifest makes argv UTF-8 (Windows 10 1903 and later); path bytes on
        // Windows are UTF-8 with '/' separators (nativefs.h).
        a.decoded.append(QString::fromUtf8(argv[i]));
        a.raw.append(nativePath(a.decoded.last()));
#else
        a.raw.append(QByteArray(argv[i]));
        a.decoded.append(QString::fromLocal8Bit(argv[i]));
#endif
    }
    return a;
}

// Windows only: binary standard streams (`quire hash < file` must see every byte, and output
// lines end in "\n" as sha256sum's do), UTF-8 console output, and the console's VT mode for
// the "\r\033[K" progress line. POSIX streams are all of that already.
void setUpStandardStreams()
{
#ifdef Q_OS_WIN
    // quire.exe (no console) started from Explorer has no standard streams: _fileno() is
    // negative there, and _setmode() on it would end the process.
    for (FILE *stream : {stdin, stdout, stderr}) {
        if (_fileno(stream) >= 0)
            _setmode(_fileno(stream), _O_BINARY);
    }
    SetConsoleOutputCP(CP_UTF8);
    const HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
    DWORD mode = 0;
    if (err != INVALID_HANDLE_VALUE && GetConsoleMode(err, &mode))
        SetConsoleMode(err, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING);
#endif
}

// The raw bytes of the positional arguments, in order. Mirrors QCommandLineParser's rules:
// options taking a value consume the next argument unless written as --opt=value, and "--"
// ends option parsing.
QList<QByteArray> rawPositionals(const Arguments &a, const QCommandLineParser &parser,
                                 const QList<QCommandLineOption> &options)
{
    QSet<QString> takesValue;
    for (const QCommandLineOption &o : options) {
        if (!o.valueName().isEmpty()) {
            for (const QString &n : o.names())
                takesValue.insert(n);
        }
    }
    Q_UNUSED(parser);
    QList<QByteArray> out;
    bool onlyPositionals = false;
    for (qsizetype i = 1; i < a.raw.size(); ++i) {
        const QString &s = a.decoded.at(i);
        if (onlyPositionals || s == QLatin1String("-") || !s.startsWith(QLatin1Char('-'))) {
            out.append(a.raw.at(i));
            continue;
        }
        if (s == QLatin1String("--")) {
            onlyPositionals = true;
            continue;
        }
        const QString name = s.mid(s.startsWith(QLatin1String("--")) ? 2 : 1);
        if (!name.contains(QLatin1Char('=')) && takesValue.contains(name))
            ++i;
    }
    return out;
}

// The parser that reads every option (each command's own are checked in checkCommandLine()).
void setUpParser(QCommandLineParser &parser, const QList<QCommandLineOption> &options)
{
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    parser.addOptions(options);
}

// A parsed command line whose command and options have been checked.
struct CommandLine
{
    const CommandInfo *info = nullptr;
    QString command;            // "gui" when none is given
    QStringList positional;     // the arguments after the command, decoded
    QList<QByteArray> raw;      // the same, as the bytes given
    int jobs = 0;               // --jobs; 0: not given
    std::optional<qint64> limitRate;   // --limit-rate of add and push
};

// The command, the options it takes, --jobs and --limit-rate; the usage error when one is wrong.
Result<CommandLine> checkCommandLine(const Arguments &args, const QCommandLineParser &parser,
                                    const QList<QCommandLineOption> &options)
{
    using R = Result<CommandLine>;
    CommandLine line;
    line.positional = parser.positionalArguments();
    line.raw = rawPositionals(args, parser, options);
    Q_ASSERT(line.raw.size() == line.positional.size());
    line.command = line.positional.isEmpty() ? QStringLiteral("gui") : line.positional.takeFirst();
    if (!line.raw.isEmpty())
        line.raw.removeFirst();

    for (const CommandInfo &c : commands()) {
        if (line.command == QLatin1String(c.name))
            line.info = &c;
    }
    if (!line.info)
        return R::failure(cli::Tr::tr("unknown command '%1'").arg(line.command));
    for (const QString &name : parser.optionNames()) {
        const QCommandLineOption *opt = nullptr;
        for (const QCommandLineOption &o : options) {
            if (o.names().contains(name))
                opt = &o;
        }
        const QString longName = opt ? opt->names().constLast() : name;
        if (!kGlobalOptions.contains(longName) && !line.info->options.contains(longName))
            return R::failure(cli::Tr::tr("option '--%1' does not apply to '%2'").arg(longName, line.command));
    }
    if (parser.isSet(QStringLiteral("jobs"))) {
        bool ok = false;
        line.jobs = parser.value(QStringLiteral("jobs")).toInt(&ok);
        if (!ok || line.jobs < 1 || line.jobs > 1024)
            return R::failure(cli::Tr::tr("--jobs needs a whole number from 1 to 1024, not '%1'")
                                  .arg(parser.value(QStringLiteral("jobs"))));
    }

    if (parser.isSet(QStringLiteral("limit-rate")) && line.command != QLatin1String("remote")) {
        line.limitRate = net::parseRate(parser.value(QStringLiteral("limit-rate")));
        if (!line.limitRate)
            return R::failure(cli::Tr::tr("--limit-rate needs a rate such as 10M, 512k or 0 (none), not '%1'")
                                  .arg(parser.value(QStringLiteral("limit-rate"))));
    }
    return line;
}

// True when the command line is a valid one that opens the window: only then is the application
// object the window's, which needs a display.
bool opensWindow(const Arguments &args)
{
    const QList<QCommandLineOption> options = parserOptions();
    QCommandLineParser parser;
    setUpParser(parser, options);
    if (!parser.parse(args.decoded) || parser.isSet(QStringLiteral("help")) || parser.isSet(QStringLiteral("version")))
        return false;
    const Result<CommandLine> line = checkCommandLine(args, parser, options);
    return line && line->command == QLatin1String("gui");
}

} // namespace

int main(int argc, char *argv[])
{
    QElapsedTimer startClock;
    startClock.start();
    quire::net::initLibraries();   // before any thread: see its comment
    setUpStandardStreams();
    const Arguments args = readArguments(argc, argv);

    // The application object and the translations come first, so that every message below is
    // built translated (the parser's own too).
    const bool gui = opensWindow(args);
    std::unique_ptr<QCoreApplication> app;
    if (gui)
        app = std::make_unique<QApplication>(argc, argv);
    else
        app = std::make_unique<QCoreApplication>(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("Quire"));
    QCoreApplication::setApplicationName(QStringLiteral("quire"));
    QCoreApplication::setApplicationVersion(QStringLiteral(QUIRE_VERSION));
    Q_INIT_RESOURCE(quire_translations);   // compiled into a static library: registered by hand
    installTranslations();

    const QList<QCommandLineOption> options = parserOptions();
    QCommandLineParser parser;
    setUpParser(parser, options);
    if (!parser.parse(args.decoded))
        return cli::usageError(parser.errorText());

    if (parser.isSet(QStringLiteral("help"))) {
        std::fputs(helpText().toUtf8().constData(), stdout);
        return cli::kExitOk;
    }
    if (parser.isSet(QStringLiteral("version"))) {
        std::printf("quire %s (Qt %s)\n", QUIRE_VERSION, qVersion());
        return cli::kExitOk;
    }

    Result<CommandLine> line = checkCommandLine(args, parser, options);
    if (!line)
        return cli::usageError(line.error());
    const QString command = line->command;

    SessionStore store(SessionStore::resolveSettingsPath(parser.value(QStringLiteral("config"))));
    if (auto loaded = store.load(); !loaded)
        cli::printError(cli::Tr::tr("%1 (using the defaults)").arg(loaded.error()));
    if (line->limitRate)
        (void)store.setValue(QStringLiteral("session/uploads/limitRate"), QString::number(*line->limitRate));

    // A catalog location Quire cannot serve ("mongodb://...") is a mistake on the command line, in
    // $QUIRE_CATALOG or in the settings (Settings › Catalog), not a file name: said before anything
    // runs. `hash` has no catalog.
    const QString savedCatalog = store.value(QStringLiteral("settings/catalog")).valueOr({}).toString();
    const CatalogConfig catalogConfig = CatalogConfig::fromOption(parser.value(QStringLiteral("catalog")), savedCatalog);
    if (const std::optional<QString> unusable = catalogConfig.locationError();
        unusable && command != QLatin1String("hash")) {
        const QString source = parser.isSet(QStringLiteral("catalog"))          ? QStringLiteral("--catalog")
                             : !qEnvironmentVariableIsEmpty("QUIRE_CATALOG") ? QStringLiteral("$QUIRE_CATALOG")
                                                                              : cli::Tr::tr("the catalog in the settings");
        return cli::usageError(QStringLiteral("%1: %2").arg(source, *unusable));
    }
    if (parser.isSet(QStringLiteral("catalog")) && catalogConfig.passwordInUrl()) {
        return cli::usageError(cli::Tr::tr(
                "--catalog: a password in the catalog URL would show in every process listing; leave it out "
                "and set $QUIRE_CATALOG_PASSWORD, or put it in ~/.pgpass or ~/.my.cnf (the window asks for it and keeps it in "
                "the keychain)"));
    }

    Catalog catalog(catalogConfig);
    // A catalog server's password that the window kept (it asks when the server refuses one) is
    // tried when the server refuses a connection; the keychain is not asked otherwise.
    if (catalogConfig.isServer()) {
        catalog.connections().setPasswordLookup([where = catalogConfig.displayLocation()]() -> std::optional<QString> {
            const Result<std::optional<QString>> kept = Credentials::readCatalogPassword(where, std::chrono::seconds(20));
            if (!kept) {
                qWarning("quire: %s", qUtf8Printable(kept.error()));
                return std::nullopt;
            }
            return *kept;
        });
    }
    // Declared after the catalog so that it is destroyed first: the pools drain before the
    // catalog they use goes away, and pool threads close their own connections as they end.
    // 0: as many as the machine suggests (Pools).
    const int jobs = line->jobs != 0 ? line->jobs : int(store.intSetting(QStringLiteral("settings/workers/cpu"), 0, 0, 256));
    Pools pools(jobs, int(store.intSetting(QStringLiteral("settings/workers/io"), 0, 0, 64)));

    if (gui) {
        GuiOptions options{store, catalog, pools};
        options.collection = parser.value(QStringLiteral("collection"));
        options.paths = line->raw;
        options.quitWhenIdle = parser.isSet(QStringLiteral("quit-when-idle"));
        options.statsJsonPath = parser.value(QStringLiteral("stats-json"));
        options.screenshotPath = parser.value(QStringLiteral("screenshot"));
        options.startClock = startClock;
        return runGui(options);
    }

    std::signal(SIGINT, onInterrupt);
    std::signal(SIGTERM, onInterrupt);

    cli::Context ctx{store, catalog, pools, parser, command, line->positional, line->raw, g_interrupted};
    // Set by the command thread as the last thing it does, read here after it ended: an atomic
    // hand-over, because QThread::wait() is one that ThreadSanitizer cannot see (Qt is not
    // instrumented), and everything the command thread did must be seen as done before main()
    // tears the catalog and the pools down.
    std::atomic<int> status{cli::kExitFailure};
    std::unique_ptr<QThread> worker(QThread::create([&] {
        const int result = line->info->run(ctx);
        std::fflush(stdout);
        // Closed here, in this thread, while Qt's SQL registry certainly exists: thread_local
        // clean-up runs after QThread::wait() has returned, when main() may already be exiting.
        catalog.connections().releaseThisThread();
        status.store(result, std::memory_order_release);
    }));
    worker->setObjectName(QStringLiteral("quire-command"));
    QObject::connect(worker.get(), &QThread::finished, app.get(), &QCoreApplication::quit,
                     Qt::QueuedConnection);
    worker->start();
    app->exec();
    worker->wait();
    return status.load(std::memory_order_acquire);
}
