#include "net/s3xml.h"

#include <QCoreApplication>
#include <QRegularExpression>
#include <QStringList>
#include <QTimeZone>
#include <QXmlStreamReader>

#include <algorithm>
#include <memory>

namespace quire::net::s3 {

namespace {

// The translation context of the messages below (the S3 answers' reader is no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::S3Xml)
};

constexpr char kS3Namespace[] = "http://s3.amazonaws.com/doc/2006-03-01/";

// --- reading ---------------------------------------------------------------------------------

// An XML document opened at its root element.
struct Document
{
    std::unique_ptr<QXmlStreamReader> reader;
    QString root;        // local name of the root element
    QString failure;     // set when there is no usable root
};

QString readerProblem(const QXmlStreamReader &r)
{
    if (r.error() == QXmlStreamReader::PrematureEndOfDocumentError)
        return Tr::tr("truncated XML");
    return Tr::tr("not XML: %1 (line %2)").arg(r.errorString()).arg(r.lineNumber());
}

Document open(QByteArrayView body)
{
    Document d;
    if (body.size() > kMaxDocumentBytes) {
        d.failure = Tr::tr("the answer is larger than %1 MiB").arg(kMaxDocumentBytes / (1024 * 1024));
        return d;
    }
    // S3 may send white space (keep-alive) before the document; an XML declaration must come first.
    qsizetype start = 0;
    while (start < body.size() && QByteArrayView(" \t\r\n").contains(body.at(start)))
        ++start;
    if (start == body.size()) {
        d.failure = Tr::tr("an empty answer");
        return d;
    }
    d.reader = std::make_unique<QXmlStreamReader>(body.sliced(start).toByteArray());
    QXmlStreamReader &r = *d.reader;
    while (!r.atEnd()) {
        switch (r.readNext()) {
        case QXmlStreamReader::DTD:
            d.failure = Tr::tr("a DOCTYPE in the answer (S3 sends none)");
            return d;
        case QXmlStreamReader::StartElement:
            d.root = r.name().toString();
            return d;
        default:
            break;
        }
    }
    // A body that never reaches an element ("OK", "Bad Gateway") is not XML rather than truncated XML.
    d.failure = r.hasError() ? Tr::tr("not XML: %1 (line %2)").arg(r.errorString()).arg(r.lineNumber())
                             : Tr::tr("no XML element in the answer");
    return d;
}

// After the root element: the rest of the document must be well-formed too.
QString finish(QXmlStreamReader &r)
{
    if (r.hasError())
        return readerProblem(r);
    while (!r.atEnd())
        r.readNext();
    if (r.hasError())
        return readerProblem(r);
    return {};
}

// The text of the current element (child elements skipped); leaves the reader at its end.
QString text(QXmlStreamReader &r)
{
    return r.readElementText(QXmlStreamReader::SkipChildElements);
}

// A child element read as text into a QString member, trimmed or as sent.
enum class Trim { No, Yes };
template <typename T>
struct TextField
{
    const char *name;
    QString T::*member;
    Trim trim;
};

// Reads the element `name` the reader is at into value when fields lists it; false otherwise.
template <typename T, std::size_t N>
bool readTextField(QXmlStreamReader &r, QStringView name, T &value, const TextField<T> (&fields)[N])
{
    for (const TextField<T> &f : fields) {
        if (name == QLatin1String(f.name)) {
            const QString t = text(r);
            value.*f.member = f.trim == Trim::Yes ? t.trimmed() : t;
            return true;
        }
    }
    return false;
}

std::optional<qint64> toInteger(const QString &s)
{
    bool ok = false;
    const qint64 v = s.trimmed().toLongLong(&ok);
    return ok ? std::optional<qint64>(v) : std::nullopt;
}

std::optional<bool> toBool(const QString &s)
{
    const QString t = s.trimmed();
    if (t.compare(QLatin1String("true"), Qt::CaseInsensitive) == 0)
        return true;
    if (t.compare(QLatin1String("false"), Qt::CaseInsensitive) == 0)
        return false;
    return std::nullopt;
}

constexpr TextField<Error> kErrorTexts[] = {
    {"Code", &Error::code, Trim::Yes},
    {"Message", &Error::message, Trim::No},
    {"RequestId", &Error::requestId, Trim::Yes},
    {"Resource", &Error::resource, Trim::No},
    {"BucketName", &Error::bucketName, Trim::No},
    {"Key", &Error::key, Trim::No},
    {"RequestTime", &Error::requestTime, Trim::Yes},
    {"ServerTime", &Error::serverTime, Trim::Yes},
};

// Reads the children of the <Error> element the reader is at.
Error readError(QXmlStreamReader &r)
{
    Error e;
    while (r.readNextStartElement()) {
        const QString name = r.name().toString();
        if (readTextField(r, name, e, kErrorTexts))
            continue;
        if (name == QLatin1String("MaxAllowedSkewMilliseconds")) {
            e.maxAllowedSkewMs = toInteger(text(r)).value_or(-1);
        } else if (e.fields.size() < kMaxErrorFields && !e.fields.contains(name)) {
            e.fields.insert(name, text(r).left(kMaxErrorFieldChars));
        } else {
            r.skipCurrentElement();
        }
    }
    return e;
}

// Reads an answer whose root element is expectedRoot, or an <Error> document instead (then
// Parsed::error). read(reader, value, problem) reads the root's children into value and says in
// problem what is wrong with them; the rest of the document must be well-formed too.
template <typename T, typename Read>
Parsed<T> parse(QByteArrayView body, const QString &expectedRoot, Read read)
{
    Parsed<T> out;
    Document d = open(body);
    if (!d.failure.isEmpty()) {
        out.failure = d.failure;
        return out;
    }
    QXmlStreamReader &r = *d.reader;
    if (d.root == QLatin1String("Error")) {
        Error e = readError(r);
        if (const QString problem = finish(r); !problem.isEmpty())
            out.failure = problem;
        else
            out.error = std::move(e);
        return out;
    }
    // moto (and some other S3 emulators) name the root <...Response> instead of <...Result>,
    // with the same children.
    const bool responseRoot = expectedRoot.endsWith(QLatin1String("Result"))
                              && d.root == expectedRoot.chopped(6) + QLatin1String("Response");
    if (d.root != expectedRoot && !responseRoot) {
        out.failure = Tr::tr("<%1> where <%2> was expected").arg(d.root.left(64), expectedRoot);
        return out;
    }
    T value;
    QString problem;
    read(r, value, problem);
    if (problem.isEmpty())
        problem = finish(r);
    if (!problem.isEmpty())
        out.failure = problem;
    else
        out.value = std::move(value);
    return out;
}

// Reads the children of the element the reader is at while problem is empty: field(name) reads
// those it knows and returns false for the others, which are skipped.
template <typename Field>
void readChildren(QXmlStreamReader &r, const QString &problem, Field field)
{
    while (problem.isEmpty() && r.readNextStartElement()) {
        if (!field(r.name()))
            r.skipCurrentElement();
    }
}

// <IsTruncated> of a list answer.
void readTruncated(QXmlStreamReader &r, bool &isTruncated, QString &problem)
{
    const auto b = toBool(text(r));
    if (!b)
        problem = Tr::tr("IsTruncated is neither true nor false");
    else
        isTruncated = *b;
}

// `message`: marked with QT_TRANSLATE_N_NOOP where it is written, "more than %n ... in one answer".
QString tooMany(const char *message)
{
    return Tr::tr(message, nullptr, kMaxListEntries);
}

// --- dates and text for people ---------------------------------------------------------------

// "20150604T232559Z", "2015-06-04T22:26:16Z", "2019-03-30T13:18:53.000Z" or an HTTP date
// ("Thu, 04 Jun 2015 23:25:59 GMT"); invalid when it is none of those.
QDateTime parseTime(const QString &s)
{
    const QString t = s.trimmed();
    // Built per call (error paths only): nothing shared between threads.
    const QRegularExpression kBasic(QStringLiteral("^(\\d{4})(\\d{2})(\\d{2})T(\\d{2})(\\d{2})(\\d{2})Z$"));
    const QRegularExpression kHttp(
        QStringLiteral("^[A-Za-z]{3}, (\\d{1,2}) ([A-Za-z]{3}) (\\d{4}) (\\d{2}):(\\d{2}):(\\d{2}) GMT$"));
    const QStringList kMonths = {QStringLiteral("jan"), QStringLiteral("feb"), QStringLiteral("mar"),
                                        QStringLiteral("apr"), QStringLiteral("may"), QStringLiteral("jun"),
                                        QStringLiteral("jul"), QStringLiteral("aug"), QStringLiteral("sep"),
                                        QStringLiteral("oct"), QStringLiteral("nov"), QStringLiteral("dec")};
    const auto utc = [](int y, int mo, int d, int h, int mi, int sec) {
        const QDate date(y, mo, d);
        const QTime time(h, mi, sec);
        return date.isValid() && time.isValid() ? QDateTime(date, time, QTimeZone::utc()) : QDateTime();
    };
    if (const auto m = kBasic.match(t); m.hasMatch())
        return utc(m.captured(1).toInt(), m.captured(2).toInt(), m.captured(3).toInt(), m.captured(4).toInt(),
                   m.captured(5).toInt(), m.captured(6).toInt());
    if (const auto m = kHttp.match(t); m.hasMatch()) {
        const int month = int(kMonths.indexOf(m.captured(2).toLower())) + 1;
        return utc(m.captured(3).toInt(), month, m.captured(1).toInt(), m.captured(4).toInt(),
                   m.captured(5).toInt(), m.captured(6).toInt());
    }
    // ISO 8601 extended; only with a zone ('Z' or an offset): a local time would be a guess.
    if (t.size() < 20 || !(t.endsWith(QLatin1Char('Z')) || t.at(t.size() - 6) == QLatin1Char('+')
                           || t.at(t.size() - 6) == QLatin1Char('-')))
        return {};
    const QDateTime dt = QDateTime::fromString(t, Qt::ISODateWithMs);
    return dt.isValid() ? dt.toUTC() : QDateTime();
}

bool isFormatting(char32_t c)
{
    const auto cat = QChar::category(c);
    return cat == QChar::Other_Format || cat == QChar::Other_NotAssigned || cat == QChar::Other_PrivateUse
           || cat == QChar::Other_Surrogate;
}

// Plain text from the server: control characters and white space runs become one space,
// formatting characters (bidi overrides, zero-width characters), unassigned and private-use code
// points and unpaired surrogates are dropped; cut at maxChars with "...".
QString plain(const QString &s, int maxChars)
{
    QString out;
    out.reserve(std::min<qsizetype>(s.size(), maxChars) + 4);
    bool space = false;
    bool cut = false;
    for (qsizetype i = 0; i < s.size(); ++i) {
        const QChar c = s.at(i);
        if (c.category() == QChar::Other_Control || c.isSpace()) {
            space = !out.isEmpty();
            continue;
        }
        QString piece(c);
        if (c.isHighSurrogate() && i + 1 < s.size() && s.at(i + 1).isLowSurrogate()) {
            piece.append(s.at(i + 1));
            ++i;
            if (isFormatting(QChar::surrogateToUcs4(piece.at(0), piece.at(1))))
                continue;
        } else if (isFormatting(c.unicode())) {
            continue;
        }
        if (out.size() + (space ? 1 : 0) + piece.size() > maxChars) {
            cut = true;
            break;
        }
        if (space)
            out.append(QLatin1Char(' '));
        space = false;
        out.append(piece);
    }
    if (cut)
        out.append(QStringLiteral("..."));
    return out;
}

// --- writing ---------------------------------------------------------------------------------

bool isXmlChar(char32_t c)
{
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD)
           || (c >= 0x10000 && c <= 0x10FFFF);
}

// XML text content, or nullopt when s holds a character XML 1.0 cannot carry.
std::optional<QByteArray> xmlText(const QString &s)
{
    QByteArray out;
    out.reserve(s.size() + 16);
    for (qsizetype i = 0; i < s.size(); ++i) {
        char32_t c = s.at(i).unicode();
        if (QChar::isHighSurrogate(c) && i + 1 < s.size() && s.at(i + 1).isLowSurrogate()) {
            c = QChar::surrogateToUcs4(s.at(i), s.at(i + 1));
            ++i;
        } else if (QChar::isSurrogate(c)) {
            return std::nullopt;
        }
        if (!isXmlChar(c) || QChar::category(c) == QChar::Other_Control)
            return std::nullopt;
        switch (c) {
        case '&': out.append("&amp;"); break;
        case '<': out.append("&lt;"); break;
        case '>': out.append("&gt;"); break;
        default: out.append(QString::fromUcs4(&c, 1).toUtf8()); break;
        }
    }
    return out;
}

} // namespace

Result<Error> parseError(QByteArrayView body)
{
    Document d = open(body);
    if (!d.failure.isEmpty())
        return Result<Error>::failure(d.failure);
    if (d.root != QLatin1String("Error"))
        return Result<Error>::failure(Tr::tr("<%1> where <Error> was expected").arg(d.root.left(64)));
    Error e = readError(*d.reader);
    if (const QString problem = finish(*d.reader); !problem.isEmpty())
        return Result<Error>::failure(problem);
    return e;
}

namespace {

constexpr TextField<Part> kPartTexts[] = {
    {"ETag", &Part::etag, Trim::Yes},
    {"ChecksumSHA256", &Part::checksumSha256, Trim::Yes},
};

// One <Part> of a ListPartsResult.
Part readPart(QXmlStreamReader &r, QString &problem)
{
    Part p;
    bool sawNumber = false;
    bool sawSize = false;
    readChildren(r, problem, [&](QStringView field) {
        if (field == QLatin1String("PartNumber")) {
            const auto n = toInteger(text(r));
            if (!n || *n < 1 || *n > 10000)
                problem = Tr::tr("a Part whose PartNumber is not in 1..10000");
            else
                p.partNumber = int(*n);
            sawNumber = true;
        } else if (field == QLatin1String("Size")) {
            const auto n = toInteger(text(r));
            if (!n || *n < 0)
                problem = Tr::tr("a Part whose Size is not a number >= 0");
            else
                p.size = *n;
            sawSize = true;
        } else {
            return readTextField(r, field, p, kPartTexts);
        }
        return true;
    });
    if (problem.isEmpty() && !r.hasError() && (!sawNumber || !sawSize || p.etag.isEmpty()))
        problem = Tr::tr("a Part without PartNumber, ETag or Size");
    return p;
}

constexpr TextField<MultipartUpload> kUploadTexts[] = {
    {"Key", &MultipartUpload::key, Trim::No},
    {"UploadId", &MultipartUpload::uploadId, Trim::Yes},
};

// One <Upload> of a ListMultipartUploadsResult.
MultipartUpload readUpload(QXmlStreamReader &r, QString &problem)
{
    MultipartUpload u;
    readChildren(r, problem, [&](QStringView field) {
        if (field == QLatin1String("Initiated")) {
            u.initiated = parseTime(text(r));
            return true;
        }
        return readTextField(r, field, u, kUploadTexts);
    });
    if (!r.hasError() && (u.key.isEmpty() || u.uploadId.isEmpty()))
        problem = Tr::tr("an Upload without Key or UploadId");
    return u;
}

// One entry of a list answer (read(reader, problem)), unless the list is full (then `full`, see
// tooMany()).
template <typename Entry>
void readEntry(QXmlStreamReader &r, QList<Entry> &list, const char *full, QString &problem,
               Entry (*read)(QXmlStreamReader &, QString &))
{
    if (list.size() >= kMaxListEntries)
        problem = tooMany(full);
    else
        list.append(read(r, problem));
}

constexpr TextField<InitiateMultipartUploadResult> kInitiateTexts[] = {
    {"Bucket", &InitiateMultipartUploadResult::bucket, Trim::No},
    {"Key", &InitiateMultipartUploadResult::key, Trim::No},
    {"UploadId", &InitiateMultipartUploadResult::uploadId, Trim::Yes},
};

constexpr TextField<ListMultipartUploadsResult> kListUploadsTexts[] = {
    {"NextKeyMarker", &ListMultipartUploadsResult::nextKeyMarker, Trim::No},
    {"NextUploadIdMarker", &ListMultipartUploadsResult::nextUploadIdMarker, Trim::Yes},
};

constexpr TextField<CompleteMultipartUploadResult> kCompleteTexts[] = {
    {"Location", &CompleteMultipartUploadResult::location, Trim::Yes},
    {"Bucket", &CompleteMultipartUploadResult::bucket, Trim::No},
    {"Key", &CompleteMultipartUploadResult::key, Trim::No},
    {"ETag", &CompleteMultipartUploadResult::etag, Trim::Yes},
};

} // namespace

Parsed<InitiateMultipartUploadResult> parseInitiateMultipartUpload(QByteArrayView body)
{
    using V = InitiateMultipartUploadResult;
    return parse<V>(body, QStringLiteral("InitiateMultipartUploadResult"), [](QXmlStreamReader &r, V &v, QString &problem) {
        readChildren(r, problem, [&](QStringView name) { return readTextField(r, name, v, kInitiateTexts); });
        if (!r.hasError() && v.uploadId.isEmpty())
            problem = Tr::tr("no UploadId in InitiateMultipartUploadResult");
    });
}

Parsed<ListPartsResult> parseListParts(QByteArrayView body)
{
    using V = ListPartsResult;
    return parse<V>(body, QStringLiteral("ListPartsResult"), [](QXmlStreamReader &r, V &v, QString &problem) {
        bool sawNextMarker = false;
        readChildren(r, problem, [&](QStringView name) {
            if (name == QLatin1String("Part")) {
                readEntry(r, v.parts, QT_TRANSLATE_N_NOOP("quire::S3Xml", "more than %n parts in one answer"), problem, readPart);
            } else if (name == QLatin1String("IsTruncated")) {
                readTruncated(r, v.isTruncated, problem);
            } else if (name == QLatin1String("NextPartNumberMarker")) {
                const QString t = text(r).trimmed();
                const auto n = toInteger(t);
                if (!t.isEmpty() && (!n || *n < 0 || *n > 10000))
                    problem = Tr::tr("NextPartNumberMarker is not a part number");
                else
                    v.nextPartNumberMarker = int(n.value_or(0));
                sawNextMarker = true;
            } else if (name == QLatin1String("UploadId")) {
                v.uploadId = text(r).trimmed();
            } else {
                return false;
            }
            return true;
        });
        if (problem.isEmpty() && !r.hasError() && v.isTruncated && (!sawNextMarker || v.nextPartNumberMarker <= 0))
            problem = Tr::tr("a truncated ListPartsResult without NextPartNumberMarker");
    });
}

Parsed<ListMultipartUploadsResult> parseListMultipartUploads(QByteArrayView body)
{
    using V = ListMultipartUploadsResult;
    return parse<V>(body, QStringLiteral("ListMultipartUploadsResult"), [](QXmlStreamReader &r, V &v, QString &problem) {
        readChildren(r, problem, [&](QStringView name) {
            if (name == QLatin1String("Upload")) {
                readEntry(r, v.uploads, QT_TRANSLATE_N_NOOP("quire::S3Xml", "more than %n uploads in one answer"), problem,
                          readUpload);
            } else if (name == QLatin1String("IsTruncated")) {
                readTruncated(r, v.isTruncated, problem);
            } else {
                return readTextField(r, name, v, kListUploadsTexts);
            }
            return true;
        });
        if (problem.isEmpty() && !r.hasError() && v.isTruncated && v.nextKeyMarker.isEmpty())
            problem = Tr::tr("a truncated ListMultipartUploadsResult without NextKeyMarker");
    });
}

Parsed<CompleteMultipartUploadResult> parseCompleteMultipartUpload(QByteArrayView body)
{
    using V = CompleteMultipartUploadResult;
    return parse<V>(body, QStringLiteral("CompleteMultipartUploadResult"), [](QXmlStreamReader &r, V &v, QString &problem) {
        readChildren(r, problem, [&](QStringView name) { return readTextField(r, name, v, kCompleteTexts); });
    });
}

Result<QByteArray> completeMultipartUploadBody(const QList<CompletedPart> &parts)
{
    using R = Result<QByteArray>;
    if (parts.isEmpty())
        return R::failure(Tr::tr("CompleteMultipartUpload without parts"));
    if (parts.size() > kMaxListEntries)
        return R::failure(Tr::tr("CompleteMultipartUpload with more than %n parts", nullptr, kMaxListEntries));
    QList<const CompletedPart *> sorted;
    sorted.reserve(parts.size());
    for (const CompletedPart &p : parts)
        sorted.append(&p);
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const CompletedPart *a, const CompletedPart *b) { return a->partNumber < b->partNumber; });

    QByteArray body = QByteArrayLiteral("<CompleteMultipartUpload xmlns=\"") + kS3Namespace + "\">";
    int previous = 0;
    for (const CompletedPart *p : sorted) {
        if (p->partNumber < 1 || p->partNumber > 10000)
            return R::failure(Tr::tr("part number %1 is not in 1..10000").arg(p->partNumber));
        if (p->partNumber == previous)
            return R::failure(Tr::tr("part %1 is listed twice").arg(p->partNumber));
        previous = p->partNumber;
        const auto etag = xmlText(p->etag);
        const auto checksum = xmlText(p->checksumSha256);
        if (p->etag.isEmpty())
            return R::failure(Tr::tr("part %1 has no ETag").arg(p->partNumber));
        if (!etag || !checksum)
            return R::failure(Tr::tr("part %1: a control character in its ETag or checksum").arg(p->partNumber));
        body.append("<Part><PartNumber>").append(QByteArray::number(p->partNumber)).append("</PartNumber>");
        body.append("<ETag>").append(*etag).append("</ETag>");
        if (!checksum->isEmpty())
            body.append("<ChecksumSHA256>").append(*checksum).append("</ChecksumSHA256>");
        body.append("</Part>");
    }
    body.append("</CompleteMultipartUpload>");
    return body;
}

std::optional<qint64> clockSkewSeconds(const Error &error)
{
    const QDateTime request = parseTime(error.requestTime);
    const QDateTime server = parseTime(error.serverTime);
    if (!request.isValid() || !server.isValid())
        return std::nullopt;
    return server.secsTo(request);
}

QString describeError(const Error &error, int httpStatus)
{
    const QString code = plain(error.code, 64);
    QString text = code.isEmpty()
                       ? (httpStatus > 0 ? Tr::tr("S3 error (HTTP %1)").arg(httpStatus) : Tr::tr("S3 error"))
                       : QStringLiteral("S3 ") + code;

    if (code == QLatin1String("RequestTimeTooSkewed")) {
        QStringList notes;
        if (const auto skew = clockSkewSeconds(error)) {
            text = Tr::tr("%1: this computer's clock is off by %2 s").arg(text, QString::number(qAbs(*skew)));
            if (*skew != 0)
                notes << (*skew > 0 ? Tr::tr("ahead of the server") : Tr::tr("behind the server"));
        } else {
            text = Tr::tr("%1: this computer's clock is off").arg(text);
        }
        if (error.maxAllowedSkewMs >= 0)
            notes << Tr::tr("at most %1 s allowed").arg(error.maxAllowedSkewMs / 1000);
        if (!notes.isEmpty())
            text += QStringLiteral(" (") + notes.join(QStringLiteral("; ")) + QLatin1Char(')');
        return text;
    }

    if (const QString message = plain(error.message, 300); !message.isEmpty())
        text += QStringLiteral(": ") + message;
    QStringList where;
    if (const QString bucket = plain(error.bucketName, 200); !bucket.isEmpty())
        where << Tr::tr("bucket %1").arg(bucket);
    if (const QString key = plain(error.key, 200); !key.isEmpty())
        where << Tr::tr("key %1").arg(key);
    if (where.isEmpty()) {
        if (const QString resource = plain(error.resource, 200); !resource.isEmpty())
            where << Tr::tr("resource %1").arg(resource);
    }
    if (!where.isEmpty())
        text += QStringLiteral(" (") + where.join(QStringLiteral(", ")) + QLatin1Char(')');
    return text;
}

} // namespace quire::net::s3
