// ctest-labels: catalog
// A catalog whose Qt SQL driver is not installed fails with the driver's name and the Debian
// package that has it. This process sees no SQL driver at all: its plugin search path is an empty
// folder, set before Qt's SQL code first looks.
#include "catalog/catalogconfig.h"
#include "catalog/dbconnections.h"

#include <QCoreApplication>
#include <QTemporaryDir>
#include <QTest>

#include <thread>

using namespace quire;

class tst_CatalogDrivers final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void missingDriverNamesItsPackage_data()
    {
        QTest::addColumn<QString>("location");
        QTest::addColumn<QString>("driver");
        QTest::addColumn<QString>("package");
        QTest::newRow("sqlite") << m_dir.filePath(QStringLiteral("catalog.sqlite")) << QStringLiteral("QSQLITE")
                                << QStringLiteral("libqt6sql6-sqlite");
        QTest::newRow("postgres") << QStringLiteral("postgresql://quire@127.0.0.1:1/quire") << QStringLiteral("QPSQL")
                                  << QStringLiteral("libqt6sql6-psql");
        QTest::newRow("mariadb") << QStringLiteral("mysql://quire@127.0.0.1:1/quire") << QStringLiteral("QMYSQL")
                                 << QStringLiteral("libqt6sql6-mysql");
    }
    void missingDriverNamesItsPackage()
    {
        QFETCH(QString, location);
        QFETCH(QString, driver);
        QFETCH(QString, package);
        ConnectionManager manager(CatalogConfig{location});
        QString error;
        std::thread t([&] {
            const Result<QSqlDatabase> db = manager.database();
            error = db ? QStringLiteral("opened") : db.error();
            manager.releaseThisThread();
        });
        t.join();
        QVERIFY2(error.contains(driver) && error.contains(package) && error.contains(QLatin1StringView("not installed")),
                 qPrintable(error));
    }

private:
    QTemporaryDir m_dir;
};

int main(int argc, char **argv)
{
    QTemporaryDir noPlugins;
    QCoreApplication::setLibraryPaths({noPlugins.path()});   // before QCoreApplication: no plugin anywhere
    QCoreApplication app(argc, argv);
    QCoreApplication::setLibraryPaths({noPlugins.path()});
    tst_CatalogDrivers test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_catalogdrivers.moc"
