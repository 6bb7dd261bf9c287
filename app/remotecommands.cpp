#include "remotecommands.h"

#include "catalog/catalog.h"
#include "settings/credentials.h"
#include "net/http.h"
#include "net/ratelimit.h"
#include "remotes/remote.h"
#include "remotes/remoteprofile.h"
#include "settings/sessionstore.h"
#include "upload/uploadjob.h"

#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QSet>
#include <QUrl>

#include <cerrno>
#include <cstdio>

#ifdef Q_OS_WIN
#  include <iterator>
#  include <windows.h>
#else
#  include <poll.h>
#  include <termios.h>
#  include <unistd.h>
#endif

namespace quire::cli {

namespace {

void writeErr(const QString &text)
{
    const QByteArray b = text.toUtf8();
    std::fwrite(b.constData(), 1, size_t(b.size()), stderr);
    std::fflush(stderr);
}

QString option(Context &ctx, const char *name)
{
    // Only options the integrator registered can be asked for; an unknown one reads as unset.
    const QString n = QLatin1String(name);
    return ctx.parser.optionNames().contains(n) ? ctx.parser.value(n) : QString();
}

bool flag(Context &ctx, const char *name)
{
    return ctx.parser.optionNames().contains(QLatin1String(name));
}

// One line from the terminal with echo off (on, for an answer that is no secret), or from stdin
// when it is not a terminal. Polls so that Ctrl+C (ctx.cancelled) ends the wait and the
// terminal's echo is always restored.
std::optional<QString> readSecret(Context &ctx, const QString &prompt, bool echo = false)
{
#ifdef Q_OS_WIN
    // Windows: the console's own line input with echo off (Ctrl+C makes ReadConsoleW return,
    // and sets ctx.cancelled through the SIGINT handler); from a pipe, one line of stdin.
    const HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    DWORD mode = 0;
    if (in != INVALID_HANDLE_VALUE && GetConsoleMode(in, &mode)) {
        writeErr(prompt);
        SetConsoleMode(in, (echo ? mode : (mode & ~DWORD(ENABLE_ECHO_INPUT))) | ENABLE_LINE_INPUT | ENABLE_PROCESSED_INPUT);
        wchar_t buffer[1024];
        DWORD read = 0;
        const BOOL ok = ReadConsoleW(in, buffer, DWORD(std::size(buffer)), &read, nullptr);
        SetConsoleMode(in, mode);
        writeErr(QStringLiteral("\n"));
        QString line = QString::fromWCharArray(buffer, int(read));
        // Ctrl+C ends the read with no line ending (ctx.cancelled may be set a moment later,
        // from the console's handler thread): never take that for an empty password.
        if (!ok || ctx.cancelled || !line.endsWith(QLatin1Char('\n')))
            return std::nullopt;
        while (line.endsWith(QLatin1Char('\n')) || line.endsWith(QLatin1Char('\r')))
            line.chop(1);
        return line;
    }
    QByteArray line;
    for (int c = std::fgetc(stdin); c != EOF && c != '\n'; c = std::fgetc(stdin)) {
        if (ctx.cancelled)
            return std::nullopt;
        line += char(c);
    }
    if (line.endsWith('\r'))
        line.chop(1);
    return QString::fromUtf8(line);
#else
    const bool tty = ::isatty(STDIN_FILENO) != 0;
    termios saved {};
    if (tty) {
        writeErr(prompt);
        ::tcgetattr(STDIN_FILENO, &saved);
        termios quiet = saved;
        if (!echo)
            quiet.c_lflag &= ~tcflag_t(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    QByteArray line;
    bool ended = false;
    while (!ctx.cancelled) {
        pollfd p{STDIN_FILENO, POLLIN, 0};
        const int r = ::poll(&p, 1, 200);
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        char c = 0;
        const ssize_t n = ::read(STDIN_FILENO, &c, 1);
        if (n <= 0 || c == '\n') {
            ended = true;
            break;
        }
        line += c;
    }
    if (tty) {
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        if (!echo)
            writeErr(QStringLiteral("\n"));
    }
    if (!ended)
        return std::nullopt;
    if (line.endsWith('\r'))
        line.chop(1);
    return QString::fromUtf8(line);
#endif
}

QString docLabel(const QHash<qint64, QString> &collections, qint64 collectionId, const QString &fileName)
{
    return collections.value(collectionId, QStringLiteral("?")) + QLatin1Char('/') + fileName;
}

int finishStatus(Context &ctx, bool anyFailed)
{
    if (ctx.cancelled)
        return kExitCancelled;
    return anyFailed ? kExitFailure : kExitOk;
}

// --- remote ------------------------------------------------------------------------------------

int applyTransportOptions(Context &ctx, RemoteProfile &p);
int saveProfile(Context &ctx, const RemoteProfile &p, bool askSecret);
int applyOptionsAndSave(Context &ctx, RemoteProfile &p, bool askSecret);
Result<RemoteProfile> findProfile(Context &ctx, const QString &name);

int remoteAdd(Context &ctx)
{
    if (ctx.args.size() != 2)
        return usageError(Tr::tr("usage: quire remote add NAME --kind local|webdav|http|s3 --url URL [--user USER] "
                                 "[--ca-file PATH] [--limit-rate RATE] [--bucket BUCKET --prefix P --region R "
                                 "--path-style]"));
    RemoteProfile p;
    p.name = ctx.args.at(1);
    if (auto e = RemoteProfile::nameError(p.name))
        return usageError(*e);
    const auto kind = remoteKindFromName(option(ctx, "kind"));
    if (!kind)
        return usageError(Tr::tr("--kind must be local, webdav, http or s3"));
    p.kind = *kind;
    p.url = option(ctx, "url");
    if (p.url.isEmpty())
        return usageError(Tr::tr("--url is required"));
    if (p.kind == RemoteKind::Local && !QUrl(p.url).isLocalFile())
        p.url = QDir::cleanPath(QDir::current().absoluteFilePath(p.url));
    p.user = option(ctx, "user");
    return applyOptionsAndSave(ctx, p, true);
}

// The options remote add and remote edit share, then the checks and saveProfile().
int applyOptionsAndSave(Context &ctx, RemoteProfile &p, bool askSecret)
{
    if (flag(ctx, "allow-insecure-auth"))
        p.options.insert(QStringLiteral("allowInsecureAuth"), true);
    if (const int bad = applyTransportOptions(ctx, p))
        return bad;
    if (auto e = p.validationError())
        return usageError(*e);
    Credentials::setSoleRemote(p.name);
    return saveProfile(ctx, p, askSecret);
}

// --ca-file, --limit-rate and the S3 options of remote add and remote edit; non-zero: the exit
// status of a usage error.
int applyTransportOptions(Context &ctx, RemoteProfile &p)
{
    for (const char *name : {"bucket", "prefix", "region", "path-style"}) {
        if (flag(ctx, name) && p.kind != RemoteKind::S3)
            return usageError(Tr::tr("--%1 is for S3 remotes (--kind s3)").arg(QLatin1String(name)));
    }
    const std::pair<const char *, QString> s3Options[] = {
        {"bucket", QStringLiteral("bucket")}, {"prefix", QStringLiteral("prefix")}, {"region", QStringLiteral("region")}};
    for (const auto &[name, key] : s3Options) {
        if (!flag(ctx, name))
            continue;
        const QString value = option(ctx, name).trimmed();
        if (value.isEmpty())
            p.options.remove(key);
        else
            p.options.insert(key, value);
    }
    if (flag(ctx, "path-style"))
        p.options.insert(QStringLiteral("pathStyle"), true);
    if (flag(ctx, "ca-file")) {
        const QString ca = option(ctx, "ca-file");
        if (ca.isEmpty()) {
            p.options.remove(QStringLiteral("caFile"));
        } else {
            const QString path = QDir::cleanPath(QDir::current().absoluteFilePath(ca));
            QFile f(path);
            if (!f.open(QIODevice::ReadOnly) || !f.read(4096).contains("-----BEGIN CERTIFICATE-----"))
                return usageError(Tr::tr("--ca-file %1: not a readable PEM file of CA certificates").arg(path));
            p.options.insert(QStringLiteral("caFile"), path);
        }
    }
    if (flag(ctx, "limit-rate")) {
        const QString rate = option(ctx, "limit-rate");
        const auto parsed = net::parseRate(rate);
        if (!parsed)
            return usageError(Tr::tr("--limit-rate needs a rate such as 10M, 512k or 0 (none), not '%1'").arg(rate));
        if (*parsed == 0)
            p.options.remove(QStringLiteral("limitRate"));
        else
            p.options.insert(QStringLiteral("limitRate"), QString::number(*parsed));
    }
    return 0;
}

// Saves p (asking for its password when askSecret and it needs one) and says what was saved.
int saveProfile(Context &ctx, const RemoteProfile &p, bool askSecret)
{
    QString secretNote;
    bool failed = false;
    if (p.needsSecret() && askSecret) {
        if (Credentials::environmentSecret(p)) {
            secretNote = Tr::tr("password from the environment (not stored)");
        } else {
            const auto secret = readSecret(ctx, p.kind == RemoteKind::S3
                                                    ? Tr::tr("Secret access key for %1 at %2: ").arg(p.user, p.displayUrl())
                                                    : Tr::tr("Password for %1 at %2: ").arg(p.user, p.displayUrl()));
            if (ctx.cancelled)
                return kExitCancelled;
            if (!secret || secret->isEmpty()) {
                secretNote = Tr::tr("no password stored: set %1 when running quire")
                                 .arg(Credentials::environmentVariableFor(p.name));
            } else if (const Status s = Credentials::store(p.name, *secret); !s) {
                printError(Tr::tr("%1 (set %2 when running quire instead)")
                               .arg(s.error(), Credentials::environmentVariableFor(p.name)));
                failed = true;
                secretNote = Tr::tr("password NOT stored");
            } else {
                secretNote = Tr::tr("password in the keychain");
            }
        }
    }
    if (printIfFailed(RemoteProfiles(ctx.store).save(p)))
        return kExitFailure;
    if (printIfFailed(ctx.store.flush()))
        return kExitFailure;
    QString line = Tr::tr("Remote '%1' (%2) saved: %3").arg(p.name, remoteKindName(p.kind), p.displayUrl());
    if (p.kind == RemoteKind::S3) {
        line += Tr::tr(", bucket %1").arg(p.bucket());
        if (!p.keyPrefix().isEmpty())
            line += Tr::tr(", prefix %1").arg(p.keyPrefix());
        line += Tr::tr(", region %1").arg(p.region());
    }
    if (!p.user.isEmpty())
        line += (p.kind == RemoteKind::S3 ? Tr::tr(", access key %1") : Tr::tr(", user %1")).arg(p.user);
    if (!p.caFile().isEmpty())
        line += Tr::tr(", CA file %1").arg(p.caFile());
    if (!p.trustedCertificate().isEmpty())
        line += Tr::tr(", trusted certificate %1").arg(p.trustedCertificate());
    if (p.limitRate() > 0)
        line += Tr::tr(", upload limit %1").arg(net::formatRate(p.limitRate()));
    if (!secretNote.isEmpty())
        line += QStringLiteral(", ") + secretNote;
    printOut(line + QLatin1Char('\n'));
    return failed ? kExitFailure : kExitOk;
}

Result<RemoteProfile> findProfile(Context &ctx, const QString &name)
{
    const auto found = RemoteProfiles(ctx.store).find(name);
    if (!found)
        return Result<RemoteProfile>::failure(found.error());
    if (!*found)
        return Result<RemoteProfile>::failure(Tr::tr("no remote named '%1' (see 'quire remote list')").arg(name));
    return **found;
}

int remoteEdit(Context &ctx)
{
    if (ctx.args.size() != 2)
        return usageError(Tr::tr("usage: quire remote edit NAME [--url URL] [--user USER] [--ca-file PATH] "
                                 "[--limit-rate RATE] [--allow-insecure-auth] [--bucket BUCKET] [--prefix P] "
                                 "[--region R] [--path-style]"));
    auto found = findProfile(ctx, ctx.args.at(1));
    if (printIfFailed(found))
        return kExitFailure;
    RemoteProfile p = *found;
    const bool userChanged = flag(ctx, "user") && option(ctx, "user") != p.user;
    if (flag(ctx, "url"))
        p.url = option(ctx, "url");
    if (flag(ctx, "user"))
        p.user = option(ctx, "user");
    return applyOptionsAndSave(ctx, p, userChanged);
}

// y/yes on the terminal (or a line of standard input); nullopt when interrupted.
std::optional<bool> confirm(Context &ctx, const QString &question)
{
    writeErr(question);
    const auto line = readSecret(ctx, QString(), true);
    if (!line)
        return std::nullopt;
    const QString answer = line->trimmed().toLower();
    return answer == QLatin1String("y") || answer == QLatin1String("yes");
}

int remoteTrust(Context &ctx)
{
    if (ctx.args.size() != 2)
        return usageError(Tr::tr("usage: quire remote trust NAME [--fingerprint SHA256]"));
    auto found = findProfile(ctx, ctx.args.at(1));
    if (printIfFailed(found))
        return kExitFailure;
    RemoteProfile p = *found;
    std::optional<QByteArray> expected;
    if (flag(ctx, "fingerprint")) {
        expected = net::normalizeFingerprint(option(ctx, "fingerprint"));
        if (!expected)
            return usageError(Tr::tr("--fingerprint needs a SHA-256 fingerprint as "
                                     "'openssl x509 -noout -fingerprint -sha256' prints it"));
    }
    // Judged afresh: the certificate pinned so far is not taken for granted.
    RemoteProfile probe = p;
    probe.options.remove(QStringLiteral("trustedCertificate"));
    UploadControl control;
    const net::ServerCertificate seen = net::inspectCertificate(probe, UploadSettings::fromStore(ctx.store).limits, &control);
    if (seen.error) {
        printError(Tr::tr("remote '%1': %2").arg(p.name, seen.error->message));
        return kExitFailure;
    }
    const net::CertificateInfo &cert = seen.tls.peer;
    const QString host = QUrl(p.url).host();
    if (seen.trusted && !expected) {
        printOut(Tr::tr("The certificate of %1 is trusted already (%2); nothing to change.\n")
                     .arg(host, p.caFile().isEmpty() ? Tr::tr("system CA certificates")
                                                     : Tr::tr("CA file %1").arg(p.caFile())));
        if (!p.trustedCertificate().isEmpty()) {
            p.options.remove(QStringLiteral("trustedCertificate"));
            return saveProfile(ctx, p, false);
        }
        return kExitOk;
    }
    if (!cert.isValid()) {
        printError(Tr::tr("remote '%1': %2 showed no certificate that could be read").arg(p.name, host));
        return kExitFailure;
    }
    printOut(Tr::tr("Certificate of %1%2:\n%3\n")
                 .arg(host, seen.tls.problem.isEmpty() ? QString() : Tr::tr(" (not trusted: %1)").arg(seen.tls.problem),
                      cert.describe()));
    std::fflush(stdout);
    if (expected) {
        if (*expected != cert.sha256) {
            printError(Tr::tr("remote '%1': the server shows the certificate %2, not %3; nothing trusted")
                           .arg(p.name, QString::fromLatin1(cert.sha256), QString::fromLatin1(*expected)));
            return kExitFailure;
        }
    } else {
        const auto yes = confirm(ctx, Tr::tr("Trust this certificate for remote '%1'? [y/N] ").arg(p.name));
        if (!yes)
            return kExitCancelled;
        if (!*yes) {
            printOut(Tr::tr("Not trusted; nothing changed.\n"));
            return kExitFailure;
        }
    }
    p.options.insert(QStringLiteral("trustedCertificate"), QString::fromLatin1(cert.sha256));
    return saveProfile(ctx, p, false);
}

int remoteList(Context &ctx)
{
    const auto list = RemoteProfiles(ctx.store).list();
    if (printIfFailed(list))
        return kExitFailure;
    // An S3 remote's URL is its endpoint; the bucket and prefix are shown with it.
    auto where = [](const RemoteProfile &p) {
        return p.kind == RemoteKind::S3 ? QStringLiteral("%1 [%2/%3]").arg(p.displayUrl(), p.bucket(), p.keyPrefix())
                                        : p.displayUrl();
    };
    const QString name = Tr::tr("NAME"), kind = Tr::tr("KIND"), url = Tr::tr("URL");
    qsizetype w0 = name.size(), w1 = kind.size(), w2 = url.size();
    for (const RemoteProfile &p : *list) {
        w0 = std::max(w0, p.name.size());
        w1 = std::max(w1, remoteKindName(p.kind).size());
        w2 = std::max(w2, where(p).size());
    }
    QString out = QStringLiteral("%1  %2  %3  %4\n").arg(name, -int(w0)).arg(kind, -int(w1)).arg(url, -int(w2)).arg(Tr::tr("USER"));
    for (const RemoteProfile &p : *list) {
        QString user = p.user;
        if (p.usesBearerToken())
            user = Tr::tr("(token)");
        if (p.name == RemoteProfile::defaultLocalName() && p.url == RemoteProfile::defaultLocalFolder())
            user = Tr::tr("(built-in)");
        out += QStringLiteral("%1  %2  %3  %4\n").arg(p.name, -int(w0)).arg(remoteKindName(p.kind), -int(w1)).arg(where(p), -int(w2)).arg(user);
    }
    printOut(out);
    return kExitOk;
}

int remoteRemove(Context &ctx)
{
    if (ctx.args.size() != 2)
        return usageError(Tr::tr("usage: quire remote remove NAME"));
    const QString name = ctx.args.at(1);
    if (printIfFailed(ctx.catalog.open()))
        return kExitFailure;
    const auto collections = ctx.catalog.collections();
    if (printIfFailed(collections))
        return kExitFailure;
    QStringList users;
    for (const Collection &c : *collections) {
        if (c.remote == name)
            users << c.name;
    }
    if (!users.isEmpty()) {
        printError(Tr::tr("remote '%1' is used by collection(s) %2; give them another remote first "
                          "('quire collections set-remote COLLECTION [REMOTE]')")
                       .arg(name, users.join(QStringLiteral(", "))));
        return kExitFailure;
    }
    if (printIfFailed(RemoteProfiles(ctx.store).remove(name)))
        return kExitFailure;
    if (printIfFailed(ctx.store.flush()))
        return kExitFailure;
    // The keychain entry goes too; no keychain at all is not a failure of the removal.
    printIfFailed(Credentials::remove(name));
    printOut(Tr::tr("Remote '%1' removed\n").arg(name));
    return kExitOk;
}

Result<std::shared_ptr<Remote>> openRemote(Context &ctx, const QString &name, const UploadSettings &settings)
{
    using R = Result<std::shared_ptr<Remote>>;
    const auto found = findProfile(ctx, name);
    if (!found)
        return R::failure(found.error());
    Credentials::setSoleRemote(name);
    const auto secret = Credentials::secretFor(*found);
    if (!secret)
        return R::failure(secret.error());
    auto remote = Remote::create(*found, *secret, settings.limits);
    if (!remote)
        return R::failure(remote.error());
    return R(std::shared_ptr<Remote>(std::move(remote).value()));
}

int remoteTest(Context &ctx)
{
    if (ctx.args.size() != 2)
        return usageError(Tr::tr("usage: quire remote test NAME"));
    const auto remote = openRemote(ctx, ctx.args.at(1), UploadSettings::fromStore(ctx.store));
    if (printIfFailed(remote))
        return kExitFailure;
    UploadControl control;
    const auto r = (*remote)->test(control);
    if (!r) {
        printError(Tr::tr("remote '%1': %2").arg(ctx.args.at(1), r.error()));
        return kExitFailure;
    }
    printOut(Tr::tr("Remote '%1' OK: %2\n").arg(ctx.args.at(1), *r));
    return kExitOk;
}

// --- push --------------------------------------------------------------------------------------

int pushScope(Context &ctx, qint64 collectionId, const QString &label)
{
    QHash<qint64, QString> names;
    QSet<QString> remotes;
    if (const auto all = ctx.catalog.collections()) {
        for (const Collection &c : *all) {
            names.insert(c.id, c.name);
            if (!c.remote.isEmpty() && (collectionId == 0 || c.id == collectionId))
                remotes.insert(c.remote);
        }
    }
    // Plain $QUIRE_PASSWORD only when this push touches exactly one remote.
    Credentials::setSoleRemote(remotes.size() == 1 ? *remotes.cbegin() : QString());

    UploadJob job(ctx.catalog, ctx.store, ctx.pools, UploadScope{collectionId, {}});
    job.setRetryFailed(true);
    ProgressLine line;
    auto clearLine = [&] { line.clear(); };
    QObject::connect(&job, &UploadJob::documentsChanged, &job, [&](const QList<UploadDocumentEvent> &events) {
        for (const UploadDocumentEvent &e : events) {
            const QString label = docLabel(names, e.collectionId, e.fileName);
            switch (e.status) {
            case DocStatus::Uploaded: {
                clearLine();
                QString note;
                if (e.alreadyPresent)
                    note = Tr::tr(" (already there)");
                else if (e.resumedFrom > 0)
                    note = Tr::tr(" (resumed from %1)").arg(formatBytes(e.resumedFrom));
                printOut(Tr::tr("uploaded %1%2\n").arg(label, note));
                std::fflush(stdout);
                break;
            }
            case DocStatus::Failed:
                clearLine();
                printError(QStringLiteral("%1: %2").arg(label, e.message));
                break;
            case DocStatus::Duplicate:
                clearLine();
                printOut(Tr::tr("duplicate %1: %2\n").arg(label, e.message));
                break;
            case DocStatus::Cancelled:
                clearLine();
                printOut(Tr::tr("cancelled %1\n").arg(label));
                break;
            default:
                break;
            }
        }
    });

    QElapsedTimer clock;
    clock.start();
    runJob(ctx, job, line, [](const JobAmounts &a, qint64) {
        return Tr::tr("Uploading %1/%n files, %2/%3, %4/s", nullptr, pluralCount(a.filesTotal))
            .arg(a.filesDone)
            .arg(formatBytes(a.bytesDone), formatBytes(a.bytesTotal), formatBytes(qint64(a.bytesPerSecond)));
    });

    const UploadResult r = job.result().result();
    const UploadProgress &t = r.totals;
    const double seconds = std::max<qint64>(clock.elapsed(), 1) / 1000.0;
    const int uploaded = pluralCount(t.filesUploaded);
    QString summary = (r.outcome == UploadResult::Outcome::Cancelled ? Tr::tr("Stopped pushing %1: %n uploaded", nullptr, uploaded)
                                                                     : Tr::tr("Pushed %1: %n uploaded", nullptr, uploaded))
                          .arg(label);
    QStringList notes;
    if (t.filesAlreadyPresent)
        notes << Tr::tr("%n already there", nullptr, pluralCount(t.filesAlreadyPresent));
    if (t.filesResumed)
        notes << Tr::tr("%n resumed", nullptr, pluralCount(t.filesResumed));
    if (!notes.isEmpty())
        summary += QStringLiteral(" (%1)").arg(notes.join(QStringLiteral(", ")));
    summary += Tr::tr(", %1 failed, %2 cancelled").arg(t.filesFailed).arg(t.filesCancelled);
    // Documents of a remote that has a problem (certificate, password, unreachable) stay pending
    // for the next push: say how many.
    qint64 waiting = 0;
    for (const UploadRemoteProblem &p : r.remoteProblems) {
        for (qint64 cid : p.collectionIds) {
            if (const auto counts = ctx.catalog.statusCounts(cid))
                waiting += counts->value(DocStatus::Hashed);
        }
    }
    if (waiting > 0) {
        const QString whose = r.remoteProblems.size() == 1
                                  ? Tr::tr("remote \"%1\"").arg(r.remoteProblems.first().remote)
                                  : Tr::tr("their remotes");
        summary += Tr::tr(", %1 waiting for %2").arg(waiting).arg(whose);
    }
    summary += Tr::tr(" (%1 in %2 s)\n").arg(formatBytes(t.bytesDone)).arg(seconds, 0, 'f', 2);
    printOut(summary);
    std::fflush(stdout);
    if (r.outcome == UploadResult::Outcome::Error)
        printError(r.error);
    // Catalog errors that did not fail a document are listed too.
    for (const UploadFailure &f : r.failures) {
        if (f.id == 0 || f.fileName.isEmpty())
            printError(f.error);
    }
    const bool anyFailed = r.outcome == UploadResult::Outcome::Error || r.outcome == UploadResult::Outcome::SomeFailed
                           || (r.outcome == UploadResult::Outcome::Cancelled && !ctx.cancelled);
    return finishStatus(ctx, anyFailed);
}

} // namespace

int runRemoteCommand(Context &ctx)
{
    const QString sub = ctx.args.value(0);
    if (sub == QLatin1String("add"))
        return remoteAdd(ctx);
    if (sub == QLatin1String("list") || sub.isEmpty())
        return remoteList(ctx);
    if (sub == QLatin1String("remove"))
        return remoteRemove(ctx);
    if (sub == QLatin1String("test"))
        return remoteTest(ctx);
    if (sub == QLatin1String("edit"))
        return remoteEdit(ctx);
    if (sub == QLatin1String("trust"))
        return remoteTrust(ctx);
    return usageError(Tr::tr("usage: quire remote add|edit|list|remove|test|trust ..."));
}

int pushCollection(Context &ctx, qint64 collectionId)
{
    const auto c = ctx.catalog.collection(collectionId);
    if (printIfFailed(c))
        return kExitFailure;
    if (!*c || (*c)->remote.isEmpty())
        return kExitOk;
    return pushScope(ctx, collectionId, Tr::tr("'%1' to '%2'").arg((*c)->name, (*c)->remote));
}

int runPushCommand(Context &ctx)
{
    if (ctx.args.size() > 1)
        return usageError(Tr::tr("usage: quire push [COLLECTION]"));
    if (printIfFailed(ctx.catalog.open()))
        return kExitFailure;
    if (ctx.args.size() == 1) {
        const auto c = ctx.catalog.collectionByName(ctx.args.first());
        if (printIfFailed(c))
            return kExitFailure;
        if (!*c) {
            printError(Tr::tr("no collection named '%1'").arg(ctx.args.first()));
            return kExitFailure;
        }
        if ((*c)->remote.isEmpty()) {
            printError(Tr::tr("collection '%1' has no remote to push to").arg((*c)->name));
            return kExitFailure;
        }
        return pushCollection(ctx, (*c)->id);
    }
    const auto all = ctx.catalog.collections();
    if (printIfFailed(all))
        return kExitFailure;
    const bool anyRemote = std::any_of(all->begin(), all->end(), [](const Collection &c) { return !c.remote.isEmpty(); });
    if (!anyRemote) {
        printOut(Tr::tr("No collection has a remote: nothing to push.\n"));
        return kExitOk;
    }
    return pushScope(ctx, 0, Tr::tr("all collections"));
}

// --- verify ------------------------------------------------------------------------------------

int runVerifyCommand(Context &ctx)
{
    if (ctx.args.size() > 1)
        return usageError(Tr::tr("usage: quire verify [COLLECTION] [--deep]"));
    if (printIfFailed(ctx.catalog.open()))
        return kExitFailure;
    const auto all = ctx.catalog.collections();
    if (printIfFailed(all))
        return kExitFailure;
    QList<Collection> scope;
    for (const Collection &c : *all) {
        if (!c.remote.isEmpty() && (ctx.args.isEmpty() || c.name == ctx.args.first()))
            scope << c;
    }
    if (!ctx.args.isEmpty() && scope.isEmpty()) {
        printError(Tr::tr("no collection named '%1' with a remote").arg(ctx.args.first()));
        return kExitFailure;
    }
    const bool deep = flag(ctx, "deep");
    const UploadSettings settings = UploadSettings::fromStore(ctx.store);
    qint64 ok = 0, bad = 0, errors = 0;
    UploadControl control;
    for (const Collection &c : scope) {
        const auto remote = openRemote(ctx, c.remote, settings);
        if (!remote) {
            printError(QStringLiteral("%1: %2").arg(c.name, remote.error()));
            ++errors;
            continue;
        }
        DocumentQuery q;
        q.collectionId = c.id;
        q.statuses = {DocStatus::Uploaded};
        q.sortColumn = DocColumn::Name;
        q.limit = 1000;
        for (q.offset = 0;; q.offset += q.limit) {
            const auto docs = ctx.catalog.documents(q);
            if (printIfFailed(docs))
                return kExitFailure;
            for (const Document &d : *docs) {
                if (ctx.cancelled)
                    return kExitCancelled;
                const UploadItem item{.documentId = d.id, .collection = c.name, .fileName = d.fileName,
                                      .sourcePath = d.sourcePath, .size = d.size, .mtimeMs = d.mtimeMs,
                                      .sha256 = d.sha256, .resumeState = {}};
                const VerifyOutcome v = (*remote)->verify(item, d.remoteLocation, deep, control);
                const QString label = c.name + QLatin1Char('/') + d.fileName;
                if (!v.ok()) {
                    ++errors;
                    printError(QStringLiteral("%1: %2").arg(label, v.error->message));
                } else if (!v.value.matches()) {
                    ++bad;
                    printOut((v.value.exists ? Tr::tr("DIFFERS %1: %2\n") : Tr::tr("MISSING %1: %2\n")).arg(label, v.value.detail));
                } else {
                    ++ok;
                    printOut(Tr::tr("ok %1 (%2)\n").arg(label, v.value.detail));
                }
            }
            if (docs->size() < q.limit)
                break;
        }
    }
    printOut(Tr::tr("Verified %n document(s): %1 ok, %2 missing or different, %3 could not be checked\n", nullptr,
                    pluralCount(ok + bad + errors))
                 .arg(ok)
                 .arg(bad)
                 .arg(errors));
    std::fflush(stdout);
    return finishStatus(ctx, bad > 0 || errors > 0);
}

} // namespace quire::cli
