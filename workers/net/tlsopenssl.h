#pragma once

#include "net/tls.h"

#include <openssl/types.h>

#include <memory>

// OpenSSL-level helpers of tls.cpp, for http.cpp's handshake callbacks. Internal to workers/net.
namespace quire::net {

QByteArray fingerprintOf(const X509 *cert);        // canonical SHA-256 fingerprint
CertificateInfo certificateInfoOf(const X509 *cert);

// The handshake's view of the server's certificate, shared between the transfer that opened the
// connection and the SSL_CTX of that connection (which may outlive the transfer in libcurl's
// connection cache): the SSL_CTX holds a reference that OpenSSL drops when it frees the context.
struct TlsCapture
{
    QByteArray pin;
    TlsReport report;
    bool seen = false;
};
using TlsCaptureRef = std::shared_ptr<TlsCapture>;

// Watches the handshakes of ctx's connections: the server's certificate goes into capture's
// report, with why it was not trusted; a pin in capture trusts that certificate and no other.
// Verification itself stays as ctx has it.
void watchHandshakes(SSL_CTX *ctx, const TlsCaptureRef &capture);

} // namespace quire::net
