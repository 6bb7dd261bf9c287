#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <memory>

namespace quire::test {

// A certificate and its private key, as PEM files.
struct TlsIdentity
{
    QString certPath;
    QString keyPath;
    bool isNull() const { return certPath.isEmpty(); }
};

// A throwaway certificate authority for the https tests, made with the `openssl` command-line
// tool in a temporary folder (removed with the object). create() makes the CA (valid from an
// hour ago for ten years) and every server certificate below at once (EC P-256 keys, so it
// takes well under a second); the paths stay valid until the object goes.
//
//   good()        signed by the CA; SAN IP:127.0.0.1, IP:::1, DNS:localhost; valid from an hour
//                 ago for 30 days
//   wrongHost()   signed by the CA, valid now, but SAN only DNS:other.invalid
//   expired()     signed by the CA, SAN as good(), valid 2020-01-01 to 2021-01-01 (issued with
//                 `openssl ca -startdate/-enddate`: `openssl x509 -req` cannot backdate)
//   selfSigned()  self-signed, not from the CA (what a home NAS has); SAN and dates as good()
//   replaced()    a second valid certificate from the CA with a new key, SAN as good() (for
//                 "a certificate the user trusted changes")
//
// Use from one thread.
class TestCa final
{
public:
    TestCa();
    ~TestCa();
    Q_DISABLE_COPY(TestCa)

    static QString opensslBinary();         // openssl from PATH (or $QUIRE_OPENSSL)
    static bool available();
    // "" when openssl can be used; else the message to fail (or skip) with.
    static QString unavailableReason();

    bool create();                          // false: see error()
    bool isValid() const { return m_ok; }
    QString error() const { return m_error; }

    QString caCertPath() const;             // the CA's certificate (PEM), for --cacert and the like
    TlsIdentity good() const { return identity(QStringLiteral("good")); }
    TlsIdentity wrongHost() const { return identity(QStringLiteral("wronghost")); }
    TlsIdentity expired() const { return identity(QStringLiteral("expired")); }
    TlsIdentity selfSigned() const { return identity(QStringLiteral("selfsigned")); }
    TlsIdentity replaced() const { return identity(QStringLiteral("replaced")); }

    // `openssl x509 -noout -fingerprint -sha256` of a PEM certificate, the text after "=":
    // colon-separated upper-case hex ("AB:CD:..."). Empty when it cannot be read.
    static QByteArray sha256Fingerprint(const QString &certPath);

private:
    TlsIdentity identity(const QString &name) const;
    bool run(const QStringList &arguments, QByteArray *output = nullptr);
    bool newKey(const QString &name);
    bool issue(const QString &name, const QString &subject, const QString &extensions, const QString &altNames,
               const QByteArray &startDate, const QByteArray &endDate, bool selfSigned = false);

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_error;
    bool m_ok = false;
};

} // namespace quire::test
