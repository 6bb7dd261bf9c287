// S3's XML answers (net/s3xml.h): every parser on every input (the root element decides which
// one reads it), the contracts the header promises, the message made of an <Error>, and the
// CompleteMultipartUpload body built from a parsed ListParts, read back.

#include "fuzzsupport.h"
#include "net/s3xml.h"

#include <QXmlStreamReader>

#include <algorithm>

namespace {

using namespace quire::net::s3;

template <typename T>
void checkParsed(const Parsed<T> &p)
{
    const int set = int(p.value.has_value()) + int(p.error.has_value()) + int(!p.failure.isEmpty());
    FUZZ_CHECK(set == 1, QStringLiteral("%1 of value, error and failure set (failure: %2)").arg(set).arg(p.failure));
}

void checkError(const Error &e)
{
    FUZZ_CHECK(e.fields.size() <= kMaxErrorFields, QString::number(e.fields.size()));
    for (const QString &v : e.fields)
        FUZZ_CHECK(v.size() <= kMaxErrorFieldChars, QString::number(v.size()));
    for (int status : {0, 200, 403, 503}) {
        const QString text = describeError(e, status);
        FUZZ_CHECK(text.startsWith(QLatin1String("S3 ")), text);
        // One line of plain text, of a bounded length.
        FUZZ_CHECK(std::none_of(text.begin(), text.end(), [](QChar c) { return c.category() == QChar::Other_Control; }),
                   text);
        FUZZ_CHECK(text.size() < 1200, QString::number(text.size()));
    }
    (void)clockSkewSeconds(e);
}

// The parts S3 listed, sent back in a CompleteMultipartUpload body: what is read back is what
// was given, in part number order.
void checkCompleteBody(const ListPartsResult &list)
{
    QList<CompletedPart> parts;
    for (const Part &p : list.parts)
        parts.append({p.partNumber, p.etag, p.checksumSha256});
    const auto body = completeMultipartUploadBody(parts);
    if (!body)
        return;
    std::stable_sort(parts.begin(), parts.end(),
                     [](const CompletedPart &a, const CompletedPart &b) { return a.partNumber < b.partNumber; });
    QXmlStreamReader r(*body);
    FUZZ_CHECK(r.readNextStartElement() && r.name() == QLatin1String("CompleteMultipartUpload"),
               QString::fromUtf8(*body));
    qsizetype i = 0;
    while (r.readNextStartElement()) {
        FUZZ_CHECK(r.name() == QLatin1String("Part") && i < parts.size(), QString::fromUtf8(*body));
        CompletedPart read;
        while (r.readNextStartElement()) {
            const QString text = r.readElementText();
            if (r.name() == QLatin1String("PartNumber"))
                read.partNumber = text.toInt();
            else if (r.name() == QLatin1String("ETag"))
                read.etag = text;
            else if (r.name() == QLatin1String("ChecksumSHA256"))
                read.checksumSha256 = text;
        }
        const CompletedPart &given = parts.at(i++);
        FUZZ_CHECK(read.partNumber == given.partNumber && read.etag == given.etag
                       && read.checksumSha256 == given.checksumSha256,
                   QStringLiteral("part %1: %2 read back as %3").arg(given.partNumber).arg(given.etag, read.etag));
    }
    FUZZ_CHECK(!r.hasError() && i == parts.size(), r.errorString());
}

} // namespace

QUIRE_FUZZ_TARGET(s3xml)(const uint8_t *data, size_t size)
{
    quire::fuzz::init();
    const QByteArray body = quire::fuzz::bytes(data, size);

    if (const auto e = parseError(body))
        checkError(*e);

    const auto initiate = parseInitiateMultipartUpload(body);
    checkParsed(initiate);
    if (initiate.value)
        FUZZ_CHECK(!initiate.value->uploadId.isEmpty(), QString());

    const auto parts = parseListParts(body);
    checkParsed(parts);
    if (parts.error)
        checkError(*parts.error);
    if (parts.value) {
        const ListPartsResult &v = *parts.value;
        FUZZ_CHECK(v.parts.size() <= kMaxListEntries, QString::number(v.parts.size()));
        for (const Part &p : v.parts) {
            FUZZ_CHECK(p.partNumber >= 1 && p.partNumber <= 10000, QString::number(p.partNumber));
            FUZZ_CHECK(!p.etag.isEmpty() && p.size >= 0, p.etag);
        }
        FUZZ_CHECK(!v.isTruncated || v.nextPartNumberMarker > 0, QString::number(v.nextPartNumberMarker));
        checkCompleteBody(v);
    }

    const auto uploads = parseListMultipartUploads(body);
    checkParsed(uploads);
    if (uploads.value) {
        const ListMultipartUploadsResult &v = *uploads.value;
        FUZZ_CHECK(v.uploads.size() <= kMaxListEntries, QString::number(v.uploads.size()));
        for (const MultipartUpload &u : v.uploads)
            FUZZ_CHECK(!u.key.isEmpty() && !u.uploadId.isEmpty(), u.key);
        FUZZ_CHECK(!v.isTruncated || !v.nextKeyMarker.isEmpty(), QString());
    }

    checkParsed(parseCompleteMultipartUpload(body));
    return 0;
}
