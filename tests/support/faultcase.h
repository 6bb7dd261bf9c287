#pragma once

#include "faultserver.h"
#include "uploadfixture.h"

#include <QByteArray>
#include <QString>

#include <memory>

namespace quire::test {

// One document in a collection whose remote is a FaultServer: what the fault tests start from.
// Use from the test's main thread.
struct FaultCase
{
    std::unique_ptr<FaultServer> server = std::make_unique<FaultServer>();
    std::unique_ptr<UploadFixture> fx = std::make_unique<UploadFixture>();
    RemoteProfile profile;
    qint64 collection = 0;
    qint64 doc = 0;
    QByteArray content;

    // Saves profile with its URL at the server (plus urlPath), creates the collection on it and
    // adds fileName with content; false when any of it fails.
    bool setUp(RemoteProfile remote, const QString &urlPath, const QString &collectionName, const QString &fileName,
               QByteArray fileContent);

    // Uploads the collection (UploadFixture::runJob).
    UploadResult run(const UploadSettings &settings, const SecretProvider &secrets, int timeoutMs,
                     QList<UploadDocumentEvent> *events = nullptr);
};

} // namespace quire::test
