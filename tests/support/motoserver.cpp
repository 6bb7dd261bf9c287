#include "motoserver.h"

#include "hashing/hasher.h"
#include "net/s3xml.h"
#include "net/sigv4.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QUrlQuery>

namespace quire::test {

namespace {

namespace aws = net::aws;

// On the PATH, or where `pip install --user` puts it (scripts/install-deps --test).
QString motoProgram()
{
    const QString onPath = QStandardPaths::findExecutable(QStringLiteral("moto_server"));
    if (!onPath.isEmpty())
        return onPath;
    return QStandardPaths::findExecutable(QStringLiteral("moto_server"), {QDir::homePath() + QStringLiteral("/.local/bin")});
}

QByteArray formEncode(const QList<std::pair<QByteArray, QByteArray>> &fields)
{
    QByteArray out;
    for (const auto &[k, v] : fields) {
        if (!out.isEmpty())
            out += '&';
        out += k.toPercentEncoding() + '=' + v.toPercentEncoding();
    }
    return out;
}

QByteArray xmlValue(const QByteArray &xml, const QByteArray &element)
{
    const QRegularExpression re(QStringLiteral("<%1>([^<]*)</%1>").arg(QString::fromLatin1(element)));
    return re.match(QString::fromUtf8(xml)).captured(1).toUtf8();
}

} // namespace

QByteArray MotoServer::Reply::header(const QByteArray &name) const
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

MotoServer::MotoServer() = default;

MotoServer::~MotoServer()
{
    if (m_process && m_process->state() != QProcess::NotRunning) {
        m_process->terminate();
        if (!m_process->waitForFinished(5000)) {
            m_process->kill();
            m_process->waitForFinished(5000);
        }
    }
}

bool MotoServer::available()
{
    return !motoProgram().isEmpty();
}

QString MotoServer::missingMessage()
{
    return QStringLiteral("moto_server (Python's moto with its server extra) is not installed; "
                          "scripts/install-deps --test installs it with pip where it can reach PyPI");
}

QString MotoServer::endpoint() const
{
    return QStringLiteral("http://127.0.0.1:%1").arg(m_port);
}

MotoServer::Reply MotoServer::raw(const QByteArray &request)
{
    Reply reply;
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, quint16(m_port));
    if (!socket.waitForConnected(5000)) {
        reply.body = socket.errorString().toUtf8();
        return reply;
    }
    socket.write(request);
    QByteArray data;
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < 60'000) {
        if (!socket.waitForReadyRead(1000) && socket.state() != QAbstractSocket::ConnectedState)
            break;
        data += socket.readAll();
    }
    data += socket.readAll();
    const qsizetype end = data.indexOf("\r\n\r\n");
    if (end < 0) {
        reply.body = "no HTTP answer: " + data.left(200);
        return reply;
    }
    const QList<QByteArray> lines = data.left(end).split('\n');
    reply.status = lines.value(0).split(' ').value(1).toInt();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray l = lines.at(i).trimmed();
        const qsizetype colon = l.indexOf(':');
        if (colon > 0)
            reply.headers.append({l.left(colon).trimmed(), l.mid(colon + 1).trimmed()});
    }
    reply.body = data.mid(end + 4);
    if (reply.header("Transfer-Encoding").toLower() == "chunked") {
        QByteArray decoded;
        qsizetype at = 0;
        for (;;) {
            const qsizetype eol = reply.body.indexOf("\r\n", at);
            bool ok = false;
            const qsizetype n = reply.body.mid(at, eol - at).split(';').value(0).trimmed().toLongLong(&ok, 16);
            if (eol < 0 || !ok || n <= 0)
                break;
            decoded += reply.body.mid(eol + 2, n);
            at = eol + 2 + n + 2;
        }
        reply.body = decoded;
    }
    return reply;
}

bool MotoServer::start(Auth auth)
{
    if (!available()) {
        m_error = missingMessage();
        return false;
    }
    if (!makeFolder(QDir::tempPath() + QLatin1StringView("/quire-moto-XXXXXX")))
        return false;
    m_log = m_dir->filePath(QStringLiteral("moto.log"));
    for (int attempt = 0; attempt < 3; ++attempt) {
        m_port = freeLoopbackPort();
        m_process = std::make_unique<QProcess>();
        m_process->setProcessChannelMode(QProcess::MergedChannels);
        m_process->setStandardOutputFile(m_log, QIODevice::Append);
        m_process->start(motoProgram(),
                         {QStringLiteral("-H"), QStringLiteral("127.0.0.1"), QStringLiteral("-p"), QString::number(m_port)});
        if (!m_process->waitForStarted(10'000)) {
            m_error = QStringLiteral("moto_server did not start: %1").arg(m_process->errorString());
            return false;
        }
        // Polls moto's own API until it answers, for at most 60 s.
        const QDeadlineTimer deadline(60'000);
        bool up = false;
        while (!deadline.hasExpired() && m_process->state() == QProcess::Running) {
            const Reply r = raw("GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            if (r.status > 0) {
                up = true;
                break;
            }
            m_process->waitForFinished(100);   // 100 ms before the next try, cut short if moto ends
        }
        if (up)
            break;
        m_process->kill();
        m_process->waitForFinished(5000);
        if (attempt == 2) {
            QFile log(m_log);
            log.open(QIODevice::ReadOnly);
            m_error = QStringLiteral("moto_server did not answer on port %1: %2").arg(m_port).arg(QString::fromUtf8(log.readAll().right(500)));
            return false;
        }
    }
    startCrashWatcher(QStringLiteral("kill -9 %1").arg(m_process->processId()), "MotoServer");

    if (auth == Auth::Off) {
        m_accessKey = "AKIAQUIREOPEN";
        m_secretKey = "any-secret";
        return true;
    }
    // An IAM user with a key and a policy that allows everything (moto checks policies once
    // authentication is on). moto routes a request by the service its Authorization header names
    // (not checked before authentication is switched on).
    auto iam = [&](const QList<std::pair<QByteArray, QByteArray>> &fields) {
        const QByteArray body = formEncode(fields + QList<std::pair<QByteArray, QByteArray>>{{"Version", "2010-05-08"}});
        return raw("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                   "Authorization: AWS4-HMAC-SHA256 Credential=AKIAQUIRE/20260101/us-east-1/iam/aws4_request, "
                   "SignedHeaders=host, Signature=0\r\n"
                   "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "
                   + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    };
    Reply r = iam({{"Action", "CreateUser"}, {"UserName", "quire"}});
    if (r.status != 200 || !r.body.contains("CreateUserResponse")) {
        m_error = QStringLiteral("moto: CreateUser answered %1: %2").arg(r.status).arg(QString::fromUtf8(r.body.left(300)));
        return false;
    }
    r = iam({{"Action", "PutUserPolicy"}, {"UserName", "quire"}, {"PolicyName", "everything"},
             {"PolicyDocument", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})"}});
    if (r.status != 200) {
        m_error = QStringLiteral("moto: PutUserPolicy answered %1: %2").arg(r.status).arg(QString::fromUtf8(r.body.left(300)));
        return false;
    }
    r = iam({{"Action", "CreateAccessKey"}, {"UserName", "quire"}});
    m_accessKey = xmlValue(r.body, "AccessKeyId");
    m_secretKey = xmlValue(r.body, "SecretAccessKey");
    if (r.status != 200 || m_accessKey.isEmpty() || m_secretKey.isEmpty()) {
        m_error = QStringLiteral("moto: CreateAccessKey answered %1: %2").arg(r.status).arg(QString::fromUtf8(r.body.left(300)));
        return false;
    }
    r = raw("POST /moto-api/reset-auth HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            "Content-Type: text/plain\r\nContent-Length: 1\r\n\r\n0");
    if (r.status != 200) {
        m_error = QStringLiteral("moto: reset-auth answered %1: %2").arg(r.status).arg(QString::fromUtf8(r.body.left(300)));
        return false;
    }
    // Authentication is on: a request signed with another secret must now be refused, one signed
    // with the key accepted.
    const QByteArray secret = std::exchange(m_secretKey, "not-the-secret");
    r = s3("GET", "/");
    m_secretKey = secret;
    if (r.status != 403 || !r.body.contains("SignatureDoesNotMatch")) {
        m_error = QStringLiteral("moto: a wrongly signed request was answered %1 with authentication on").arg(r.status);
        return false;
    }
    r = s3("GET", "/");
    if (r.status != 200) {
        m_error = QStringLiteral("moto: a signed request was answered %1: %2").arg(r.status).arg(QString::fromUtf8(r.body.left(300)));
        return false;
    }
    return true;
}

MotoServer::Reply MotoServer::s3(const QByteArray &method, const QByteArray &path,
                                 const QList<std::pair<QByteArray, QByteArray>> &query, const QByteArray &body,
                                 const QList<std::pair<QByteArray, QByteArray>> &headers)
{
    const QByteArray host = "127.0.0.1:" + QByteArray::number(m_port);
    aws::SigningRequest s;
    s.method = method;
    s.path = path;
    s.query = query;
    s.headers = headers;
    s.headers.prepend({"Host", host});
    s.payloadHash = quire::Hasher::hashBytes(body);
    s.time = QDateTime::currentDateTimeUtc();
    s.region = "us-east-1";
    const auto signature = aws::sign(s, {m_accessKey, m_secretKey, {}});
    Reply reply;
    if (!signature) {
        reply.body = signature.error().toUtf8();
        return reply;
    }
    QByteArray request = method + ' ' + aws::canonicalUri(path, aws::PathStyle::S3);
    if (!query.isEmpty())
        request += '?' + aws::canonicalQuery(query);
    request += " HTTP/1.1\r\nConnection: close\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n";
    for (const auto &h : s.headers + signature->headers)
        request += h.first + ": " + h.second + "\r\n";
    return raw(request + "\r\n" + body);
}

bool MotoServer::createBucket(const QByteArray &bucket)
{
    const Reply r = s3("PUT", "/" + bucket);
    if (r.status != 200)
        m_error = QStringLiteral("creating bucket %1 answered %2: %3").arg(QString::fromUtf8(bucket)).arg(r.status).arg(QString::fromUtf8(r.body.left(300)));
    return r.status == 200;
}

QList<QByteArray> MotoServer::pendingUploads(const QByteArray &bucket)
{
    const Reply r = s3("GET", "/" + bucket, {{"uploads", {}}});
    QList<QByteArray> keys;
    const auto parsed = net::s3::parseListMultipartUploads(r.body);
    if (r.status != 200 || !parsed.ok()) {
        keys.append("(ListMultipartUploads failed: HTTP " + QByteArray::number(r.status) + ")");
        return keys;
    }
    for (const auto &u : parsed.value->uploads)
        keys.append(u.key.toUtf8());
    return keys;
}

QList<QByteArray> MotoServer::requestLog() const
{
    QFile f(m_log);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll().split('\n');
}

} // namespace quire::test
