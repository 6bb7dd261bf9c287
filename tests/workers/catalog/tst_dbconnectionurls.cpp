// ctest-labels: concurrency catalog
// Catalog locations and logins: server URLs as the client libraries read them, passwords from
// the environment or the database tools' files, TLS to MariaDB, several PostgreSQL hosts, the
// catalog option. Runs against a throw-away PostgreSQL and MariaDB.
#include "catalog/catalogconfig.h"
#include "catalog/dbconnections.h"
#include "catalog/mariadburl.h"
#include "catalog/pgurl.h"
#include "connectiontests.h"
#include "testca.h"
#include "testsupport.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <optional>
#include <utility>

using namespace quire;
using namespace quire::test;

class TestDbConnectionUrls final : public ConnectionTests
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QVERIFY2(m_dir.isValid(), qPrintable(m_dir.errorString()));
    }

    // A catalog password never needs to be in the URL: $QUIRE_CATALOG_PASSWORD, else libpq's
    // own password file. Without either, the error says where a password comes from.
    void postgresPasswordFromTheEnvironmentOrPgpass()
    {
        REQUIRE_BACKEND(QStringLiteral("postgres"), superuser);
        const QString database = superuser.location.section(u'/', -1);
        const QString password = QStringLiteral("p\u00e4ss 'word:1");
        const QString url = pg().passwordUserUrl(database, password);
        QVERIFY2(!url.isEmpty(), qPrintable(pg().error()));
        QVERIFY(!CatalogConfig{url}.passwordInUrl());
        QString withPassword = superuser.location;
        withPassword.replace(QStringLiteral("postgres@"), QStringLiteral("postgres:x@"));
        QVERIFY(CatalogConfig{withPassword}.passwordInUrl());

        test::ScopedEnv env;
        env.set("PGPASSWORD", QByteArray());
        const QString noFile = m_dir.filePath(QStringLiteral("no-such-pgpass"));
        auto connect = [&](const QByteArray &envPassword, const QString &passFile) {
            env.set("QUIRE_CATALOG_PASSWORD", envPassword);
            env.set("PGPASSFILE", QFile::encodeName(passFile));
            return loginError(url, QStringLiteral("SELECT current_user"));
        };
        checkPasswordFromEnvironment([&](const QByteArray &envPassword) { return connect(envPassword, noFile); }, password,
                                     QLatin1StringView("pgpass"), QLatin1StringView("password authentication failed"));
        if (QTest::currentTestFailed())
            return;

        // ~/.pgpass's format: host:port:database:user:password, ':' and '\\' escaped, mode 0600.
        const QString passFile = m_dir.filePath(QStringLiteral("pgpass"));
        {
            QFile f(passFile);
            QVERIFY(f.open(QIODevice::WriteOnly));
            QString escaped = password;
            escaped.replace(QLatin1Char('\\'), QStringLiteral("\\\\")).replace(QLatin1Char(':'), QStringLiteral("\\:"));
            f.write(QStringLiteral("127.0.0.1:%1:%2:quire_password:%3\n").arg(pg().port()).arg(database, escaped).toUtf8());
            QVERIFY(f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
        }
        const QString error = connect(QByteArray(), passFile);
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

    // MariaDB the same way: $QUIRE_CATALOG_PASSWORD, else the [client] (or [client-mariadb])
    // group of ~/.my.cnf, as the mariadb tools read it; without either, the error says where a
    // password comes from; a wrong one is not tried again.
    void mariaDbPasswordFromTheEnvironmentOrMyCnf()
    {
        REQUIRE_BACKEND(QStringLiteral("mariadb"), root);
        const QString database = root.location.section(u'/', -1);
        const QString password = QStringLiteral("p\u00e4ss 'wo\"rd#1");
        const QString url = maria().passwordUserUrl(database, password);
        QVERIFY2(!url.isEmpty(), qPrintable(maria().error()));
        QVERIFY(!CatalogConfig{url}.passwordInUrl());
        QString withPassword = url;
        withPassword.replace(QStringLiteral("quire_password@"), QStringLiteral("quire_password:x%40y@"));
        QVERIFY(CatalogConfig{withPassword}.passwordInUrl());
        QCOMPARE(CatalogConfig{withPassword}.displayLocation(), url);

        QTemporaryDir home;
        QVERIFY(home.isValid());
        test::ScopedEnv env;
        env.set("HOME", QFile::encodeName(home.path()));
        auto connect = [&](const QByteArray &envPassword) {
            env.set("QUIRE_CATALOG_PASSWORD", envPassword);
            return loginError(url, QStringLiteral("SELECT CURRENT_USER()"));
        };
        checkPasswordFromEnvironment(connect, password, QLatin1StringView("my.cnf"), QLatin1StringView("Access denied"));
        if (QTest::currentTestFailed())
            return;

        // ~/.my.cnf: the [client] group, a quoted value with escapes; other groups are not read.
        {
            QFile f(home.filePath(QStringLiteral(".my.cnf")));
            QVERIFY(f.open(QIODevice::WriteOnly));
            QString quoted = password;
            quoted.replace(QLatin1Char('\\'), QStringLiteral("\\\\")).replace(QLatin1Char('"'), QStringLiteral("\\\""));
            f.write(QStringLiteral("[mysqld]\npassword = not-this-one\n\n# the client tools' group\n[client]\n"
                                   "user = someone\npassword = \"%1\"\n").arg(quoted).toUtf8());
            QVERIFY(f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
        }
        const QString error = connect(QByteArray());
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

    // TLS when the URL asks for it (?ssl-ca=): the session is encrypted, and a server whose
    // certificate that CA did not sign is refused, not connected to.
    void mariaDbOverTls()
    {
        if (!test::MariaDbServer::available())
            QSKIP(qPrintable(test::MariaDbServer::missingMessage()));
        test::TestCa ca;
        QVERIFY2(ca.create(), qPrintable(ca.error()));
        test::MariaDbServer server;
        server.setTls(ca.good().certPath, ca.good().keyPath, ca.caCertPath());
        QVERIFY2(server.start(), qPrintable(server.error()));
        QVERIFY2(!server.createDatabase(QStringLiteral("tls")).isEmpty(), qPrintable(server.error()));
        auto connect = [&](const QString &url, QString *cipher) {
            return queryOnce(url, QStringLiteral("SHOW SESSION STATUS LIKE 'Ssl_cipher'"), cipher, 1);
        };
        const QString base = server.url(QStringLiteral("tls"));
        QString cipher;
        QString error = connect(base + QStringLiteral("?ssl-ca=") + QString::fromUtf8(QUrl::toPercentEncoding(ca.caCertPath())),
                                &cipher);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY2(!cipher.isEmpty(), "the session is not encrypted");

        // A CA that did not sign the server's certificate (the self-signed one's own).
        cipher.clear();
        error = connect(base + QStringLiteral("?ssl-ca=") + QString::fromUtf8(QUrl::toPercentEncoding(ca.selfSigned().certPath)),
                        &cipher);
        QVERIFY2(!error.isEmpty(), qPrintable(QStringLiteral("connected, cipher ") + cipher));
        QVERIFY2(error.contains(QLatin1StringView("certificate"), Qt::CaseInsensitive)
                         || error.contains(QLatin1StringView("TLS"), Qt::CaseInsensitive)
                         || error.contains(QLatin1StringView("SSL"), Qt::CaseInsensitive),
                 qPrintable(error));
        QVERIFY2(!error.contains(QLatin1StringView("tried")), qPrintable(error));   // not worth another try

        // A certificate from that CA, but for another host name: refused too (checked by Quire
        // before libmariadb connects; Qt 6.4's driver cannot ask libmariadb to check names).
        test::MariaDbServer other;
        other.setTls(ca.wrongHost().certPath, ca.wrongHost().keyPath, ca.caCertPath());
        QVERIFY2(other.start(), qPrintable(other.error()));
        QVERIFY2(!other.createDatabase(QStringLiteral("tls")).isEmpty(), qPrintable(other.error()));
        cipher.clear();
        error = connect(other.url(QStringLiteral("tls")) + QStringLiteral("?ssl-ca=")
                                + QString::fromUtf8(QUrl::toPercentEncoding(ca.caCertPath())),
                        &cipher);
        QVERIFY2(!error.isEmpty(), qPrintable(QStringLiteral("connected, cipher ") + cipher));
        QVERIFY2(error.contains(QLatin1StringView("host name"), Qt::CaseInsensitive), qPrintable(error));
    }

    void optionFilePassword_data()
    {
        QTest::addColumn<QByteArray>("file");
        QTest::addColumn<QString>("password");
        QTest::newRow("bare") << QByteArray("[client]\npassword=abc\n") << QStringLiteral("abc");
        QTest::newRow("spaces, comment") << QByteArray("[client]\n  password = abc def # note\n") << QStringLiteral("abc def");
        QTest::newRow("single quotes") << QByteArray("[client]\npassword='a#b c'\n") << QStringLiteral("a#b c");
        QTest::newRow("double quotes, escapes") << QByteArray("[client]\npassword=\"a\\\"b\\\\c\"\n")
                                                << QStringLiteral("a\"b\\c");
        QTest::newRow("client-mariadb wins") << QByteArray("[client-mariadb]\npassword=m\n[client]\npassword=c\n")
                                             << QStringLiteral("m");
        QTest::newRow("other groups ignored") << QByteArray("[mysql]\npassword=x\n[mysqld]\npassword=y\n") << QString();
        QTest::newRow("underscore key") << QByteArray("[CLIENT]\npass_word=no\npassword=yes\n") << QStringLiteral("yes");
        QTest::newRow("utf-8") << QByteArray("[client]\npassword=p\xc3\xa4ss\n") << QStringLiteral("p\u00e4ss");
        QTest::newRow("none") << QByteArray("") << QString();
    }
    void optionFilePassword()
    {
        QFETCH(QByteArray, file);
        QFETCH(QString, password);
        const QString path = m_dir.filePath(QStringLiteral("my-%1.cnf").arg(++m_counter));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(file);
        f.close();
        QCOMPARE(quire::optionFilePassword(path), password);
    }

    // Catalog server URLs. MariaDB's are read by QUrl (percent-decoding, IPv6 literals);
    // PostgreSQL's as libpq's PQconninfoParse reads them (workers/catalog/pgurl.cpp), ports checked
    // up front. Parameters are checked, a password is never shown. Rows are named after the
    // parser they are for ("mariadb: …", "postgres: …"); a MariaDB URL without a port has 3306.
    void serverUrl_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<QString>("user");
        QTest::addColumn<QString>("password");
        QTest::addColumn<QString>("host");
        QTest::addColumn<QString>("port");
        QTest::addColumn<QString>("database");
        QTest::addColumn<QString>("socket");
        QTest::addColumn<QString>("display");   // empty: not checked
        const QString none;

        QTest::newRow("mariadb: full") << QStringLiteral("mysql://alice:pw@db.example:3307/quire") << true
                                       << QStringLiteral("alice") << QStringLiteral("pw") << QStringLiteral("db.example")
                                       << QStringLiteral("3307") << QStringLiteral("quire") << none
                                       << QStringLiteral("mysql://alice@db.example:3307/quire");
        QTest::newRow("mariadb: mariadb scheme, default port") << QStringLiteral("mariadb://bob@localhost/cat") << true
                                                               << QStringLiteral("bob") << none << QStringLiteral("localhost")
                                                               << QStringLiteral("3306") << QStringLiteral("cat") << none
                                                               << QStringLiteral("mariadb://bob@localhost/cat");
        QTest::newRow("mariadb: percent-encoded") << QStringLiteral("mysql://us%40er:p%3As%2Fs%40@h/my%20db%C3%A9") << true
                                                  << QStringLiteral("us@er") << QStringLiteral("p:s/s@") << QStringLiteral("h")
                                                  << QStringLiteral("3306") << QString::fromUtf8("my db\xc3\xa9") << none
                                                  << none;
        QTest::newRow("mariadb: ipv6") << QStringLiteral("mysql://u@[::1]:3310/d") << true << QStringLiteral("u") << none
                                       << QStringLiteral("::1") << QStringLiteral("3310") << QStringLiteral("d") << none
                                       << QStringLiteral("mysql://u@[::1]:3310/d");
        QTest::newRow("mariadb: socket") << QStringLiteral("mysql://u@localhost/d?socket=/run/mysqld/mysqld.sock") << true
                                         << QStringLiteral("u") << none << QStringLiteral("localhost") << QStringLiteral("3306")
                                         << QStringLiteral("d") << QStringLiteral("/run/mysqld/mysqld.sock") << none;
        QTest::newRow("mariadb: encoded socket, no host") << QStringLiteral("mysql://u@/d?socket=%2Ftmp%2Fmy%20sock") << true
                                                          << QStringLiteral("u") << none << none << QStringLiteral("3306")
                                                          << QStringLiteral("d") << QStringLiteral("/tmp/my sock") << none;
        for (const auto &[name, url] : {std::pair{"no database", "mysql://u@h/"},
                                        std::pair{"two path parts", "mysql://u@h/a/b"},
                                        std::pair{"unknown parameter", "mysql://u:secret@h/d?sslmode=off"},
                                        std::pair{"client cert without CA", "mysql://u@h/d?ssl-cert=/c.pem&ssl-key=/k.pem"},
                                        std::pair{"no host, no socket", "mysql:///d"}}) {
            QTest::addRow("mariadb: %s", name) << QString::fromLatin1(url) << false << none << none << none << none << none
                                               << none << none;
        }

        QTest::newRow("postgres: full") << QStringLiteral("postgresql://alice:pw@db.example:5433/quire") << true
                                        << QStringLiteral("alice") << QStringLiteral("pw") << QStringLiteral("db.example")
                                        << QStringLiteral("5433") << QStringLiteral("quire") << none
                                        << QStringLiteral("postgresql://alice:***@db.example:5433/quire");
        QTest::newRow("postgres: short scheme, no password, default port")
                << QStringLiteral("postgres://bob@localhost/cat") << true << QStringLiteral("bob") << none
                << QStringLiteral("localhost") << none << QStringLiteral("cat") << none
                << QStringLiteral("postgres://bob@localhost/cat");
        QTest::newRow("postgres: percent-encoded")
                << QStringLiteral("postgresql://us%40er:p%3As%2Fs%40@h:5432/my%20db%C3%A9?sslmode=require") << true
                << QStringLiteral("us@er") << QStringLiteral("p:s/s@") << QStringLiteral("h") << QStringLiteral("5432")
                << QString::fromUtf8("my db\xc3\xa9") << none
                << QStringLiteral("postgresql://us%40er:***@h:5432/my%20db%C3%A9?sslmode=require");
        // libpq ends the user info at the first '@': the rest is the host (it would not resolve).
        // The display hides everything up to the last '@', more than the password.
        QTest::newRow("postgres: raw @ in password") << QStringLiteral("postgresql://u:a@b@h/d") << true
                                                     << QStringLiteral("u") << QStringLiteral("a") << QStringLiteral("b@h")
                                                     << none << QStringLiteral("d") << none
                                                     << QStringLiteral("postgresql://u:***@h/d");
        QTest::newRow("postgres: ipv6") << QStringLiteral("postgresql://u@[::1]:6543/d") << true << QStringLiteral("u")
                                        << none << QStringLiteral("::1") << QStringLiteral("6543") << QStringLiteral("d")
                                        << none << QStringLiteral("postgresql://u@[::1]:6543/d");
        QTest::newRow("postgres: several hosts")
                << QStringLiteral("postgresql://u@h1:5433,[::1]:5434,h3/d?target_session_attrs=read-write") << true
                << QStringLiteral("u") << none << QStringLiteral("h1,::1,h3") << QStringLiteral("5433,5434,")
                << QStringLiteral("d") << none
                << QStringLiteral("postgresql://u@h1:5433,[::1]:5434,h3/d?target_session_attrs=read-write");
        QTest::newRow("postgres: socket folder as a parameter") << QStringLiteral("postgresql:///d?host=/run/postgresql")
                                                                << true << none << none << QStringLiteral("/run/postgresql")
                                                                << none << QStringLiteral("d") << none
                                                                << QStringLiteral("postgresql:///d?host=/run/postgresql");
        QTest::newRow("postgres: password parameter") << QStringLiteral("postgresql://h/d?user=u&password=secret") << true
                                                      << QStringLiteral("u") << QStringLiteral("secret") << QStringLiteral("h")
                                                      << none << QStringLiteral("d") << none
                                                      << QStringLiteral("postgresql://h/d?user=u&password=***");
        for (const auto &[name, url] : {std::pair{"bad port", "postgresql://u@h:99999/d"},
                                        std::pair{"bad port in a list", "postgresql://u@h1:5432,h2:x/d"},
                                        std::pair{"unknown parameter", "postgresql://h/d?passwrd=secret"}}) {
            QTest::addRow("postgres: %s", name) << QString::fromLatin1(url) << false << none << none << none << none << none
                                                << none << none;
        }
        QTest::newRow("postgres: not a url") << QStringLiteral("/var/lib/quire/catalog.sqlite") << false << none << none
                                             << none << none << none << none
                                             << QStringLiteral("/var/lib/quire/catalog.sqlite");
    }
    void serverUrl()
    {
        QFETCH(QString, url);
        QFETCH(bool, valid);
        QFETCH(QString, display);
        const CatalogConfig config{url};
        const bool maria = QByteArray(QTest::currentDataTag()).startsWith("mariadb");
        QString error;
        struct Parts
        {
            QString user, password, host, port, database, socket;
        };
        std::optional<Parts> parsed;
        if (maria) {
            QVERIFY(config.isMariaDb());
            QVERIFY(!config.locationError());
            QVERIFY2(!config.displayLocation().contains(QLatin1StringView("secret"))
                             && !config.displayLocation().contains(QLatin1StringView(":pw@")),
                     qPrintable(config.displayLocation()));
            if (const std::optional<MariaDbUrl> m = parseMariaDbUrl(url, &error))
                parsed = Parts{m->user, m->password, m->host, QString::number(m->port), m->database, m->socket};
        } else {
            QCOMPARE(config.isPostgres(), url.startsWith(QLatin1StringView("postgres")));
            if (const auto p = parsePostgresUrl(url, &error))
                parsed = Parts{p->user, p->password, p->host, p->port, p->dbname, QString()};
        }
        QCOMPARE(parsed.has_value(), valid);
        if (!display.isEmpty())
            QCOMPARE(config.displayLocation(), display);
        if (!valid) {
            QVERIFY(!error.isEmpty());
            QVERIFY2(!error.contains(QLatin1StringView("secret")), qPrintable(error));
            return;
        }
        QFETCH(QString, user);
        QFETCH(QString, password);
        QFETCH(QString, host);
        QFETCH(QString, port);
        QFETCH(QString, database);
        QFETCH(QString, socket);
        QCOMPARE(parsed->user, user);
        QCOMPARE(parsed->password, password);
        QCOMPARE(parsed->host, host);
        QCOMPARE(parsed->port, port);
        QCOMPARE(parsed->database, database);
        QCOMPARE(parsed->socket, socket);
        if (maria)
            QCOMPARE(config.passwordInUrl(), !password.isEmpty());
    }

    // libpq tries the hosts of a list in turn: the first refuses (port 1), the second serves.
    void postgresSeveralHosts()
    {
        REQUIRE_BACKEND(QStringLiteral("postgres"), config);
        QString url = config.location;
        const QString live = QStringLiteral("127.0.0.1:%1").arg(pg().port());
        QVERIFY(url.contains(live));
        url.replace(live, QStringLiteral("127.0.0.1:1,") + live);
        QString port;
        const QString error = queryOnce(url, QStringLiteral("SELECT inet_server_port()"), &port);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY2(port.toInt() == pg().port(), qPrintable(QStringLiteral("connected to port ") + port));
    }

    void configFromOption()
    {
        qputenv("QUIRE_CATALOG", "/from/env.sqlite");
        QCOMPARE(CatalogConfig::fromOption(QStringLiteral("/from/option.sqlite")).location, QStringLiteral("/from/option.sqlite"));
        QCOMPARE(CatalogConfig::fromOption({}).location, QStringLiteral("/from/env.sqlite"));
        qunsetenv("QUIRE_CATALOG");
        QCOMPARE(CatalogConfig::fromOption({}).location, CatalogConfig::defaultConfig().location);
        QVERIFY(CatalogConfig::defaultConfig().location.endsWith(QLatin1StringView("/catalog.sqlite")));
        QVERIFY(!CatalogConfig::defaultConfig().isPostgres());
    }
};

QTEST_GUILESS_MAIN(TestDbConnectionUrls)
#include "tst_dbconnectionurls.moc"
