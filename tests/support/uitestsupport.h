#pragma once

// Helpers shared by the UI tests (tst_documentmodel, tst_collectionmodel, tst_browserwindow...).

#include "catalog/catalog.h"
#include "testsupport.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSqlDatabase>
#include <QSqlDriver>
#include <QStringList>
#include <QThread>
#include <QtGlobal>

#include <fcntl.h>
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

} // namespace quire::uitest
