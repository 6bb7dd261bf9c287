#pragma once

#include "jobs/result.h"

#include <QList>
#include <QString>
#include <QStringView>
#include <QVariantMap>

#include <optional>

namespace quire {

class SessionStore;

enum class RemoteKind { Local, WebDav, Http, S3 };

QString remoteKindName(RemoteKind kind);                            // "local", "webdav", "http", "s3"
std::optional<RemoteKind> remoteKindFromName(QStringView name);     // case-insensitive

// Where a collection's documents go. Stored in the SessionStore as settings/remotes/<name>
// (a QVariantMap: kind, url, user, options). A profile never holds a secret: the password or
// token lives in the OS keychain under service "Quire", key = profile name (credentials.h).
//
// url by kind:
//   local   an absolute folder path (or a file:// URL); documents go to <folder>/<collection>/<name>
//   webdav  the http(s) URL of a WebDAV folder the collections are created in
//   http    the API base URL; documents are POSTed to
//           {base}/collections/{collection}/documents, or to url itself when it contains
//           "{collection}" (a template; {base} is not needed then).
//   s3      the endpoint of an S3-compatible service (https://s3.eu-west-1.amazonaws.com,
//           https://minio.example:9000); objects go to <prefix><collection>/<name> in the bucket;
//           user is the access key id, the secret access key is the keychain secret.
// options (all optional):
//   allowInsecureAuth  bool  allow Basic auth over plain http:// to a host that is not loopback
//   resume             "auto" (default) | "off"   webdav: resumable Content-Range uploads of
//                      large files (see remotewebdav.h)
//   bearer             bool  send the keychain secret as "Authorization: Bearer <token>"
//                      instead of Basic auth (no user needed then)
//   caFile             path  https: trust the CA certificates in this PEM file instead of the
//                      system's (a NAS or company CA)
//   trustedCertificate SHA-256 fingerprint of the one server certificate the person trusted
//                      (quire remote trust NAME; net/tls.h); another certificate is refused
//   limitRate          upload speed limit for this remote, bytes per second ("10M", "512k")
//   bucket             s3: the bucket (required)
//   prefix             s3: a key prefix ("backups/" puts objects under backups/<collection>/)
//   region             s3: the signing region (default: from an AWS endpoint's host name, else
//                      us-east-1)
//   pathStyle          s3: bool, address the bucket as <endpoint>/<bucket>/ instead of
//                      <bucket>.<endpoint>/ (always so for an IP address, localhost, or a bucket
//                      name with dots over https)
class RemoteProfile final
{
public:
    QString name;
    RemoteKind kind = RemoteKind::Local;
    QString url;
    QString user;          // empty: no authentication (or a token-only remote, see credentials.h)
    QVariantMap options;

    bool allowInsecureAuth() const;
    bool resumeEnabled() const;
    bool usesBearerToken() const;
    QString caFile() const;               // "" when none
    QString trustedCertificate() const;   // canonical fingerprint, "" when none
    qint64 limitRate() const;             // bytes per second, 0 = none
    QString bucket() const;               // s3
    QString keyPrefix() const;            // s3: "" or ends with '/'
    QString region() const;               // s3: the signing region
    bool pathStyle() const;               // s3: as requested (see S3Remote for the automatic cases)
    // True when uploads need a secret: a user name (Basic auth) or a bearer token is configured.
    bool needsSecret() const;

    QVariantMap toVariantMap() const;
    static Result<RemoteProfile> fromVariantMap(const QString &name, const QVariantMap &map);

    // nullopt when the profile is usable, else why not ("the URL must start with http:// or
    // https://"...). Also refuses options that look like secrets.
    std::optional<QString> validationError() const;
    // Names: 1-64 characters of letters, digits, '.', '_' and '-', not starting with '.'.
    static std::optional<QString> nameError(const QString &name);

    // The URL shown to people: never contains a password (a user:password@ part is dropped).
    QString displayUrl() const;

    // The embedded default: a "local" profile writing to defaultLocalFolder().
    static RemoteProfile defaultLocal();
private:
    std::optional<QString> s3Error() const;
public:
    static QString defaultLocalName();     // "local"
    // QStandardPaths::AppDataLocation + "/remote".
    static QString defaultLocalFolder();
};

// The remote profiles kept in a SessionStore. Thread-safe (the store is); cheap to construct.
// The embedded "local" profile is always listed; saving a profile named "local" overrides it,
// removing that override brings the default back.
class RemoteProfiles final
{
public:
    explicit RemoteProfiles(SessionStore &store) : m_store(store) {}

    static QString settingsKey(const QString &name);   // "settings/remotes/<name>"

    Result<QList<RemoteProfile>> list() const;          // sorted by name
    Result<std::optional<RemoteProfile>> find(const QString &name) const;
    Status save(const RemoteProfile &profile);           // validates first
    Status remove(const QString &name);                  // removing a missing one fails

private:
    SessionStore &m_store;
};

} // namespace quire
