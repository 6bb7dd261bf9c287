// ctest-labels: uploads s3 concurrency
// ctest-timeout: 900
// The S3 remote against a real S3 server on loopback: moto_server with its signature checking on
// (tests/support/motoserver.h). Where moto is not installed, the server tests are skipped and say
// why; the rules that need no server run everywhere. The signer's encoding is checked against
// AWS's published vectors in tst_s3sign (moto misjudges some characters).

#include "faultserver.h"
#include "hashing/hasher.h"
#include "motoserver.h"
#include "remotes/remotes3.h"
#include "testsupport.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTest>

#include <future>
#include <vector>

using namespace quire;
using namespace quire::test;

class TestRemoteS3 final : public QObject
{
    Q_OBJECT

private:
    MotoServer m_moto;
    MotoServer m_open;   // signature checking off: for names moto cannot check ("name (2).txt")
    QString m_skip;
    QTemporaryDir m_tmp;
    int m_buckets = 0;

#define REQUIRE_MOTO()                                                   \
    do {                                                                 \
        if (!m_skip.isEmpty())                                           \
            QSKIP(qPrintable(QStringLiteral("S3 server tests skipped: ") + m_skip)); \
    } while (false)

    RemoteProfile profile(const QByteArray &bucket, const QString &prefix = {}, const MotoServer *server = nullptr) const
    {
        if (!server)
            server = &m_moto;
        RemoteProfile p;
        p.name = QStringLiteral("s3");
        p.kind = RemoteKind::S3;
        p.url = server->endpoint();
        p.user = QString::fromLatin1(server->accessKeyId());
        p.options.insert(QStringLiteral("bucket"), QString::fromLatin1(bucket));
        if (!prefix.isEmpty())
            p.options.insert(QStringLiteral("prefix"), prefix);
        return p;
    }

    QByteArray newBucket()
    {
        const QByteArray b = "quire-test-" + QByteArray::number(++m_buckets);
        if (!m_moto.createBucket(b))
            qWarning("%s", qPrintable(m_moto.error()));
        return b;
    }

    static RemoteLimits multipartLimits(int lanes)
    {
        RemoteLimits l;
        l.resumeThreshold = 16 << 20;
        l.segmentSize = 8 << 20;
        l.lanes = lanes;
        return l;
    }

    std::unique_ptr<Remote> remote(const RemoteProfile &p, const RemoteLimits &limits = {}, QString secret = {})
    {
        if (secret.isNull())
            secret = QString::fromLatin1(m_moto.secretAccessKey());
        auto r = Remote::create(p, secret, limits);
        if (!r) {
            qWarning("%s", qPrintable(r.error()));
            return {};
        }
        return std::move(r).value();
    }

    // A remote of the bucket "photos" on the fault server, for scripted answers.
    std::unique_ptr<Remote> faultRemote(const FaultServer &server)
    {
        RemoteProfile p;
        p.name = QStringLiteral("s3");
        p.kind = RemoteKind::S3;
        p.url = server.url().toString(QUrl::RemovePath);
        p.user = QStringLiteral("AKIDEXAMPLE");
        p.options.insert(QStringLiteral("bucket"), QStringLiteral("photos"));
        return remote(p, {}, QStringLiteral("secret"));
    }

    UploadItem writeItem(const QString &name, const QByteArray &content, const QString &collection = QStringLiteral("Docs"))
    {
        const QString path = m_tmp.filePath(QStringLiteral("src-%1-%2").arg(++m_buckets).arg(name));
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly) || f.write(content) != content.size())
            qWarning("cannot write %s", qPrintable(path));
        f.close();
        UploadItem item;
        item.collection = collection;
        item.fileName = name;
        item.sourcePath = QFile::encodeName(path);
        const auto st = net::statSource(item.sourcePath);
        item.size = st.size;
        item.mtimeMs = st.mtimeMs;
        item.sha256 = Hasher::hashFile(item.sourcePath).sha256;
        return item;
    }

    // Keeps the upload's resume record in *record, and requests `how` once it confirms `parts` parts.
    static void stopAfterParts(UploadControl &control, QByteArray *record, int parts, UploadControl::Stop how)
    {
        control.saveResumeState = [&control, record, parts, how](const QByteArray &state) {
            *record = state;
            if (state.count(':') >= parts)
                control.requestStop(how);
        };
    }

    static UploadOutcome uploadOnWorker(Remote &r, const UploadItem &item, UploadControl &control)
    {
        return onWorker([&] { return r.upload(item, control); });
    }

    QByteArray object(const QByteArray &bucket, const QByteArray &key)
    {
        const auto reply = m_moto.s3("GET", "/" + bucket + "/" + key);
        return reply.status == 200 ? reply.body : "(HTTP " + QByteArray::number(reply.status) + ")";
    }

    // Part uploads moto logged from line `from` on.
    int partsLogged(qsizetype from = 0) const
    {
        const QList<QByteArray> log = m_moto.requestLog();
        int n = 0;
        for (qsizetype i = from; i < log.size(); ++i) {
            if (log.at(i).contains("\"PUT ") && log.at(i).contains("partNumber="))
                ++n;
        }
        return n;
    }

    // The parts the resume record in the catalog file at `path` lists (the most of any document;
    // another process writes it).
    static int partsRecorded(const QString &path)
    {
        const QString name = QStringLiteral("parts-recorded");
        int parts = 0;
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
            db.setDatabaseName(path);
            db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
            if (db.open()) {
                QSqlQuery q(db);
                if (q.exec(QStringLiteral("SELECT upload_state FROM documents"))) {
                    while (q.next())
                        parts = std::max(parts, int(q.value(0).toByteArray().count(':')));
                }
            }
        }
        QSqlDatabase::removeDatabase(name);
        return parts;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        if (!MotoServer::available()) {
            m_skip = MotoServer::missingMessage();
            qWarning("%s", qPrintable(m_skip));
            return;
        }
        QVERIFY2(m_moto.start(), qPrintable(m_moto.error()));
        QVERIFY2(m_open.start(MotoServer::Auth::Off), qPrintable(m_open.error()));
    }

    void profileRules_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QString>("bucket");
        QTest::addColumn<QString>("prefix");
        QTest::addColumn<QString>("problem");   // a part of the validation error; "" for none
        QTest::newRow("aws") << "https://s3.eu-west-1.amazonaws.com" << "photos" << "" << "";
        QTest::newRow("minio") << "http://nas.local:9000" << "backup.2026" << "quire/" << "";
        QTest::newRow("no bucket") << "https://s3.example" << "" << "" << "needs a bucket";
        QTest::newRow("bad bucket") << "https://s3.example" << "a/b" << "" << "not a bucket name";
        QTest::newRow("short bucket") << "https://s3.example" << "ab" << "" << "not a bucket name";
        QTest::newRow("dotdot bucket") << "https://s3.example" << "a..b" << "" << "not a bucket name";
        QTest::newRow("path in url") << "https://s3.example/photos" << "photos" << "" << "without a path";
        QTest::newRow("dot prefix") << "https://s3.example" << "photos" << "a/../b" << "cannot contain";
        QTest::newRow("control prefix") << "https://s3.example" << "photos" << "a\nb" << "control characters";
        QTest::newRow("ftp") << "ftp://s3.example" << "photos" << "" << "http:// or https://";
    }

    void profileRules()
    {
        QFETCH(QString, url);
        QFETCH(QString, bucket);
        QFETCH(QString, prefix);
        QFETCH(QString, problem);
        RemoteProfile p;
        p.name = QStringLiteral("s3");
        p.kind = RemoteKind::S3;
        p.url = url;
        p.user = QStringLiteral("AKIDEXAMPLE");
        p.options.insert(QStringLiteral("bucket"), bucket);
        p.options.insert(QStringLiteral("prefix"), prefix);
        const auto e = p.validationError();
        if (problem.isEmpty())
            QVERIFY2(!e, qPrintable(e.value_or(QString())));
        else
            QVERIFY2(e && e->contains(problem), qPrintable(e.value_or(QStringLiteral("(accepted)"))));
    }

    void regionAndAddressing()
    {
        RemoteProfile p;
        p.name = QStringLiteral("s3");
        p.kind = RemoteKind::S3;
        p.user = QStringLiteral("AKIDEXAMPLE");
        p.url = QStringLiteral("https://s3.eu-west-1.amazonaws.com");
        p.options.insert(QStringLiteral("bucket"), QStringLiteral("photos"));
        QCOMPARE(p.region(), QStringLiteral("eu-west-1"));
        p.options.insert(QStringLiteral("prefix"), QStringLiteral("/family"));
        QCOMPARE(p.keyPrefix(), QStringLiteral("family/"));
        {
            S3Remote r(p, QStringLiteral("secret"), {});
            QVERIFY(!r.pathStyle());   // virtual host
            QCOMPARE(r.objectUrl("family/Docs/a b.txt").toEncoded(),
                     QByteArray("https://photos.s3.eu-west-1.amazonaws.com/family/Docs/a%20b.txt"));
            QCOMPARE(r.objectKey(QStringLiteral("Do/cs"), QStringLiteral("x.txt")), QByteArray("family/Do_cs/x.txt"));
        }
        p.options.insert(QStringLiteral("bucket"), QStringLiteral("my.photos"));   // no certificate covers it
        QVERIFY(S3Remote(p, QStringLiteral("secret"), {}).pathStyle());
        p.url = QStringLiteral("http://[::1]:9000");
        p.options.insert(QStringLiteral("bucket"), QStringLiteral("photos"));
        QCOMPARE(p.region(), QStringLiteral("us-east-1"));
        S3Remote local(p, QStringLiteral("secret"), {});
        QVERIFY(local.pathStyle());
        // Every byte outside the unreserved set is encoded once, and the URL keeps it so.
        const QByteArray key = QStringLiteral("Docs/été $1 (2)+[x]#?&=.txt").toUtf8();
        const QUrl u = local.objectUrl(key, {{"partNumber", "3"}, {"uploadId", "a/b+c="}});
        QCOMPARE(u.toEncoded(), QByteArray("http://[::1]:9000/photos/Docs/%C3%A9t%C3%A9%20%241%20%282%29%2B%5Bx%5D%23%3F%26%3D.txt"
                                           "?partNumber=3&uploadId=a%2Fb%2Bc%3D"));
        QCOMPARE(QUrl::fromEncoded(u.toEncoded(), QUrl::StrictMode).toEncoded(), u.toEncoded());
        // Parts: at least 8 MiB, at most 10,000 of them.
        QCOMPARE(local.partSizeFor(20 << 20), qint64(8) << 20);
        QCOMPARE(local.partSizeFor(1LL << 30), qint64(64) << 20);
        QVERIFY(local.partSizeFor(1LL << 40) * 10'000 >= 1LL << 40);
    }

    // Aborting a multipart upload (a cancel, a record of other content) is tried again while the
    // answer may change (SlowDown, 5xx), three times in all; a refusal is final. Scripted answers of
    // a loopback HTTP server: moto cannot be made to refuse an abort.
    void abortIsTriedAgainWhileItMayPass()
    {
        FaultServer server;
        QVERIFY2(server.error().isEmpty(), qPrintable(server.error()));
        auto r = faultRemote(server);
        QVERIFY(r);
        UploadItem item = writeItem(QStringLiteral("a.bin"), "aborted");
        auto b64 = [](const QByteArray &v) { return v.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals); };
        // The record an interrupted upload left (format: remotes3.h).
        item.resumeState = "quire-s3-1 " + item.sha256 + ' ' + QByteArray::number(item.size) + " 8388608 "
                           + b64("upload-1") + ' ' + b64("Docs/a.bin") + " 1 -";
        using B = FaultServer::Behaviour;
        const B slowDown = B::respond("DELETE", 503, "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
                                      {{"Content-Type", "application/xml"}});
        const B denied = B::respond("DELETE", 403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
                                    {{"Content-Type", "application/xml"}});
        auto aborts = [&](QList<B> script) {
            const qsizetype from = server.requests().size();
            server.script(std::move(script));
            onWorker([&] {
                UploadControl c;
                r->discardPartial(item, c);
            });
            QList<QByteArray> sent;
            for (const FaultServer::Seen &s : server.requests().mid(from))
                sent << s.method + ' ' + s.path;
            return sent;
        };
        const QByteArray abort = "DELETE /photos/Docs/a.bin?uploadId=upload-1";
        QCOMPARE(aborts({slowDown, slowDown}), QList<QByteArray>(3, abort));            // the third: 404, gone
        QCOMPARE(aborts({slowDown, slowDown, slowDown}), QList<QByteArray>(3, abort));  // and no more
        QCOMPARE(aborts({denied}), QList<QByteArray>{abort});
        QCOMPARE(aborts({}), QList<QByteArray>{abort});
    }

    // What an S3 server says when it refuses, read from its error document: scripted answers of a
    // loopback HTTP server (moto cannot be made to say these).
    void errorAnswersAreShownByTheirCode()
    {
        FaultServer server;
        QVERIFY2(server.error().isEmpty(), qPrintable(server.error()));
        auto r = faultRemote(server);
        QVERIFY(r);
        const UploadItem item = writeItem(QStringLiteral("e.txt"), "error answers");
        using B = FaultServer::Behaviour;
        const QByteArray xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
        const QList<std::pair<QByteArray, QByteArray>> xmlType = {{"Content-Type", "application/xml"}};
        auto upload = [&](QList<B> script) {
            server.script(std::move(script));
            UploadControl c;
            return uploadOnWorker(*r, item, c);
        };
        // The probe PUTs answer 501 (no If-None-Match support: undecided), the lookup 404.
        const B probe = B::respond("PUT", 501);
        const B lookup = B::respond("HEAD", 404);

        UploadOutcome o = upload({probe, lookup, B::respond("PUT", 503, xml + "<Error><Code>SlowDown</Code><Message>Please reduce your "
                                                                         "request rate.</Message></Error>", xmlType)});
        QVERIFY(!o.ok());
        QVERIFY2(o.error->message.contains(QLatin1String("S3 SlowDown: Please reduce your request rate.")), qPrintable(o.error->message));
        QVERIFY(o.error->retryable());

        o = upload({probe, lookup, B::respond("PUT", 403, xml + "<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between "
                                                                "the request time and the current time is too large.</Message>"
                                                                "<RequestTime>20261206T100000Z</RequestTime>"
                                                                "<ServerTime>2026-12-06T10:20:00Z</ServerTime>"
                                                                "<MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds></Error>", xmlType)});
        QVERIFY(!o.ok());
        QVERIFY2(o.error->message.contains(QLatin1String("this computer's clock is off by 1200 s")), qPrintable(o.error->message));
        QCOMPARE(o.error->problem, RemoteError::Problem::Unreachable);   // the remote waits; each document would fail alike
        QVERIFY(!o.error->retryable());

        // The region is wrong: the server names the right one.
        o = upload({probe, lookup, B::respond("PUT", 400, xml + "<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization "
                                                                "header is malformed; the region 'us-east-1' is wrong; expecting "
                                                                "'eu-west-1'</Message><Region>eu-west-1</Region></Error>", xmlType)});
        QVERIFY(!o.ok());
        QVERIFY2(o.error->message.contains(QLatin1String("region eu-west-1: set it with --region")), qPrintable(o.error->message));

        // A HEAD refused without a body: the reason is read from a GET of the first byte.
        o = upload({probe, B::respond("HEAD", 403), B::respond("GET", 403, xml + "<Error><Code>InvalidAccessKeyId</Code><Message>The AWS "
                                                                                 "Access Key Id you provided does not exist in our records."
                                                                                 "</Message></Error>", xmlType)});
        QVERIFY(!o.ok());
        QCOMPARE(o.error->problem, RemoteError::Problem::Credentials);
        QVERIFY2(o.error->message.contains(QLatin1String("S3 InvalidAccessKeyId")), qPrintable(o.error->message));

        // An HTML page from a proxy in front of the server: its text, by the HTTP status.
        o = upload({probe, lookup, B::respond("PUT", 502, "<html><body><h1>502 Bad Gateway</h1><script>x</script></body></html>",
                                              {{"Content-Type", "text/html"}})});
        QVERIFY(!o.ok());
        QVERIFY2(o.error->message.contains(QLatin1String("502")) && !o.error->message.contains(QLatin1String("<h1>")),
                 qPrintable(o.error->message));
        QVERIFY(o.error->retryable());
    }

    void testConnection()
    {
        REQUIRE_MOTO();
        const QByteArray bucket = newBucket();
        auto ok = remote(profile(bucket));
        QVERIFY(ok);
        const auto good = onWorker([&] {
            UploadControl c;
            return ok->test(c);
        });
        QVERIFY2(good, qPrintable(good.error()));
        QVERIFY2(good->contains(QLatin1String("written and deleted")), qPrintable(*good));

        auto wrong = remote(profile(bucket), {}, QStringLiteral("not-the-secret"));
        const auto refused = onWorker([&] {
            UploadControl c;
            return wrong->test(c);
        });
        QVERIFY(!refused);
        QVERIFY2(refused.error().contains(QLatin1String("SignatureDoesNotMatch")), qPrintable(refused.error()));

        auto missing = remote(profile("no-such-bucket-here"));
        const auto none = onWorker([&] {
            UploadControl c;
            return missing->test(c);
        });
        QVERIFY(!none);
        QVERIFY2(none.error().contains(QLatin1String("NoSuchBucket")) && none.error().contains(QLatin1String("no-such-bucket-here")),
                 qPrintable(none.error()));
    }

    void remoteProblemsAreNamed()
    {
        REQUIRE_MOTO();
        const QByteArray bucket = newBucket();
        const UploadItem item = writeItem(QStringLiteral("a.txt"), "abc");
        auto wrong = remote(profile(bucket), {}, QStringLiteral("not-the-secret"));
        UploadControl c1;
        const UploadOutcome o1 = uploadOnWorker(*wrong, item, c1);
        QVERIFY(!o1.ok());
        QCOMPARE(o1.error->problem, RemoteError::Problem::Credentials);
        QVERIFY2(o1.error->message.contains(QLatin1String("S3 SignatureDoesNotMatch")), qPrintable(o1.error->message));
        QVERIFY(!o1.error->retryable());

        auto missing = remote(profile("gone-bucket"));
        UploadControl c2;
        const UploadOutcome o2 = uploadOnWorker(*missing, item, c2);
        QVERIFY(!o2.ok());
        QCOMPARE(o2.error->problem, RemoteError::Problem::Unreachable);
        QVERIFY2(o2.error->message.contains(QLatin1String("NoSuchBucket")) && o2.error->message.contains(QLatin1String("gone-bucket")),
                 qPrintable(o2.error->message));
    }

    void smallFilesAndNames()
    {
        REQUIRE_MOTO();
        const QByteArray bucket = newBucket();
        auto r = remote(profile(bucket, QStringLiteral("archive")));
        QVERIFY(r);
        const QByteArray content = pseudoRandomBytes(100'000, 1);
        const UploadItem item = writeItem(QStringLiteral("report 2026.pdf"), content);
        UploadControl c;
        UploadOutcome o = uploadOnWorker(*r, item, c);
        QVERIFY2(o.ok(), qPrintable(o.error ? o.error->message : QString()));
        QCOMPARE(o.value.storedName, QStringLiteral("report 2026.pdf"));
        QVERIFY(!o.value.alreadyPresent);
        QCOMPARE(o.value.bytesSent, item.size);
        QCOMPARE(object(bucket, "archive/Docs/report 2026.pdf"), content);
        const auto head = m_moto.s3("HEAD", "/" + bucket + "/archive/Docs/report 2026.pdf");
        QCOMPARE(head.header("x-amz-meta-sha256"), item.sha256);

        // The same content again: found, nothing sent.
        o = uploadOnWorker(*r, item, c);
        QVERIFY(o.ok());
        QVERIFY(o.value.alreadyPresent);
        QCOMPARE(o.value.storedName, QStringLiteral("report 2026.pdf"));

    }

    void otherContentGetsTheNextName()
    {
        REQUIRE_MOTO();
        // moto checks signatures of keys with '(' and ')' wrongly (it signs them unencoded, where
        // AWS encodes them: tst_s3sign), so this runs against moto with signature checking off.
        const QByteArray bucket = "quire-names";
        QVERIFY2(m_open.createBucket(bucket), qPrintable(m_open.error()));
        auto r = remote(profile(bucket, QStringLiteral("archive"), &m_open), {}, QString::fromLatin1(m_open.secretAccessKey()));
        QVERIFY(r);
        const QByteArray content = pseudoRandomBytes(100'000, 1);
        UploadControl c;
        UploadOutcome o = uploadOnWorker(*r, writeItem(QStringLiteral("report.pdf"), content), c);
        QVERIFY(o.ok());
        // Other content under the same name: stored next to it, the first one untouched.
        const QByteArray other = pseudoRandomBytes(100'000, 2);
        const UploadItem second = writeItem(QStringLiteral("report.pdf"), other);
        o = uploadOnWorker(*r, second, c);
        QVERIFY2(o.ok(), qPrintable(o.error ? o.error->message : QString()));
        QCOMPARE(o.value.storedName, QStringLiteral("report (2).pdf"));
        QCOMPARE(m_open.s3("GET", "/" + bucket + "/archive/Docs/report (2).pdf").body, other);
        QCOMPARE(m_open.s3("GET", "/" + bucket + "/archive/Docs/report.pdf").body, content);
        o = uploadOnWorker(*r, second, c);   // again: found under its name
        QVERIFY(o.ok() && o.value.alreadyPresent);
        QCOMPARE(o.value.storedName, QStringLiteral("report (2).pdf"));

        // A fresh Remote (another run) that finds the name taken by other content: the same.
        auto again = remote(profile(bucket, QStringLiteral("archive"), &m_open), {}, QString::fromLatin1(m_open.secretAccessKey()));
        const UploadItem third = writeItem(QStringLiteral("report.pdf"), pseudoRandomBytes(1000, 3));
        o = uploadOnWorker(*again, third, c);
        QVERIFY(o.ok());
        QCOMPARE(o.value.storedName, QStringLiteral("report (3).pdf"));
    }

    // One Remote used by several uploads at once, as the upload job does: the first uses race to
    // probe the server, and every object arrives whole.
    void parallelUploadsShareOneRemote()
    {
        REQUIRE_MOTO();
        const QByteArray bucket = newBucket();
        auto r = remote(profile(bucket));
        QList<UploadItem> items;
        for (int i = 0; i < 8; ++i)
            items.append(writeItem(QStringLiteral("p%1.bin").arg(i), pseudoRandomBytes(30'000 + i, 20 + i)));
        std::vector<std::future<UploadOutcome>> running;
        for (const UploadItem &item : items) {
            running.push_back(std::async(std::launch::async, [&r, item] {
                UploadControl c;
                return r->upload(item, c);
            }));
        }
        for (int i = 0; i < items.size(); ++i) {
            const UploadOutcome o = running[i].get();
            QVERIFY2(o.ok(), qPrintable(o.error ? o.error->message : QString()));
            QCOMPARE(object(bucket, "Docs/p" + QByteArray::number(i) + ".bin"), pseudoRandomBytes(30'000 + i, 20 + i));
        }
    }

    void verifyShallowAndDeep()
    {
        REQUIRE_MOTO();
        const QByteArray bucket = newBucket();
        auto r = remote(profile(bucket));
        const UploadItem item = writeItem(QStringLiteral("v.bin"), pseudoRandomBytes(50'000, 4));
        UploadControl c;
        const UploadOutcome o = uploadOnWorker(*r, item, c);
        QVERIFY(o.ok());
        auto verify = [&](const QString &location, bool deep) {
            return onWorker([&] {
                UploadControl vc;
                return r->verify(item, location, deep, vc);
            });
        };
        VerifyOutcome v = verify(o.value.location, false);
        QVERIFY(v.ok());
        QVERIFY2(v.value.matches() && v.value.checksumChecked, qPrintable(v.value.detail));
        v = verify(o.value.location, true);
        QVERIFY(v.ok() && v.value.matches());
        QCOMPARE(v.value.detail, QStringLiteral("size and SHA-256 match (read back)"));

        // Replaced behind Quire's back with other bytes of the same size and the old metadata.
        QCOMPARE(m_moto.s3("PUT", "/" + bucket + "/Docs/v.bin", {}, pseudoRandomBytes(50'000, 5), {{"x-amz-meta-sha256", item.sha256}}).status, 200);
        v = verify(o.value.location, false);
        QVERIFY(v.ok() && v.value.matches());   // the metadata cannot tell
        v = verify(o.value.location, true);
        QVERIFY(v.ok());
        QVERIFY(!v.value.matches());
        QVERIFY(v.value.detail.contains(QLatin1String("SHA-256 differs")));

        QCOMPARE(m_moto.s3("DELETE", "/" + bucket + "/Docs/v.bin").status, 204);
        v = verify(o.value.location, false);
        QVERIFY(v.ok() && !v.value.exists);

        // A location on another server (a shared catalog's row) is never asked with our signature.
        v = verify(QStringLiteral("http://127.0.0.2:%1/%2/Docs/v.bin").arg(m_moto.port()).arg(QString::fromLatin1(bucket)), false);
        QVERIFY(!v.ok());
        QVERIFY2(v.error->message.contains(QLatin1String("is not an object of remote")), qPrintable(v.error->message));
    }

    void multipartUpload()
    {
        REQUIRE_MOTO();
        const QByteArray bucket = newBucket();
        auto r = remote(profile(bucket), multipartLimits(3));
        const QByteArray content = pseudoRandomBytes(20 << 20, 6);   // parts of 8, 8 and 4 MiB
        const UploadItem item = writeItem(QStringLiteral("big.iso"), content);
        const qsizetype logFrom = m_moto.requestLog().size();
        UploadControl c;
        qint64 lastDone = 0;
        c.progress = [&](qint64 done, qint64 total) {
            if (total == item.size)
                lastDone = std::max(lastDone, done);
        };
        const UploadOutcome o = uploadOnWorker(*r, item, c);
        QVERIFY2(o.ok(), qPrintable(o.error ? o.error->message : QString()));
        QCOMPARE(o.value.bytesSent, item.size);
        QCOMPARE(lastDone, item.size);
        QCOMPARE(partsLogged(logFrom), 3);
        QCOMPARE(object(bucket, "Docs/big.iso"), content);
        QCOMPARE(m_moto.s3("HEAD", "/" + bucket + "/Docs/big.iso").header("x-amz-meta-sha256"), item.sha256);
        QCOMPARE(m_moto.pendingUploads(bucket), QList<QByteArray>());
    }

    void multipartResumesFromRecord()
    {
        REQUIRE_MOTO();
        const QByteArray bucket = newBucket();
        auto r = remote(profile(bucket), multipartLimits(1));
        const QByteArray content = pseudoRandomBytes(40 << 20, 7);   // 5 parts of 8 MiB
        UploadItem item = writeItem(QStringLiteral("resume me.bin"), content);
        UploadControl c;
        QByteArray record;
        stopAfterParts(c, &record, 2, UploadControl::Stop::Pause);
        UploadOutcome o = uploadOnWorker(*r, item, c);
        QVERIFY(!o.ok());
        QCOMPARE(o.error->kind, RemoteError::Kind::Stopped);
        QVERIFY2(record.startsWith("quire-s3-1 " + item.sha256), record.constData());
        QCOMPARE(m_moto.pendingUploads(bucket), QList<QByteArray>{"Docs/resume me.bin"});

        // The next attempt (another Remote, as after a restart) sends only the missing parts.
        item.resumeState = record;
        auto next = remote(profile(bucket), multipartLimits(1));
        UploadControl c2;
        QByteArray after = "unset";
        c2.saveResumeState = [&](const QByteArray &state) { after = state; };
        const qsizetype logFrom = m_moto.requestLog().size();
        o = uploadOnWorker(*next, item, c2);
        QVERIFY2(o.ok(), qPrintable(o.error ? o.error->message : QString()));
        QVERIFY2(o.value.resumedFrom >= qint64(16) << 20, qPrintable(QString::number(o.value.resumedFrom)));
        QCOMPARE(o.value.bytesSent, item.size - o.value.resumedFrom);
        QCOMPARE(partsLogged(logFrom), int((item.size - o.value.resumedFrom) / (8 << 20)));
        QCOMPARE(after, QByteArray());   // the record is cleared once the object is complete
        QCOMPARE(object(bucket, "Docs/resume me.bin"), content);
        QCOMPARE(m_moto.pendingUploads(bucket), QList<QByteArray>());
    }

    void mismatchedRecordStartsOver()
    {
        REQUIRE_MOTO();
        const QByteArray bucket = newBucket();
        auto r = remote(profile(bucket), multipartLimits(1));
        const QByteArray content = pseudoRandomBytes(24 << 20, 8);
        UploadItem item = writeItem(QStringLiteral("m.bin"), content);
        UploadControl c;
        QByteArray record;
        stopAfterParts(c, &record, 1, UploadControl::Stop::Pause);
        QVERIFY(!uploadOnWorker(*r, item, c).ok());
        QVERIFY(record.contains(':'));
        // The record says part 1 has another ETag than the server lists: not trusted.
        QList<QByteArray> fields = record.split(' ');
        fields.last() = "1:" + QByteArray("\"0123456789abcdef0123456789abcdef\"").toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
        item.resumeState = fields.join(' ');
        UploadControl c2;
        const UploadOutcome o = uploadOnWorker(*r, item, c2);
        QVERIFY2(o.ok(), qPrintable(o.error ? o.error->message : QString()));
        QCOMPARE(o.value.resumedFrom, qint64(0));
        QCOMPARE(o.value.bytesSent, item.size);
        QCOMPARE(object(bucket, "Docs/m.bin"), content);
        QCOMPARE(m_moto.pendingUploads(bucket), QList<QByteArray>());   // the old upload was aborted
    }

    // A record of an upload that no longer fits the document (the file changed; the document was
    // renamed) is not continued, and that upload is aborted rather than left billed in the bucket.
    void recordsThatNoLongerFitAreAborted()
    {
        REQUIRE_MOTO();
        const QByteArray bucket = newBucket();
        auto r = remote(profile(bucket), multipartLimits(1));
        auto pauseAfterOnePart = [&](const UploadItem &item) {
            UploadControl c;
            QByteArray record;
            stopAfterParts(c, &record, 1, UploadControl::Stop::Pause);
            const UploadOutcome o = uploadOnWorker(*r, item, c);
            return o.ok() ? QByteArray() : record;
        };
        // 1. The file changed since: other content, same name.
        UploadItem before = writeItem(QStringLiteral("s.bin"), pseudoRandomBytes(24 << 20, 11));
        const QByteArray record = pauseAfterOnePart(before);
        QVERIFY(record.contains(':'));
        QCOMPARE(m_moto.pendingUploads(bucket), QList<QByteArray>{"Docs/s.bin"});
        UploadItem after = writeItem(QStringLiteral("s.bin"), pseudoRandomBytes(24 << 20, 12));
        after.resumeState = record;
        UploadControl c;
        UploadOutcome o = uploadOnWorker(*r, after, c);
        QVERIFY2(o.ok(), qPrintable(o.error ? o.error->message : QString()));
        QCOMPARE(o.value.resumedFrom, qint64(0));
        QCOMPARE(object(bucket, "Docs/s.bin"), pseudoRandomBytes(24 << 20, 12));
        QCOMPARE(m_moto.pendingUploads(bucket), QList<QByteArray>());

        // 2. The same content under another name now: the old key's upload is not completed there.
        UploadItem first = writeItem(QStringLiteral("old name.bin"), pseudoRandomBytes(24 << 20, 13));
        const QByteArray record2 = pauseAfterOnePart(first);
        QVERIFY(record2.contains(':'));
        UploadItem renamed = first;
        renamed.fileName = QStringLiteral("new name.bin");
        renamed.resumeState = record2;
        o = uploadOnWorker(*r, renamed, c);
        QVERIFY2(o.ok(), qPrintable(o.error ? o.error->message : QString()));
        QCOMPARE(o.value.storedName, QStringLiteral("new name.bin"));
        QCOMPARE(object(bucket, "Docs/new name.bin"), pseudoRandomBytes(24 << 20, 13));
        QCOMPARE(m_moto.s3("HEAD", "/" + bucket + "/Docs/old name.bin").status, 404);
        QCOMPARE(m_moto.pendingUploads(bucket), QList<QByteArray>());
    }

    void cancelAbortsTheUpload()
    {
        REQUIRE_MOTO();
        const QByteArray bucket = newBucket();
        auto r = remote(profile(bucket), multipartLimits(2));
        UploadItem item = writeItem(QStringLiteral("c.bin"), pseudoRandomBytes(32 << 20, 9));
        UploadControl c;
        QByteArray record;
        stopAfterParts(c, &record, 1, UploadControl::Stop::Cancel);
        const qsizetype logFrom = m_moto.requestLog().size();
        const UploadOutcome o = uploadOnWorker(*r, item, c);
        QVERIFY(!o.ok());
        QCOMPARE(o.error->kind, RemoteError::Kind::Stopped);
        QCOMPARE(record, QByteArray());   // cleared
        const QList<QByteArray> pending = m_moto.pendingUploads(bucket);
        QVERIFY2(pending.isEmpty(), (pending.join(' ') + " still pending; moto saw:\n" + m_moto.requestLog().mid(logFrom).join('\n')).constData());
        QCOMPARE(m_moto.s3("HEAD", "/" + bucket + "/Docs/c.bin").status, 404);
    }

    void killedPushResumes()
    {
        REQUIRE_MOTO();
        const QByteArray bucket = newBucket();
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QVERIFY(writeQuireSettings(dir.path(), {{QStringLiteral("settings/uploads/resumeThresholdMiB"), 16},
                                                {QStringLiteral("settings/uploads/segmentMiB"), 8},
                                                {QStringLiteral("settings/uploads/lanesPerFile"), 1}}));
        QProcessEnvironment env = quireEnvironment(dir.path());
        env.insert(QStringLiteral("QUIRE_PASSWORD_S3"), QString::fromLatin1(m_moto.secretAccessKey()));
        env.insert(QStringLiteral("TSAN_OPTIONS"), QStringLiteral("report_bugs=0"));
        auto run = [&](const QStringList &args) { return runQuire(args, env, {}, 600'000); };
        auto r = run({QStringLiteral("remote"), QStringLiteral("add"), QStringLiteral("s3"), QStringLiteral("--kind"),
                      QStringLiteral("s3"), QStringLiteral("--url"), m_moto.endpoint(), QStringLiteral("--bucket"),
                      QString::fromLatin1(bucket), QStringLiteral("--user"), QString::fromLatin1(m_moto.accessKeyId())});
        QVERIFY2(r.exitCode == 0, qPrintable(r.text()));
        QVERIFY2(r.text().contains(QLatin1String("bucket ") + QString::fromLatin1(bucket)), qPrintable(r.text()));
        const QByteArray content = pseudoRandomBytes(96 << 20, 10);   // 12 parts of 8 MiB
        const QString src = dir.filePath(QStringLiteral("src/disk image.img"));
        QVERIFY(createFile(src, content));
        r = run({QStringLiteral("add"), QStringLiteral("--no-upload"), QStringLiteral("-c"), QStringLiteral("Images"), src});
        QVERIFY2(r.exitCode == 0, qPrintable(r.text()));
        r = run({QStringLiteral("collections"), QStringLiteral("set-remote"), QStringLiteral("Images"), QStringLiteral("s3")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.text()));

        // A slow push, killed (SIGKILL) once the catalog's resume record lists three parts. Not
        // once the server has them: the record of a part is saved after the server's answer, and
        // a part the server has but the record lacks is rightly sent again.
        const qsizetype logFrom = m_moto.requestLog().size();
        const QString catalog = dir.filePath(QStringLiteral("catalog.sqlite"));
        QProcess push;
        push.setProcessEnvironment(env);
        push.start(quireBinary(), {QStringLiteral("push"), QStringLiteral("--limit-rate"), QStringLiteral("16M")});
        QVERIFY(push.waitForStarted(10'000));
        QTRY_VERIFY_WITH_TIMEOUT(partsRecorded(catalog) >= 3 || push.state() != QProcess::Running, 300'000);
        if (push.state() != QProcess::Running)
            QFAIL(qPrintable(QStringLiteral("the push ended before it could be killed: ") + QString::fromUtf8(push.readAll())));
        push.kill();
        QVERIFY(push.waitForFinished(60'000));
        const int before = partsLogged(logFrom);
        const int recorded = partsRecorded(catalog);
        QVERIFY2(recorded >= 3 && recorded <= before && before < 12,
                 qPrintable(QStringLiteral("%1 parts recorded, %2 on the server").arg(recorded).arg(before)));
        QCOMPARE(m_moto.pendingUploads(bucket), QList<QByteArray>{"Images/disk image.img"});

        // The next push checks the record against the server and sends only what is missing.
        const qsizetype resumeFrom = m_moto.requestLog().size();
        r = run({QStringLiteral("push")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.text()));
        QVERIFY2(r.text().contains(QLatin1String("resumed")), qPrintable(r.text()));
        const int sentAgain = partsLogged(resumeFrom);
        qInfo("parts sent before the kill: %d (%d recorded); after it: %d of 12", before, recorded, sentAgain);
        QVERIFY(sentAgain > 0 && sentAgain <= 12 - recorded);
        QCOMPARE(object(bucket, "Images/disk image.img"), content);
        QCOMPARE(m_moto.pendingUploads(bucket), QList<QByteArray>());
    }
};

QTEST_GUILESS_MAIN(TestRemoteS3)
#include "tst_remotes3.moc"
