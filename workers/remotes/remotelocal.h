#pragma once

#include "remotes/remote.h"

namespace quire {

// A folder on this computer (or a mounted share): the embedded default remote.
//
// A document is copied to <folder>/<collection>/<name>: first into
// ".quire-<sha256>-<pid>-<n>.partial" in the same folder (streamed in 1 MiB blocks, the content hashed on the way and compared
// with the catalog's SHA-256), flushed to disk (fsync), then moved into place with a rename that
// never replaces an existing file (renameat2 RENAME_NOREPLACE, else link + unlink), and the
// folder is flushed too. A name taken by a different file gets " (2)", " (3)"...; a name holding
// the same content (same size and SHA-256) counts as uploaded without copying.
//
// location: the absolute path of the stored file. Thread-safe.
class LocalRemote final : public Remote
{
public:
    LocalRemote(const RemoteProfile &profile, const RemoteLimits &limits);

    QString folder() const { return m_folder; }

    UploadOutcome upload(const UploadItem &item, UploadControl &control) override;
    VerifyOutcome verify(const UploadItem &item, const QString &location, bool deep,
                         UploadControl &control) override;
    Result<QString> test(UploadControl &control) override;
    void discardPartial(const UploadItem &item, UploadControl &control) override;

private:
    QString collectionFolder(const QString &collection) const;

    QString m_folder;
};

} // namespace quire
