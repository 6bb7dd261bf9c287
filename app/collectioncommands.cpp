#include "commands.h"

#include "catalog/catalog.h"
#include "catalog/machine.h"
#include "platform/nativefs.h"
#include "remotes/remote.h"
#include "remotes/remoteprofile.h"

#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>

namespace quire::cli {

namespace {

// Looks a collection up by name; prints the error and returns nullopt if it is missing.
std::optional<Collection> findCollection(Catalog &catalog, const QString &name, int *status)
{
    auto c = catalog.collectionByName(name);
    if (!c) {
        printError(c.error());
        *status = kExitFailure;
        return std::nullopt;
    }
    if (!c->has_value()) {
        printError(Tr::tr("no collection named '%1' (see 'quire collections')").arg(name));
        *status = kExitFailure;
        return std::nullopt;
    }
    return **c;
}

int listCollections(Context &ctx)
{
    auto list = ctx.catalog.collections();
    if (printIfFailed(list))
        return kExitFailure;
    if (ctx.parser.isSet(QStringLiteral("json"))) {
        QJsonArray arr;
        for (const Collection &c : std::as_const(*list)) {
            arr.append(QJsonObject{
                {QStringLiteral("id"), c.id},
                {QStringLiteral("name"), c.name},
                {QStringLiteral("remote"), c.remote},
                {QStringLiteral("documents"), c.documentCount},
                {QStringLiteral("bytes"), c.bytes},
                {QStringLiteral("failed"), c.failedCount},
                {QStringLiteral("pending"), c.pendingCount},
                {QStringLiteral("created"), c.created.toString(Qt::ISODateWithMs)},
            });
        }
        printOutBytes(QJsonDocument(arr).toJson(QJsonDocument::Indented));
        return kExitOk;
    }
    if (list->isEmpty()) {
        printOut(Tr::tr("No collections yet. Create one with 'quire collections create NAME' "
                        "or add files with 'quire add --collection NAME PATH...'.\n"));
        return kExitOk;
    }
    const QString heading = Tr::tr("COLLECTION");
    int width = int(heading.size());
    for (const Collection &c : std::as_const(*list))
        width = std::max(width, int(c.name.size()));
    QString out = QStringLiteral("%1  %2  %3  %4  %5  %6\n")
                      .arg(heading, -width)
                      .arg(Tr::tr("DOCUMENTS"), 9)
                      .arg(Tr::tr("SIZE"), 10)
                      .arg(Tr::tr("PENDING"), 7)
                      .arg(Tr::tr("FAILED"), 6)
                      .arg(Tr::tr("REMOTE"));
    for (const Collection &c : std::as_const(*list)) {
        out += QStringLiteral("%1  %2  %3  %4  %5  %6\n")
                   .arg(c.name, -width)
                   .arg(c.documentCount, 9)
                   .arg(formatBytes(c.bytes), 10)
                   .arg(c.pendingCount, 7)
                   .arg(c.failedCount, 6)
                   .arg(c.remote.isEmpty() ? QStringLiteral("-") : c.remote);
    }
    printOut(out);
    return kExitOk;
}

int checkName(const QString &name)
{
    if (auto why = Catalog::collectionNameError(name))
        return usageError(Tr::tr("invalid collection name '%1': %2").arg(name, *why));
    return kExitOk;
}

} // namespace

// kExitOk when `remote` names a configured remote (or is empty: no remote), else prints why.
int checkRemote(Context &ctx, const QString &remote)
{
    if (remote.isEmpty())
        return kExitOk;
    const auto found = RemoteProfiles(ctx.store).find(remote);
    if (printIfFailed(found))
        return kExitFailure;
    if (!found->has_value()) {
        printError(Tr::tr("there is no remote '%1' (see 'quire remote list'; add one with 'quire remote add')")
                           .arg(remote));
        return kExitFailure;
    }
    return kExitOk;
}

QString defaultCollectionName()
{
    return QStringLiteral("Inbox");
}

int runCollectionsCommand(Context &ctx)
{
    if (printIfFailed(ctx.catalog.open()))
        return kExitFailure;
    if (ctx.args.isEmpty() || ctx.args.first() == QLatin1String("list")) {
        if (ctx.args.size() > 1)
            return usageError(Tr::tr("'collections list' takes no arguments"));
        return listCollections(ctx);
    }

    const QString sub = ctx.args.first();
    const QStringList rest = ctx.args.mid(1);
    int status = kExitOk;

    if (sub == QLatin1String("create")) {
        if (rest.size() != 1)
            return usageError(Tr::tr("usage: quire collections create NAME [--remote REMOTE]"));
        if (int s = checkName(rest.first()); s != kExitOk)
            return s;
        const QString remote = ctx.parser.value(QStringLiteral("remote"));
        if (int s = checkRemote(ctx, remote); s != kExitOk)
            return s;
        auto id = ctx.catalog.createCollection(rest.first(), remote);
        if (printIfFailed(id))
            return kExitFailure;
        printOut(remote.isEmpty() ? Tr::tr("Created collection '%1'.\n").arg(rest.first())
                                  : Tr::tr("Created collection '%1' (remote '%2').\n").arg(rest.first(), remote));
        return kExitOk;
    }
    if (sub == QLatin1String("rename")) {
        if (rest.size() != 2)
            return usageError(Tr::tr("usage: quire collections rename NAME NEW-NAME"));
        if (int s = checkName(rest.at(1)); s != kExitOk)
            return s;
        auto c = findCollection(ctx.catalog, rest.first(), &status);
        if (!c)
            return status;
        if (printIfFailed(ctx.catalog.renameCollection(c->id, rest.at(1))))
            return kExitFailure;
        printOut(Tr::tr("Renamed collection '%1' to '%2'.\n").arg(rest.first(), rest.at(1)));
        return kExitOk;
    }
    if (sub == QLatin1String("remove")) {
        if (rest.size() != 1)
            return usageError(Tr::tr("usage: quire collections remove NAME"));
        auto c = findCollection(ctx.catalog, rest.first(), &status);
        if (!c)
            return status;
        if (printIfFailed(ctx.catalog.removeCollection(c->id)))
            return kExitFailure;
        printOut(Tr::tr("Removed collection '%1' and its %n catalog record(s); "
                        "source files and remote copies were not touched.\n",
                        nullptr, pluralCount(c->documentCount))
                     .arg(rest.first()));
        return kExitOk;
    }
    if (sub == QLatin1String("set-remote")) {
        // Where the collection uploads from now on; no REMOTE: it stops uploading. Documents
        // already uploaded stay where they are; pending ones go to the new remote.
        if (rest.size() != 1 && rest.size() != 2)
            return usageError(Tr::tr("usage: quire collections set-remote NAME [REMOTE]"));
        const QString remote = rest.value(1);
        if (int s = checkRemote(ctx, remote); s != kExitOk)
            return s;
        auto c = findCollection(ctx.catalog, rest.first(), &status);
        if (!c)
            return status;
        if (printIfFailed(ctx.catalog.setCollectionRemote(c->id, remote)))
            return kExitFailure;
        printOut(remote.isEmpty()
                         ? Tr::tr("Collection '%1' has no remote now; its documents are not uploaded.\n").arg(c->name)
                         : Tr::tr("Collection '%1' uploads to remote '%2' now ('quire push %1' uploads what is "
                                  "pending).\n").arg(c->name, remote));
        return kExitOk;
    }
    return usageError(Tr::tr("unknown 'collections' subcommand '%1' "
                             "(expected list, create, rename, set-remote or remove)").arg(sub));
}

int runLsCommand(Context &ctx)
{
    if (ctx.args.size() > 1)
        return usageError(Tr::tr("usage: quire ls [COLLECTION] [--json]"));
    if (printIfFailed(ctx.catalog.open()))
        return kExitFailure;
    DocumentQuery query;
    query.sortColumn = DocColumn::Added;
    int status = kExitOk;
    QHash<qint64, QString> names;
    if (!ctx.args.isEmpty()) {
        auto c = findCollection(ctx.catalog, ctx.args.first(), &status);
        if (!c)
            return status;
        query.collectionId = c->id;
        names.insert(c->id, c->name);
    } else {
        auto all = ctx.catalog.collections();
        if (printIfFailed(all))
            return kExitFailure;
        for (const Collection &c : std::as_const(*all))
            names.insert(c.id, c.name);
    }

    // Who added what: a shared catalog holds other machines' documents, which they upload.
    const auto machines = ctx.catalog.machineNames();
    if (printIfFailed(machines))
        return kExitFailure;
    auto machineOf = [&](const Document &d) {
        return machines->value(d.machineId, displayMachineName(QString()));
    };
    const bool json = ctx.parser.isSet(QStringLiteral("json"));
    QJsonArray arr;
    // Page through the documents so that a huge collection never sits in memory at once.
    constexpr qint64 kPage = 5000;
    query.limit = kPage;
    for (query.offset = 0;; query.offset += kPage) {
        if (ctx.cancelled)
            return kExitCancelled;
        auto docs = ctx.catalog.documents(query);
        if (printIfFailed(docs))
            return kExitFailure;
        QByteArray out;
        for (const Document &d : std::as_const(*docs)) {
            if (json) {
                QJsonObject o{
                    {QStringLiteral("id"), d.id},
                    {QStringLiteral("collection"), names.value(d.collectionId)},
                    {QStringLiteral("name"), d.fileName},
                    {QStringLiteral("source_path"), displayPath(d.sourcePath)},
                    {QStringLiteral("size"), d.size},
                    {QStringLiteral("sha256"), QString::fromLatin1(d.sha256)},
                    {QStringLiteral("status"), statusName(d.status)},
                    {QStringLiteral("added"), d.added.toString(Qt::ISODateWithMs)},
                };
                if (!d.error.isEmpty())
                    o.insert(QStringLiteral("error"), d.error);
                if (!d.remoteLocation.isEmpty())
                    o.insert(QStringLiteral("remote_location"), d.remoteLocation);
                if (d.duplicateOf)
                    o.insert(QStringLiteral("duplicate_of"), d.duplicateOf);
                if (!d.machineId.isEmpty()) {
                    o.insert(QStringLiteral("machine"), machineOf(d));
                    o.insert(QStringLiteral("this_machine"), d.machineId == thisMachine().id);
                }
                arr.append(o);
            } else {
                // status, size, sha256, collection/name: stable, tab-separated, one per line.
                QString name = d.fileName;
                name.replace(QLatin1Char('\n'), QLatin1String("\\n"));
                out += statusName(d.status).toUtf8() + '\t' + QByteArray::number(d.size) + '\t'
                       + (d.sha256.isEmpty() ? QByteArray("-") : d.sha256) + '\t'
                       + names.value(d.collectionId).toUtf8() + '/' + name.toUtf8();
                if (!d.error.isEmpty())
                    out += "\t(" + d.error.toUtf8() + ')';
                if (!d.machineId.isEmpty() && d.machineId != thisMachine().id)
                    out += "\t(on " + machineOf(d).toUtf8() + ')';
                out += '\n';
            }
        }
        printOutBytes(out);
        if (docs->size() < kPage)
            break;
    }
    if (json)
        printOutBytes(QJsonDocument(arr).toJson(QJsonDocument::Indented));
    return kExitOk;
}

} // namespace quire::cli
