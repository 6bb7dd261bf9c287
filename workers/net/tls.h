#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QStringList>

#include <optional>

// TLS trust for the network remotes: what a remote trusts besides the system's CA certificates,
// and what the server showed. Used by net::Client (http.h) during the handshake, before any
// request byte (credentials, body) is sent.
namespace quire {
class RemoteProfile;
}

namespace quire::net {

// What one remote trusts. Verification is never switched off: the server's certificate must
// chain to a trusted CA (the system's, or caFile's instead when set) and name the host, or be
// exactly the certificate the person trusted (pinnedSha256) and name the host.
struct TlsTrust
{
    QString caFile;            // PEM file of the CA certificates to trust instead of the system's
    QByteArray pinnedSha256;   // canonical fingerprint (see normalizeFingerprint) or empty

    static TlsTrust fromProfile(const RemoteProfile &profile);
};

// A certificate as a person checks it.
struct CertificateInfo
{
    QString subject;           // "CN=nas.example, O=Example"
    QString issuer;
    QStringList altNames;      // DNS names and IP addresses it is valid for
    QDateTime notBefore;       // UTC
    QDateTime notAfter;        // UTC
    QByteArray sha256;         // "AB:CD:..." as `openssl x509 -noout -fingerprint -sha256` prints it

    bool isValid() const { return !sha256.isEmpty(); }
    bool selfSigned() const { return !subject.isEmpty() && subject == issuer; }
    // Several lines: subject, issuer, valid from/until, names, SHA-256 fingerprint.
    QString describe() const;
};

// What the handshake found.
struct TlsReport
{
    CertificateInfo peer;      // the server's own certificate (when one was seen)
    QString problem;           // why it was not trusted (OpenSSL's words), "" when it was
    bool pinMismatch = false;  // a trusted certificate was pinned and the server showed another
    QByteArray pinned;         // the pin that was expected (canonical), with pinMismatch
};

// "ab:cd:EF..." / "abcdef..." / "SHA256 Fingerprint=AB:CD..." -> "AB:CD:EF:..." (32 bytes), or
// nullopt when it is not a SHA-256 fingerprint.
std::optional<QByteArray> normalizeFingerprint(QString text);

// The fingerprint and names of a DER-encoded certificate (OpenSSL).
CertificateInfo certificateInfoFromDer(const QByteArray &der);

} // namespace quire::net
