#pragma once

#include "jobs/result.h"

#include <QString>

#include <optional>

namespace quire {

// A "mysql://[user[:password]@]host[:port]/database[?parameter=value&...]" URL (also
// "mariadb://"), read by QUrl: percent-decoding, IPv6 literals ("[::1]"). Parameters:
//   socket=PATH      connect through this unix socket instead of TCP (host is then ignored)
//   ssl-ca=PATH      TLS, the server's certificate chain checked against this CA file
//   ssl-capath=DIR   TLS, against the CA certificates of this folder
//   ssl-cert=PATH, ssl-key=PATH   a client certificate and its key (with ssl-ca or ssl-capath)
// Any other parameter is refused, so a typo cannot silently turn TLS off. Private to the
// catalog code.
struct MariaDbUrl
{
    QString user;       // empty: the login name (the client library's default)
    QString password;   // empty: from $QUIRE_CATALOG_PASSWORD or ~/.my.cnf (mariaDbPassword())
    QString host;       // without brackets for IPv6
    int port = 3306;
    QString database;
    QString socket;
    QString sslCa, sslCapath, sslCert, sslKey;
};

bool looksLikeMariaDbUrl(const QString &location);
// nullopt and *error set when the URL cannot be used.
std::optional<MariaDbUrl> parseMariaDbUrl(const QString &url, QString *error = nullptr);
// The URL with its password replaced by "***".
QString redactMariaDbUrl(const QString &url);

// The password of the [client] and [client-mariadb] groups of a MariaDB/MySQL option file
// (~/.my.cnf), the later group winning; empty when there is none. Quotes and "#" comments as
// the client tools read them.
QString optionFilePassword(const QString &path);
// With ssl-ca or ssl-capath over TCP: the server's certificate checked before the client
// library connects, chain *and host name* (Qt 6.4's MySQL driver cannot ask libmariadb to check
// the name; libmariadb checks the chain again itself). The MariaDB protocol's own TLS upgrade:
// the server's greeting, an SSL request, the TLS handshake, then the connection is dropped.
// A failed Status says why (the certificate's problems, the server's refusal, a timeout); with
// *unreachable set when the connection itself failed (the server could not be reached).
// Blocking: call on a worker thread.
Status checkMariaDbServerCertificate(const MariaDbUrl &url, int timeoutMs, bool *unreachable = nullptr);

// The password for a connection: the URL's, else $QUIRE_CATALOG_PASSWORD, else the one in
// ~/.my.cnf, else empty.
QString mariaDbPassword(const MariaDbUrl &url);

} // namespace quire
