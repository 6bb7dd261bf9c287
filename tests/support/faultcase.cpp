#include "faultcase.h"

namespace quire::test {

bool FaultCase::setUp(RemoteProfile remote, const QString &urlPath, const QString &collectionName,
                      const QString &fileName, QByteArray fileContent)
{
    if (!fx->isValid())
        return false;
    profile = std::move(remote);
    profile.url = server->url().toString() + urlPath;
    if (!fx->saveRemote(profile))
        return false;
    collection = fx->createCollection(collectionName, profile.name);
    content = std::move(fileContent);
    doc = collection ? fx->addFile(collection, fileName, content) : 0;
    return collection != 0 && doc != 0;
}

UploadResult FaultCase::run(const UploadSettings &settings, const SecretProvider &secrets, int timeoutMs,
                            QList<UploadDocumentEvent> *events)
{
    return fx->runJob(UploadScope{collection, {}}, settings, secrets, timeoutMs, events);
}

} // namespace quire::test
