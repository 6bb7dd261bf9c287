#pragma once

#include "serverprocess.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <memory>
#include <utility>

class QProcess;

namespace quire::test {

// A throw-away S3 server for one test process: moto_server (Python's moto, installed with pip)
// on a free loopback port, with its signature checking switched on. start() creates an IAM user
// with an access key and a policy that allows everything, then turns authentication on (moto's
// POST /moto-api/reset-auth): from then on every request must be signed with that key.
// moto logs every request it served ("PUT /bucket/key?partNumber=2&uploadId=... HTTP/1.1" 200);
// requestLog() reads that log, so tests can count what was sent.
// If the test process dies, a small shell stops the server. Use from the test's main thread.
class MotoServer final : public ServerProcess
{
public:
    MotoServer();
    ~MotoServer();

    // True when moto_server is on the PATH; missingMessage() says how to get it otherwise.
    static bool available();
    static QString missingMessage();

    // With authentication off (moto's default) any key is accepted: for the keys whose
    // signature moto misjudges (see tst_s3sign).
    enum class Auth { On, Off };
    bool start(Auth auth = Auth::On);   // false: see error()
    QString endpoint() const;   // "http://127.0.0.1:<port>"
    const QByteArray &accessKeyId() const { return m_accessKey; }
    const QByteArray &secretAccessKey() const { return m_secretKey; }

    struct Reply
    {
        int status = 0;                 // 0: no answer (see body for why)
        QList<std::pair<QByteArray, QByteArray>> headers;
        QByteArray body;
        QByteArray header(const QByteArray &name) const;
    };
    // A request signed with the user's key (path style): PUT/GET/DELETE "/bucket/key", a query
    // of decoded name/value pairs. For checking what the code under test did.
    Reply s3(const QByteArray &method, const QByteArray &path, const QList<std::pair<QByteArray, QByteArray>> &query = {},
             const QByteArray &body = {}, const QList<std::pair<QByteArray, QByteArray>> &headers = {});
    bool createBucket(const QByteArray &bucket);
    // The keys of the multipart uploads in progress in bucket (ListMultipartUploads).
    QList<QByteArray> pendingUploads(const QByteArray &bucket);
    // The lines of moto's request log so far.
    QList<QByteArray> requestLog() const;

private:
    Reply raw(const QByteArray &request);

    std::unique_ptr<QProcess> m_process;
    QString m_log;
    QByteArray m_accessKey;
    QByteArray m_secretKey;
};

} // namespace quire::test
