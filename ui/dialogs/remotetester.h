#pragma once

#include "net/tls.h"
#include "remotes/remoteprofile.h"
#include "upload/uploadpolicy.h"

#include <QObject>
#include <QString>

#include <memory>
#include <optional>

namespace quire {

class Pools;
class UploadControl;

// "Test connection" for the window: the check `quire remote test NAME` runs (Remote::test:
// reachable, credentials accepted, writable), run on the I/O pool and answered by a signal.
//
// For an https server the worker first looks at the certificate, without credentials (net::
// inspectCertificate): one that is not trusted ends the test there, and untrustedCertificate()
// says what it was, for a "Trust this certificate" choice. Then it resolves the secret (the one given, else $QUIRE_PASSWORD, else the
// keychain, which may wait for an unlock prompt), creates the Remote and tests it. Every request
// is bounded by the remote's time limits (settings/uploads/...), and stop() aborts it within
// ~100 ms. The test gives its pool slot back while it waits on the network, like uploads do.
//
// GUI thread only. Destroying the tester stops a running test without waiting; finished() is
// then never emitted. Pools must outlive the work (the composition root's pools do).
class RemoteTester final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RemoteTester)
public:
    explicit RemoteTester(Pools &pools, QObject *parent = nullptr);
    ~RemoteTester() override;

    // Starts testing profile (stopping a test still running, whose result is dropped).
    // secret: the password or token to use; nullopt: the stored one.
    void start(const RemoteProfile &profile, const UploadSettings &settings,
               std::optional<QString> secret = std::nullopt);
    // Aborts the running test; finished() follows with the remote's "stopped" error.
    void stop();
    bool isRunning() const { return m_control != nullptr; }
    QString remoteName() const { return m_name; }

    // What the last test found when the server's certificate was not trusted (an https server
    // whose certificate no trusted CA signed, or not the certificate trusted before): the
    // certificate to show, and why it was refused. Invalid after a test that got past TLS.
    const net::CertificateInfo &untrustedCertificate() const { return m_untrusted; }
    const net::TlsReport &tlsReport() const { return m_tls; }

Q_SIGNALS:
    // ok: message says what was checked ("the folder ... exists and is writable");
    // otherwise why it failed, naming the server or folder.
    void finished(bool ok, const QString &message);

private:
    Pools &m_pools;
    std::shared_ptr<UploadControl> m_control;
    QString m_name;
    quint64 m_generation = 0;
    net::CertificateInfo m_untrusted;
    net::TlsReport m_tls;
};

} // namespace quire
