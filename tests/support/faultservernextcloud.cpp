#include "faultserverstate.h"

#include <QCryptographicHash>
#include <QUrl>

// FaultServer's Nextcloud mode: status.php and the chunked upload v2 (Nextcloud developer
// manual, "Chunked file upload"), as Nextcloud's sabre/dav answers them.

namespace quire::test {

namespace faultserver {

QByteArray nextcloudStatus(const FaultServer::State &state)
{
    return "{\"installed\":true,\"maintenance\":false,\"needsDbUpgrade\":false,"
           "\"version\":\"" + state.ncVersion + "\",\"versionstring\":\""
           + state.ncVersion.left(state.ncVersion.lastIndexOf('.')) + "\","
           "\"edition\":\"\",\"productname\":\"Nextcloud\",\"extendedSupport\":false}";
}

Answer nextcloudUpload(FaultServer::State &state, const FaultServer::Seen &seen, const QByteArray &body,
                       qint64 received, const QString &rel)
{
    const QByteArray &m = seen.method;
    const QStringList parts = rel.split(QLatin1Char('/'));
    const QString id = parts.value(0);
    const QString name = parts.value(1);
    if (id.isEmpty() || parts.size() > 2)
        return Answer{404, "no such upload"};
    auto &uploads = state.uploads;
    const bool exists = uploads.contains(id);
    if (m == "MKCOL" && name.isEmpty()) {
        if (exists)
            return Answer{405, "the upload folder exists"};
        if (seen.header("Destination").isEmpty())
            return Answer{400, "chunked upload v2 needs a Destination header"};
        FaultServer::State::Upload u;
        u.destination = seen.header("Destination");
        uploads.insert(id, u);
        return Answer{201};
    }
    if (!exists)
        return Answer{404, "no such upload folder"};
    FaultServer::State::Upload &upload = uploads[id];
    bool isNumber = !name.isEmpty() && name.size() <= 10;
    for (QChar c : name)
        isNumber = isNumber && c.isDigit() && c.unicode() < 128;
    const int number = isNumber ? name.toInt() : 0;
    if (m == "PUT") {
        if (number < 1 || number > 10'000)
            return Answer{400, "Invalid chunk name, must be numeric between 1 and 10000"};
        if (seen.header("Destination") != upload.destination)
            return Answer{400, "the Destination header is missing or not the upload's"};
        bool ok = false;
        const qint64 total = seen.header("OC-Total-Length").toLongLong(&ok);
        if (!ok || total < 0 || (upload.totalLength >= 0 && total != upload.totalLength))
            return Answer{400, "OC-Total-Length is missing or differs from the upload's"};
        if (received != body.size())
            return Answer{413, "chunk too large for the test server"};
        upload.totalLength = total;
        QByteArray content = body;
        if (state.corruptChunks > 0 && !content.isEmpty()) {
            --state.corruptChunks;
            content[0] = char(~quint8(content.at(0)));
        }
        const bool replaced = upload.chunks.contains(number);
        upload.chunks.insert(number, {name, content});
        return Answer{replaced ? 204 : 201};
    }
    if (m == "PROPFIND") {
        const QByteArray folderHref = "/remote.php/dav/uploads/" + QUrl::toPercentEncoding(state.ncUser) + '/'
                                      + QUrl::toPercentEncoding(id) + '/';
        auto entry = [](const QByteArray &href, const QByteArray &props) {
            return "<d:response><d:href>" + href + "</d:href><d:propstat><d:prop>" + props
                   + "</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>";
        };
        QByteArray xml = "<?xml version=\"1.0\"?>\n<d:multistatus xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\" "
                         "xmlns:oc=\"http://owncloud.org/ns\" xmlns:nc=\"http://nextcloud.org/ns\">";
        const bool children = seen.header("Depth") != "0";
        if (name.isEmpty()) {
            xml += entry(folderHref, "<d:resourcetype><d:collection/></d:resourcetype>");
        } else if (!upload.chunks.contains(number) || upload.chunks.value(number).name != name) {
            return Answer{404, "no such chunk"};
        }
        for (auto it = upload.chunks.cbegin(); it != upload.chunks.cend(); ++it) {
            if ((name.isEmpty() && children) || it.key() == number) {
                xml += entry(folderHref + QUrl::toPercentEncoding(it->name),
                             "<d:resourcetype/><d:getcontentlength>" + QByteArray::number(it->content.size())
                                 + "</d:getcontentlength>");
            }
        }
        xml += "</d:multistatus>\n";
        return Answer{207, xml, {{"Content-Type", "application/xml; charset=utf-8"}}};
    }
    if (m == "GET" || m == "HEAD")
        return Answer{405, "Reading intermediate uploads is not allowed"};
    if (m == "DELETE") {
        if (name.isEmpty()) {
            uploads.remove(id);
            return Answer{204};
        }
        return Answer{upload.chunks.remove(number) > 0 ? 204 : 404};
    }
    if (m == "MOVE" && name == QLatin1String(".file")) {
        const QByteArray destination = seen.header("Destination");
        if (destination.isEmpty())
            return Answer{400, "MOVE needs a Destination header"};
        bool ok = false;
        const qint64 total = seen.header("OC-Total-Length").toLongLong(&ok);
        if (!ok)
            return Answer{400, "MOVE of a chunked upload needs OC-Total-Length"};
        const QString to = state.mapPath(requestPath(destination));
        if (!to.startsWith(state.filesRoot() + QLatin1Char('/')))
            return Answer{400, "the Destination is not in the user's files"};
        if (!state.dirs.contains(parentOf(to)))
            return Answer{409, "the Destination's folder does not exist"};
        const bool destinationExists = state.files.contains(to);
        if (destinationExists && seen.header("Overwrite") == "F")
            return Answer{412, "the Destination exists"};
        QByteArray assembled;
        for (auto it = upload.chunks.cbegin(); it != upload.chunks.cend(); ++it) {
            if (std::next(it) != upload.chunks.cend() && it->content.size() < 5 * 1024 * 1024)
                return Answer{400, "chunk " + it->name.toLatin1() + " is smaller than 5 MiB and not the last"};
            assembled += it->content;
        }
        if (assembled.size() != total) {
            return Answer{400, "Chunks on server do not sum up to " + QByteArray::number(total) + " but to "
                                   + QByteArray::number(assembled.size()) + " bytes"};
        }
        const QByteArray checksum = seen.header("OC-Checksum");
        if (checksum.startsWith("SHA256:")
            && checksum.mid(7).toLower() != QCryptographicHash::hash(assembled, QCryptographicHash::Sha256).toHex()) {
            return Answer{400, "The computed checksum does not match the one received from the client."};
        }
        state.files.insert(to, assembled);
        uploads.remove(id);
        return Answer{destinationExists ? 204 : 201};
    }
    return Answer{405, "not allowed in an upload folder"};
}

} // namespace faultserver

void FaultServer::setNextcloud(const QString &user, const QByteArray &version)
{
    std::lock_guard lock(m_state->mutex);
    m_state->nextcloud = true;
    m_state->ncUser = QString(user.constData(), user.size());
    m_state->ncVersion = QByteArray(version.constData(), version.size());
    m_state->rangedPut = RangedPut::Refused;   // sabre/dav answers 400 to Content-Range on PUT
    m_state->rangedPutRefusal = 400;
    m_state->makeDirectories(m_state->filesRoot());
    m_state->makeDirectories(m_state->uploadsRoot());
}

QList<FaultServer::ChunkedUpload> FaultServer::chunkedUploads() const
{
    std::lock_guard lock(m_state->mutex);
    QList<ChunkedUpload> out;
    for (auto it = m_state->uploads.cbegin(); it != m_state->uploads.cend(); ++it) {
        ChunkedUpload u;
        u.id = QString(it.key().constData(), it.key().size());
        u.destination = QByteArray(it->destination.constData(), it->destination.size());
        u.totalLength = it->totalLength;
        for (auto c = it->chunks.cbegin(); c != it->chunks.cend(); ++c)
            u.chunks.insert(c.key(), c->content.size());
        out.append(u);
    }
    return out;
}

int FaultServer::maxChunkPutsInFlight() const
{
    std::lock_guard lock(m_state->mutex);
    return m_state->maxChunkPutsInFlight;
}

void FaultServer::corruptNextChunks(int count)
{
    std::lock_guard lock(m_state->mutex);
    m_state->corruptChunks = count;
}

} // namespace quire::test
