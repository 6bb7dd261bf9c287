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

using namespace quire;
using namespace quire::test;

namespace {

// A row of serverUrl: a catalog URL, whether it parses, the parts it is read as and how it is
// shown ("": not checked).
struct UrlCase
{
    const char *name;
    const char *url;
    bool valid;
    const char *user = "", *password = "", *host = "", *port = "", *database = "", *socket = "";
    const char *display = "";
};

} // namespace

Q_DECLARE_METATYPE(UrlCase)

class TestDbConnectionUrls final : public ConnectionTests
{
    Q_OBJECT

private slots:
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
        QTest::addColumn<UrlCase>("c");
        const UrlCase cases[] = {
            {"mariadb: full", "mysql://alice:pw@db.example:3307/quire", true, "alice", "pw", "db.example", "3307", "quire", "",
             "mysql://alice@db.example:3307/quire"},
            {"mariadb: mariadb scheme, default port", "mariadb://bob@localhost/cat", true, "bob", "", "localhost", "3306", "cat",
             "", "mariadb://bob@localhost/cat"},
            {"mariadb: percent-encoded", "mysql://us%40er:p%3As%2Fs%40@h/my%20db%C3%A9", true, "us@er", "p:s/s@", "h", "3306",
             "my db\xc3\xa9"},
            {"mariadb: ipv6", "mysql://u@[::1]:3310/d", true, "u", "", "::1", "3310", "d", "", "mysql://u@[::1]:3310/d"},
            {"mariadb: socket", "mysql://u@localhost/d?socket=/run/mysqld/mysqld.sock", true, "u", "", "localhost", "3306", "d",
             "/run/mysqld/mysqld.sock"},
            {"mariadb: encoded socket, no host", "mysql://u@/d?socket=%2Ftmp%2Fmy%20sock", true, "u", "", "", "3306", "d",
             "/tmp/my sock"},
            {"mariadb: no database", "mysql://u@h/", false},
            {"mariadb: two path parts", "mysql://u@h/a/b", false},
            {"mariadb: unknown parameter", "mysql://u:secret@h/d?sslmode=off", false},
            {"mariadb: client cert without CA", "mysql://u@h/d?ssl-cert=/c.pem&ssl-key=/k.pem", false},
            {"mariadb: no host, no socket", "mysql:///d", false},

            {"postgres: full", "postgresql://alice:pw@db.example:5433/quire", true, "alice", "pw", "db.example", "5433", "quire",
             "", "postgresql://alice:***@db.example:5433/quire"},
            {"postgres: short scheme, no password, default port", "postgres://bob@localhost/cat", true, "bob", "", "localhost",
             "", "cat", "", "postgres://bob@localhost/cat"},
            {"postgres: percent-encoded", "postgresql://us%40er:p%3As%2Fs%40@h:5432/my%20db%C3%A9?sslmode=require", true,
             "us@er", "p:s/s@", "h", "5432", "my db\xc3\xa9", "",
             "postgresql://us%40er:***@h:5432/my%20db%C3%A9?sslmode=require"},
            // libpq ends the user info at the first '@': the rest is the host (it would not resolve).
            // The display hides everything up to the last '@', more than the password.
            {"postgres: raw @ in password", "postgresql://u:a@b@h/d", true, "u", "a", "b@h", "", "d", "",
             "postgresql://u:***@h/d"},
            {"postgres: ipv6", "postgresql://u@[::1]:6543/d", true, "u", "", "::1", "6543", "d", "",
             "postgresql://u@[::1]:6543/d"},
            {"postgres: several hosts", "postgresql://u@h1:5433,[::1]:5434,h3/d?target_session_attrs=read-write", true, "u", "",
             "h1,::1,h3", "5433,5434,", "d", "", "postgresql://u@h1:5433,[::1]:5434,h3/d?target_session_attrs=read-write"},
            {"postgres: socket folder as a parameter", "postgresql:///d?host=/run/postgresql", true, "", "", "/run/postgresql",
             "", "d", "", "postgresql:///d?host=/run/postgresql"},
            {"postgres: password parameter", "postgresql://h/d?user=u&password=secret", true, "u", "secret", "h", "", "d", "",
             "postgresql://h/d?user=u&password=***"},
            {"postgres: bad port", "postgresql://u@h:99999/d", false},
            {"postgres: bad port in a list", "postgresql://u@h1:5432,h2:x/d", false},
            {"postgres: unknown parameter", "postgresql://h/d?passwrd=secret", false},
            {"postgres: not a url", "/var/lib/quire/catalog.sqlite", false, "", "", "", "", "", "",
             "/var/lib/quire/catalog.sqlite"},
        };
        for (const UrlCase &c : cases)
            QTest::newRow(c.name) << c;
    }
    void serverUrl()
    {
        QFETCH(UrlCase, c);
        const QString url = QString::fromUtf8(c.url);
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
        QCOMPARE(parsed.has_value(), c.valid);
        if (*c.display)
            QCOMPARE(config.displayLocation(), QString::fromUtf8(c.display));
        if (!c.valid) {
            QVERIFY(!error.isEmpty());
            QVERIFY2(!error.contains(QLatin1StringView("secret")), qPrintable(error));
            return;
        }
        QCOMPARE(parsed->user, QString::fromUtf8(c.user));
        QCOMPARE(parsed->password, QString::fromUtf8(c.password));
        QCOMPARE(parsed->host, QString::fromUtf8(c.host));
        QCOMPARE(parsed->port, QString::fromUtf8(c.port));
        QCOMPARE(parsed->database, QString::fromUtf8(c.database));
        QCOMPARE(parsed->socket, QString::fromUtf8(c.socket));
        if (maria)
            QCOMPARE(config.passwordInUrl(), *c.password != '\0');
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
