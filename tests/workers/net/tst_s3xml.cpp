// ctest-labels: uploads
// The S3 XML documents (workers/net/s3xml.h): S3's own sample answers, real error bodies, the
// CompleteMultipartUpload body, and malformed or hostile input.
// The sample documents are in tests/workers/net/data/ (s3-*.xml). Their sources:
//  - S3 API reference examples: CreateMultipartUpload (InitiateMultipartUploadResult),
//    ListParts, ListMultipartUploads (as kept in boto/botocore
//    tests/unit/response_parsing/xml/responses/s3-list-multipart-uploads#2.xml),
//    CompleteMultipartUpload (the result and the "200 OK with an <Error>" sample, as quoted in
//    aws/aws-sdk-js test/services/s3.spec.coffee);
//  - errors S3 sent: boto/botocore tests/unit/response_parsing/xml/errors/s3-create-bucket.xml
//    and tests/functional/test_s3.py (AuthorizationHeaderMalformed); RequestTimeTooSkewed bodies
//    quoted in aws/aws-sdk-php#612 and ex-aws/ex_aws#159, and Aliyun OSS's variant in
//    aliyun/aliyun-oss-android-sdk#167.

#include "net/s3xml.h"

#include <QFile>
#include <QTest>
#include <QTimeZone>
#include <QXmlStreamReader>

using namespace quire::net::s3;
using quire::Result;

Q_DECLARE_METATYPE(quire::net::s3::CompletedPart)

namespace {

QDateTime utc(int y, int mo, int d, int h, int mi, int s)
{
    return QDateTime(QDate(y, mo, d), QTime(h, mi, s), QTimeZone::utc());
}

// A sample document of tests/workers/net/data/, as it is in the file.
QByteArray sample(const char *name)
{
    QFile f(QStringLiteral(QUIRE_TESTS_DIR "/workers/net/data/") + QLatin1String(name));
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(f.fileName()));
    return f.readAll();
}

const QByteArray kInitiate = sample("s3-initiate-multipart-upload.xml");
const QByteArray kListParts = sample("s3-list-parts.xml");
const QByteArray kListUploads = sample("s3-list-multipart-uploads.xml");
const QByteArray kComplete = sample("s3-complete-multipart-upload.xml");
const QByteArray kCompleteFailed = sample("s3-complete-multipart-upload-error.xml");

// A ListPartsResult with n parts numbered 1..n.
QByteArray manyParts(int n)
{
    QByteArray xml = "<ListPartsResult><IsTruncated>false</IsTruncated><UploadId>u</UploadId>";
    for (int i = 1; i <= n; ++i)
        xml += "<Part><PartNumber>" + QByteArray::number(i) + "</PartNumber><ETag>\"e\"</ETag><Size>5</Size></Part>";
    return xml + "</ListPartsResult>";
}

} // namespace

class TestS3Xml final : public QObject
{
    Q_OBJECT

private slots:
    void initiate()
    {
        const auto p = parseInitiateMultipartUpload(kInitiate);
        QVERIFY2(p.ok(), qPrintable(p.failure));
        QVERIFY(!p.error);
        QVERIFY(p.failure.isEmpty());
        QCOMPARE(p.value->bucket, QStringLiteral("example-bucket"));
        QCOMPARE(p.value->key, QStringLiteral("example-object"));
        QCOMPARE(p.value->uploadId, QStringLiteral("VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"));

        // No namespace, a prefixed namespace and unknown elements: same values.
        const auto bare = parseInitiateMultipartUpload(
            "<s3:InitiateMultipartUploadResult xmlns:s3=\"urn:x\"><s3:Extra><a/></s3:Extra><s3:UploadId> u-1 </s3:UploadId>"
            "<s3:Key>a &amp; b/&#x00E9;t&#233;.txt</s3:Key></s3:InitiateMultipartUploadResult>");
        QVERIFY2(bare.ok(), qPrintable(bare.failure));
        QCOMPARE(bare.value->uploadId, QStringLiteral("u-1"));
        QCOMPARE(bare.value->key, QStringLiteral("a & b/\u00e9t\u00e9.txt"));

        const auto noId = parseInitiateMultipartUpload("<InitiateMultipartUploadResult><Key>k</Key></InitiateMultipartUploadResult>");
        QVERIFY(!noId.ok());
        QVERIFY(!noId.error);
        QCOMPARE(noId.failure, QStringLiteral("no UploadId in InitiateMultipartUploadResult"));
    }

    void listParts()
    {
        const auto p = parseListParts(kListParts);
        QVERIFY2(p.ok(), qPrintable(p.failure));
        const ListPartsResult &r = *p.value;
        QCOMPARE(r.uploadId, QStringLiteral("XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA"));
        QCOMPARE(r.isTruncated, true);
        QCOMPARE(r.nextPartNumberMarker, 3);
        QCOMPARE(r.parts.size(), 2);
        QCOMPARE(r.parts[0].partNumber, 2);
        QCOMPARE(r.parts[0].etag, QStringLiteral("\"7778aef83f66abc1fa1e8477f296d394\""));
        QCOMPARE(r.parts[0].size, qint64(10485760));
        QCOMPARE(r.parts[0].checksumSha256, QString());
        QCOMPARE(r.parts[1].partNumber, 3);
        QCOMPARE(r.parts[1].etag, QStringLiteral("\"aaaa18db4cc2f85cedef654fccc4a4x8\""));

        const auto last = parseListParts(
            "<ListPartsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><UploadId>u</UploadId>"
            "<IsTruncated>false</IsTruncated><Part><PartNumber>10000</PartNumber><ETag>&quot;x&quot;</ETag>"
            "<Size>6442450944</Size><ChecksumSHA256>n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=</ChecksumSHA256></Part>"
            "</ListPartsResult>");
        QVERIFY2(last.ok(), qPrintable(last.failure));
        QCOMPARE(last.value->isTruncated, false);
        QCOMPARE(last.value->nextPartNumberMarker, 0);
        QCOMPARE(last.value->parts.size(), 1);
        QCOMPARE(last.value->parts[0].partNumber, 10000);
        QCOMPARE(last.value->parts[0].etag, QStringLiteral("\"x\""));
        QCOMPARE(last.value->parts[0].size, qint64(6442450944));
        QCOMPARE(last.value->parts[0].checksumSha256, QStringLiteral("n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="));

        const auto none = parseListParts("<ListPartsResult><IsTruncated>false</IsTruncated></ListPartsResult>");
        QVERIFY2(none.ok(), qPrintable(none.failure));
        QVERIFY(none.value->parts.isEmpty());
    }

    void listPartsRefused_data()
    {
        QTest::addColumn<QByteArray>("xml");
        QTest::addColumn<QString>("failure");
        // A complete ListPartsResult with one Part of these elements.
        const auto onePart = [](const char *elements) {
            return "<ListPartsResult><IsTruncated>false</IsTruncated><Part>" + QByteArray(elements) + "</Part></ListPartsResult>";
        };
        const QString badNumber = QStringLiteral("a Part whose PartNumber is not in 1..10000");
        const QString incomplete = QStringLiteral("a Part without PartNumber, ETag or Size");
        QTest::newRow("part number 0") << onePart("<PartNumber>0</PartNumber><ETag>e</ETag><Size>1</Size>") << badNumber;
        QTest::newRow("part number 10001") << onePart("<PartNumber>10001</PartNumber><ETag>e</ETag><Size>1</Size>") << badNumber;
        QTest::newRow("part number text") << onePart("<PartNumber>one</PartNumber><ETag>e</ETag><Size>1</Size>") << badNumber;
        QTest::newRow("negative size") << onePart("<PartNumber>1</PartNumber><ETag>e</ETag><Size>-1</Size>")
                                       << QStringLiteral("a Part whose Size is not a number >= 0");
        QTest::newRow("no etag") << onePart("<PartNumber>1</PartNumber><Size>1</Size>") << incomplete;
        QTest::newRow("no size") << onePart("<PartNumber>1</PartNumber><ETag>e</ETag>") << incomplete;
        QTest::newRow("truncated without marker") << QByteArray("<ListPartsResult><IsTruncated>true</IsTruncated></ListPartsResult>")
                                                  << QStringLiteral("a truncated ListPartsResult without NextPartNumberMarker");
        QTest::newRow("truncated marker 0")
            << QByteArray("<ListPartsResult><IsTruncated>true</IsTruncated><NextPartNumberMarker>0</NextPartNumberMarker></ListPartsResult>")
            << QStringLiteral("a truncated ListPartsResult without NextPartNumberMarker");
        QTest::newRow("is truncated yes") << QByteArray("<ListPartsResult><IsTruncated>yes</IsTruncated></ListPartsResult>")
                                          << QStringLiteral("IsTruncated is neither true nor false");
        QTest::newRow("wrong root") << kListUploads
                                    << QStringLiteral("<ListMultipartUploadsResult> where <ListPartsResult> was expected");
        QTest::newRow("10001 parts") << manyParts(10001) << QStringLiteral("more than 10000 parts in one answer");
    }
    void listPartsRefused()
    {
        QFETCH(QByteArray, xml);
        QFETCH(QString, failure);
        const auto p = parseListParts(xml);
        QVERIFY(!p.ok());
        QVERIFY(!p.error);
        QCOMPARE(p.failure, failure);
    }

    void tenThousandPartsAreRead()
    {
        const auto p = parseListParts(manyParts(10000));
        QVERIFY2(p.ok(), qPrintable(p.failure));
        QCOMPARE(p.value->parts.size(), 10000);
        QCOMPARE(p.value->parts.last().partNumber, 10000);
        QCOMPARE(p.value->parts.last().size, qint64(5));
    }

    void listMultipartUploads()
    {
        const auto p = parseListMultipartUploads(kListUploads);
        QVERIFY2(p.ok(), qPrintable(p.failure));
        const ListMultipartUploadsResult &r = *p.value;
        QCOMPARE(r.isTruncated, true);
        QCOMPARE(r.nextKeyMarker, QStringLiteral("my-movie.m2ts"));
        QCOMPARE(r.nextUploadIdMarker, QStringLiteral("YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ"));
        QCOMPARE(r.uploads.size(), 3);
        QCOMPARE(r.uploads[0].key, QStringLiteral("my-divisor"));
        QCOMPARE(r.uploads[0].uploadId, QStringLiteral("XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw"));
        QCOMPARE(r.uploads[0].initiated, utc(2010, 11, 10, 20, 48, 33));
        QCOMPARE(r.uploads[1].key, QStringLiteral("my-movie.m2ts"));
        QCOMPARE(r.uploads[1].uploadId, QStringLiteral("VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"));
        QCOMPARE(r.uploads[2].uploadId, QStringLiteral("YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ"));
        QCOMPARE(r.uploads[2].initiated, utc(2010, 11, 10, 20, 49, 33));

        // boto/botocore .../responses/s3-list-multipart-uploads.xml: only common prefixes.
        const auto prefixes = parseListMultipartUploads(sample("s3-list-multipart-uploads-prefixes.xml"));
        QVERIFY2(prefixes.ok(), qPrintable(prefixes.failure));
        QVERIFY(prefixes.value->uploads.isEmpty());
        QCOMPARE(prefixes.value->isTruncated, false);
        QCOMPARE(prefixes.value->nextKeyMarker, QString());

        const auto badDate = parseListMultipartUploads(
            "<ListMultipartUploadsResult><Upload><Key>k</Key><UploadId>u</UploadId><Initiated>yesterday</Initiated>"
            "</Upload></ListMultipartUploadsResult>");
        QVERIFY2(badDate.ok(), qPrintable(badDate.failure));
        QVERIFY(!badDate.value->uploads[0].initiated.isValid());

        const auto noId = parseListMultipartUploads("<ListMultipartUploadsResult><Upload><Key>k</Key></Upload></ListMultipartUploadsResult>");
        QCOMPARE(noId.failure, QStringLiteral("an Upload without Key or UploadId"));
        const auto endless = parseListMultipartUploads(
            "<ListMultipartUploadsResult><IsTruncated>true</IsTruncated><NextKeyMarker/></ListMultipartUploadsResult>");
        QCOMPARE(endless.failure, QStringLiteral("a truncated ListMultipartUploadsResult without NextKeyMarker"));

        QByteArray many = "<ListMultipartUploadsResult>";
        for (int i = 0; i <= kMaxListEntries; ++i)
            many += "<Upload><Key>k</Key><UploadId>" + QByteArray::number(i) + "</UploadId></Upload>";
        const auto tooMany = parseListMultipartUploads(many + "</ListMultipartUploadsResult>");
        QCOMPARE(tooMany.failure, QStringLiteral("more than 10000 uploads in one answer"));
    }

    void complete()
    {
        const auto p = parseCompleteMultipartUpload(kComplete);
        QVERIFY2(p.ok(), qPrintable(p.failure));
        QCOMPARE(p.value->location, QStringLiteral("http://Example-Bucket.s3.amazonaws.com/Example-Object"));
        QCOMPARE(p.value->bucket, QStringLiteral("Example-Bucket"));
        QCOMPARE(p.value->key, QStringLiteral("Example-Object"));
        QCOMPARE(p.value->etag, QStringLiteral("\"3858f62230ac3c915f300c664312c11f-9\""));

        // White space S3 sent to keep the connection open, before the document.
        const auto padded = parseCompleteMultipartUpload("\n \r\n\t\n" + kComplete);
        QVERIFY2(padded.ok(), qPrintable(padded.failure));
        QCOMPARE(padded.value->etag, QStringLiteral("\"3858f62230ac3c915f300c664312c11f-9\""));
    }

    // A 200 answer to CompleteMultipartUpload whose body is an <Error>: a failure, not a success.
    void completeAnsweredWithError()
    {
        for (const QByteArray &body : {kCompleteFailed, QByteArray("\n\n\n      \n") + kCompleteFailed}) {
            const auto p = parseCompleteMultipartUpload(body);
            QVERIFY(!p.ok());
            QVERIFY(p.failure.isEmpty());
            QVERIFY(p.error.has_value());
            QCOMPARE(p.error->code, QStringLiteral("InternalError"));
            QCOMPARE(p.error->message, QStringLiteral("We encountered an internal error. Please try again."));
            QCOMPARE(p.error->requestId, QStringLiteral("656c76696e6727732072657175657374"));
            QCOMPARE(p.error->fields.value(QStringLiteral("HostId")),
                     QStringLiteral("Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg=="));
            QCOMPARE(describeError(*p.error, 200),
                     QStringLiteral("S3 InternalError: We encountered an internal error. Please try again."));
        }
        // The other parsers see it the same way.
        QCOMPARE(parseListParts(kCompleteFailed).error->code, QStringLiteral("InternalError"));
        QCOMPARE(parseInitiateMultipartUpload(kCompleteFailed).error->code, QStringLiteral("InternalError"));
        QCOMPARE(parseListMultipartUploads(kCompleteFailed).error->code, QStringLiteral("InternalError"));
        // An <Error> cut short is neither.
        const auto cut = parseCompleteMultipartUpload(kCompleteFailed.left(kCompleteFailed.size() - 12));
        QVERIFY(!cut.ok());
        QVERIFY(!cut.error);
        QCOMPARE(cut.failure, QStringLiteral("truncated XML"));
    }

    void errors()
    {
        // boto/botocore tests/unit/response_parsing/xml/errors/s3-create-bucket.xml
        const auto owned = parseError(sample("s3-create-bucket-error.xml"));
        QVERIFY2(owned.ok(), qPrintable(owned.error()));
        QCOMPARE(owned->code, QStringLiteral("BucketAlreadyOwnedByYou"));
        QCOMPARE(owned->bucketName, QStringLiteral("garnaat-pdx"));
        QCOMPARE(owned->requestId, QStringLiteral("96380E1CB938DDF7"));
        QCOMPARE(owned->fields.size(), 1);
        QCOMPARE(owned->fields.value(QStringLiteral("HostId")),
                 QStringLiteral("uCyKZYcyp+7qYdvAcvwQueBs6VdfDURJZTrhTjc3gTfsqaWjC2n532mPb0P+ZQ4Q"));
        QCOMPARE(describeError(*owned, 409),
                 QStringLiteral("S3 BucketAlreadyOwnedByYou: Your previous request to create the named bucket succeeded "
                                "and you already own it. (bucket garnaat-pdx)"));

        const auto noBucket = parseError(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>"
            "<BucketName>photos</BucketName><RequestId>R1</RequestId></Error>");
        QVERIFY2(noBucket.ok(), qPrintable(noBucket.error()));
        QCOMPARE(describeError(*noBucket, 404), QStringLiteral("S3 NoSuchBucket: The specified bucket does not exist (bucket photos)"));

        const auto noKey = parseError("<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"
                                      "<Key>2026/r\xC3\xA9sum\xC3\xA9.pdf</Key><BucketName>docs</BucketName></Error>");
        QVERIFY2(noKey.ok(), qPrintable(noKey.error()));
        QCOMPARE(noKey->key, QStringLiteral("2026/r\u00e9sum\u00e9.pdf"));
        QCOMPARE(describeError(*noKey, 404),
                 QStringLiteral("S3 NoSuchKey: The specified key does not exist. (bucket docs, key 2026/r\u00e9sum\u00e9.pdf)"));

        const auto resource = parseError("<Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
                                         "<Resource>/mybucket/myfoto.jpg</Resource></Error>");
        QCOMPARE(describeError(*resource, 403), QStringLiteral("S3 AccessDenied: Access Denied (resource /mybucket/myfoto.jpg)"));

        // boto/botocore tests/functional/test_s3.py: the bucket's region in an extra element.
        const auto region = parseError("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error>  <Code>AuthorizationHeaderMalformed</Code>"
                                       "  <Message>the region us-west-2 is wrong; expecting eu-central-1</Message>"
                                       "  <Region>eu-central-1</Region>  <RequestId>BD9AA1730D454E39</RequestId>  <HostId></HostId></Error>");
        QVERIFY2(region.ok(), qPrintable(region.error()));
        QCOMPARE(region->fields.value(QStringLiteral("Region")), QStringLiteral("eu-central-1"));
        QVERIFY(region->fields.contains(QStringLiteral("HostId")));
        QCOMPARE(region->requestId, QStringLiteral("BD9AA1730D454E39"));

        const auto noCode = parseError("<Error><Message>Service busy</Message></Error>");
        QCOMPARE(describeError(*noCode, 503), QStringLiteral("S3 error (HTTP 503): Service busy"));
        QCOMPARE(describeError(Error(), 0), QStringLiteral("S3 error"));
    }

    void errorNotS3()
    {
        QCOMPARE(parseError("<html><body><h1>502 Bad Gateway</h1></body></html>").error(),
                 QStringLiteral("<html> where <Error> was expected"));
        QCOMPARE(parseError("").error(), QStringLiteral("an empty answer"));
        QCOMPARE(parseError(" \r\n ").error(), QStringLiteral("an empty answer"));
        QCOMPARE(parseError("Bad Gateway").error().left(8), QStringLiteral("not XML:"));
        QCOMPARE(parseError(kListParts).error(), QStringLiteral("<ListPartsResult> where <Error> was expected"));
    }

    void clockSkew_data()
    {
        QTest::addColumn<QByteArray>("xml");
        QTest::addColumn<qint64>("skew");
        QTest::addColumn<QString>("message");
        // aws/aws-sdk-php#612 (S3, this computer an hour ahead).
        QTest::newRow("ahead") << QByteArray("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>RequestTimeTooSkewed</Code>"
                                             "<Message>The difference between the request time and the current time is too large.</Message>"
                                             "<RequestTime>20150604T232559Z</RequestTime><ServerTime>2015-06-04T22:26:16Z</ServerTime>"
                                             "<MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds><RequestId>9E09E2E8D09D863C</RequestId>"
                                             "<HostId>CQl85Ol1ejSfxwCFffw880W3OsDNI+FtTYPrQFjJVtM6vmd4pWJaOCuNEWtZPUfjhYRHByziBxg=</HostId></Error>")
                               << qint64(3583)
                               << QStringLiteral("S3 RequestTimeTooSkewed: this computer's clock is off by 3583 s (ahead of the server; at most 900 s allowed)");
        // ex-aws/ex_aws#159 (S3, behind).
        QTest::newRow("behind") << QByteArray("<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the current time is too large.</Message>"
                                              "<RequestTime>20160524T120229Z</RequestTime><ServerTime>2016-05-24T12:18:12Z</ServerTime>"
                                              "<MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds><RequestId>E0221C34074F9443</RequestId></Error>")
                                << qint64(-943)
                                << QStringLiteral("S3 RequestTimeTooSkewed: this computer's clock is off by 943 s (behind the server; at most 900 s allowed)");
        // aliyun/aliyun-oss-android-sdk#167: both times ISO 8601 with milliseconds.
        QTest::newRow("iso with ms") << QByteArray("<Error>\n  <Code>RequestTimeTooSkewed</Code>\n  <MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>\n"
                                                   "  <RequestTime>1970-01-01T12:52:35.000Z</RequestTime>\n  <ServerTime>2019-03-30T13:18:53.000Z</ServerTime>\n</Error>")
                                     << qint64(-1553905578)
                                     << QStringLiteral("S3 RequestTimeTooSkewed: this computer's clock is off by 1553905578 s (behind the server; at most 900 s allowed)");
        // A request signed with a Date header: S3 echoes it as an HTTP date.
        QTest::newRow("http date") << QByteArray("<Error><Code>RequestTimeTooSkewed</Code><RequestTime>Fri, 24 May 2013 00:20:00 GMT</RequestTime>"
                                                 "<ServerTime>2013-05-24T00:00:00Z</ServerTime></Error>")
                                   << qint64(1200) << QStringLiteral("S3 RequestTimeTooSkewed: this computer's clock is off by 1200 s (ahead of the server)");
        // markevans/dragonfly#132: no times in the answer.
        QTest::newRow("no times") << QByteArray("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>RequestTimeTooSkewed</Code>\n"
                                                "  <Message>The difference between the request time and the current time is too large.</Message> "
                                                "<MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds><RequestId>DF2C472E368B09C5</RequestId></Error>")
                                  << qint64(-1) << QStringLiteral("S3 RequestTimeTooSkewed: this computer's clock is off (at most 900 s allowed)");
        QTest::newRow("unreadable time") << QByteArray("<Error><Code>RequestTimeTooSkewed</Code><RequestTime>soon</RequestTime>"
                                                       "<ServerTime>2013-05-24T00:00:00</ServerTime></Error>")
                                         << qint64(-1) << QStringLiteral("S3 RequestTimeTooSkewed: this computer's clock is off");
    }
    void clockSkew()
    {
        QFETCH(QByteArray, xml);
        QFETCH(qint64, skew);
        QFETCH(QString, message);
        const Result<Error> e = parseError(xml);
        QVERIFY2(e.ok(), qPrintable(e.error()));
        QCOMPARE(e->code, QStringLiteral("RequestTimeTooSkewed"));
        const auto seconds = clockSkewSeconds(*e);
        QCOMPARE(seconds.has_value(), skew != -1);
        if (seconds)
            QCOMPARE(*seconds, skew);
        QCOMPARE(describeError(*e, 403), message);
    }

    // Server text reaches a person: only plain text, and not too much of it.
    void hostileErrorText()
    {
        const QString evil = QStringLiteral("Denied\u0007\u001b[31m\tnow\u202e\u200bgpj.exe\r\n\u0085end");
        Error e;
        e.code = QStringLiteral("Access\u0000Denied\u202e");
        e.message = evil;
        e.bucketName = QString(500, QLatin1Char('b'));
        const QString text = describeError(e, 403);
        QCOMPARE(text.left(40), QStringLiteral("S3 Access Denied: Denied [31m nowgpj.exe"));
        QVERIFY(text.contains(QStringLiteral(" end (bucket ")));
        QVERIFY(text.endsWith(QString(200, QLatin1Char('b')) + QStringLiteral("...)")));
        for (const QChar c : text)
            QVERIFY2(c.category() != QChar::Other_Control && c.category() != QChar::Other_Format, qPrintable(text));

        e = Error();
        e.code = QStringLiteral("SlowDown");
        e.message = QString(1000, QLatin1Char('m'));
        QCOMPARE(describeError(e, 503), QStringLiteral("S3 SlowDown: ") + QString(300, QLatin1Char('m')) + QStringLiteral("..."));

        // An Error with many unknown elements keeps the first 32, each cut.
        QByteArray xml = "<Error><Code>X</Code>";
        for (int i = 0; i < 100; ++i)
            xml += "<F" + QByteArray::number(i) + ">" + QByteArray(3000, 'v') + "</F" + QByteArray::number(i) + ">";
        const auto many = parseError(xml + "</Error>");
        QVERIFY2(many.ok(), qPrintable(many.error()));
        QCOMPARE(many->fields.size(), kMaxErrorFields);
        QCOMPARE(many->fields.value(QStringLiteral("F0")).size(), kMaxErrorFieldChars);
        QVERIFY(!many->fields.contains(QStringLiteral("F32")));
    }

    void malformed_data()
    {
        QTest::addColumn<QByteArray>("xml");
        QTest::addColumn<QString>("failure");
        QTest::newRow("truncated") << kListParts.left(kListParts.size() / 2) << QStringLiteral("truncated XML");
        QTest::newRow("mismatched tags") << QByteArray("<ListPartsResult><UploadId>u</Key></ListPartsResult>") << QStringLiteral("not XML:");
        QTest::newRow("garbage after the root") << QByteArray("<ListPartsResult></ListPartsResult><ListPartsResult>")
                                                << QStringLiteral("not XML:");
        QTest::newRow("undeclared entity") << QByteArray("<ListPartsResult><UploadId>&xxe;</UploadId></ListPartsResult>")
                                           << QStringLiteral("not XML:");
        QTest::newRow("external entity")
            << QByteArray("<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
                          "<ListPartsResult><UploadId>&xxe;</UploadId></ListPartsResult>")
            << QStringLiteral("a DOCTYPE in the answer (S3 sends none)");
        QByteArray laughs = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">";
        for (int i = 1; i <= 9; ++i)
            laughs += "<!ENTITY lol" + QByteArray::number(i) + " \"" + QByteArray("&lol") + (i > 1 ? QByteArray::number(i - 1) : QByteArray()) + ";"
                      + QByteArray("&lol") + (i > 1 ? QByteArray::number(i - 1) : QByteArray()) + ";\">";
        laughs += "]><ListPartsResult><UploadId>&lol9;</UploadId></ListPartsResult>";
        QTest::newRow("billion laughs") << laughs << QStringLiteral("a DOCTYPE in the answer (S3 sends none)");
        QTest::newRow("empty") << QByteArray() << QStringLiteral("an empty answer");
        QTest::newRow("text only") << QByteArray("OK") << QStringLiteral("not XML:");
        QTest::newRow("too large") << QByteArray(kMaxDocumentBytes + 1, ' ') << QStringLiteral("the answer is larger than 4 MiB");
        QTest::newRow("nul byte") << QByteArray("<ListPartsResult>\0</ListPartsResult>", 36) << QStringLiteral("not XML:");
    }
    void malformed()
    {
        QFETCH(QByteArray, xml);
        QFETCH(QString, failure);
        const auto parts = parseListParts(xml);
        QVERIFY(!parts.ok());
        QVERIFY(!parts.error);
        QVERIFY2(parts.failure.startsWith(failure), qPrintable(parts.failure));
        // The other parsers refuse it too.
        QVERIFY(!parseCompleteMultipartUpload(xml).ok());
        QVERIFY(!parseCompleteMultipartUpload(xml).error);
        QVERIFY(!parseError(xml).ok());
    }

    void escapedText()
    {
        const auto p = parseCompleteMultipartUpload(
            "<CompleteMultipartUploadResult><Key><![CDATA[a<b>&c]]> &lt;d&gt; &quot;e&apos; &#x1F600;</Key>"
            "<ETag>&#34;abc-2&#34;</ETag><!-- comment --><?pi x?></CompleteMultipartUploadResult>");
        QVERIFY2(p.ok(), qPrintable(p.failure));
        QCOMPARE(p.value->key, QStringLiteral("a<b>&c <d> \"e' \U0001F600"));
        QCOMPARE(p.value->etag, QStringLiteral("\"abc-2\""));

        // Unknown elements nested deep inside are skipped.
        QByteArray deep = "<ListPartsResult><Owner>";
        for (int i = 0; i < 2000; ++i)
            deep += "<x>";
        for (int i = 0; i < 2000; ++i)
            deep += "</x>";
        deep += "</Owner><UploadId>u</UploadId></ListPartsResult>";
        const auto d = parseListParts(deep);
        QVERIFY2(d.ok(), qPrintable(d.failure));
        QCOMPARE(d.value->uploadId, QStringLiteral("u"));
    }

    void completeBody()
    {
        // The S3 API reference's CompleteMultipartUpload sample request, given out of order.
        const Result<QByteArray> body = completeMultipartUploadBody({
            {3, QStringLiteral("\"acbd18db4cc2f85cedef654fccc4a4d8\""), {}},
            {1, QStringLiteral("\"a54357aff0632cce46d942af68356b38\""), {}},
            {2, QStringLiteral("\"0c78aef83f66abc1fa1e8477f296d394\""), {}},
        });
        QVERIFY2(body.ok(), qPrintable(body.error()));
        QCOMPARE(*body, QByteArray("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                                   "<Part><PartNumber>1</PartNumber><ETag>\"a54357aff0632cce46d942af68356b38\"</ETag></Part>"
                                   "<Part><PartNumber>2</PartNumber><ETag>\"0c78aef83f66abc1fa1e8477f296d394\"</ETag></Part>"
                                   "<Part><PartNumber>3</PartNumber><ETag>\"acbd18db4cc2f85cedef654fccc4a4d8\"</ETag></Part>"
                                   "</CompleteMultipartUpload>"));

        const Result<QByteArray> escaped = completeMultipartUploadBody(
            {{7, QStringLiteral("\"a&b<c>\u00e9\""), QStringLiteral("n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=")}});
        QVERIFY2(escaped.ok(), qPrintable(escaped.error()));
        QCOMPARE(*escaped, QByteArray("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                                      "<Part><PartNumber>7</PartNumber><ETag>\"a&amp;b&lt;c&gt;\xC3\xA9\"</ETag>"
                                      "<ChecksumSHA256>n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=</ChecksumSHA256></Part>"
                                      "</CompleteMultipartUpload>"));
        // An XML reader gets the values back.
        QXmlStreamReader r(*escaped);
        QStringList texts;
        while (!r.atEnd()) {
            if (r.readNext() == QXmlStreamReader::StartElement && r.name() != QLatin1String("CompleteMultipartUpload")
                && r.name() != QLatin1String("Part"))
                texts << r.readElementText();
        }
        QVERIFY2(!r.hasError(), qPrintable(r.errorString()));
        QCOMPARE(texts, QStringList({QStringLiteral("7"), QStringLiteral("\"a&b<c>\u00e9\""),
                                     QStringLiteral("n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=")}));
    }

    void completeBodyRefused_data()
    {
        QTest::addColumn<QList<CompletedPart>>("parts");
        QTest::addColumn<QString>("failure");
        const QString e = QStringLiteral("\"e\"");
        QTest::newRow("none") << QList<CompletedPart>() << QStringLiteral("CompleteMultipartUpload without parts");
        QTest::newRow("part 0") << QList<CompletedPart>{{0, e, {}}} << QStringLiteral("part number 0 is not in 1..10000");
        QTest::newRow("part 10001") << QList<CompletedPart>{{10001, e, {}}} << QStringLiteral("part number 10001 is not in 1..10000");
        QTest::newRow("twice") << QList<CompletedPart>{{2, e, {}}, {1, e, {}}, {2, e, {}}} << QStringLiteral("part 2 is listed twice");
        QTest::newRow("no etag") << QList<CompletedPart>{{1, QString(), {}}} << QStringLiteral("part 1 has no ETag");
        QTest::newRow("control in etag") << QList<CompletedPart>{{1, QStringLiteral("\"e\u0001\""), {}}}
                                         << QStringLiteral("part 1: a control character in its ETag or checksum");
        QTest::newRow("newline in checksum") << QList<CompletedPart>{{1, e, QStringLiteral("ab\ncd")}}
                                             << QStringLiteral("part 1: a control character in its ETag or checksum");
        QList<CompletedPart> tooMany;
        for (int i = 1; i <= 10001; ++i)
            tooMany.append({i, e, {}});
        QTest::newRow("10001 parts") << tooMany << QStringLiteral("CompleteMultipartUpload with more than 10000 parts");
    }
    void completeBodyRefused()
    {
        QFETCH(QList<CompletedPart>, parts);
        QFETCH(QString, failure);
        const Result<QByteArray> body = completeMultipartUploadBody(parts);
        QVERIFY(!body.ok());
        QCOMPARE(body.error(), failure);
    }

    void completeBodyTenThousandParts()
    {
        QList<CompletedPart> parts;
        for (int i = 10000; i >= 1; --i)
            parts.append({i, QStringLiteral("\"%1\"").arg(i), {}});
        const Result<QByteArray> body = completeMultipartUploadBody(parts);
        QVERIFY2(body.ok(), qPrintable(body.error()));
        QCOMPARE(body->count("<Part>"), qsizetype(10000));
        QVERIFY(body->startsWith("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                                 "<Part><PartNumber>1</PartNumber><ETag>\"1\"</ETag></Part>"));
        QVERIFY(body->endsWith("<Part><PartNumber>10000</PartNumber><ETag>\"10000\"</ETag></Part></CompleteMultipartUpload>"));
    }
};

QTEST_GUILESS_MAIN(TestS3Xml)
#include "tst_s3xml.moc"
