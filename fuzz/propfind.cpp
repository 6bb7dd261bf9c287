// PROPFIND answers (207 Multi-Status) as the WebDAV remote reads them: the Depth 0 lookup of a
// file (WebDavRemote::parseMultistatus) and the Depth 1 listing of a Nextcloud chunk folder
// (nextcloud::parseListing), from any server, any proxy in between, or anyone in the middle.

#include "fuzzsupport.h"
#include "remotes/nextcloudchunks.h"
#include "remotes/remotewebdav.h"

#include <set>

namespace {

// The folder the seeds list (an upload folder as Nextcloud names it).
const QByteArray kFolder = "/remote.php/dav/uploads/alice/quire-0123456789abcdef0123456789abcdef01234567-89abcdef/";

void checkProps(const QByteArray &xml)
{
    const auto props = quire::WebDavRemote::parseMultistatus(xml);
    if (!props)
        return;
    FUZZ_CHECK(props->status == 207, QString::number(props->status));
    FUZZ_CHECK(props->size >= -1, QString::number(props->size));
    // Compared with the document's lowercase hex digest: any upper case would never match.
    FUZZ_CHECK(props->sha256 == props->sha256.toLower(), QString::fromLatin1(props->sha256));
}

void checkListing(const QByteArray &xml)
{
    const auto listing = quire::nextcloud::parseListing(xml, kFolder);
    if (!listing)
        return;
    FUZZ_CHECK(listing->ignored >= 0, QString::number(listing->ignored));
    std::set<int> numbers;
    int previous = 0;
    for (const quire::nextcloud::ListedChunk &c : listing->chunks) {
        FUZZ_CHECK(c.number >= 1 && c.number <= quire::nextcloud::kMaxChunks, QString::number(c.number));
        FUZZ_CHECK(c.size >= -1, QString::number(c.size));
        FUZZ_CHECK(numbers.insert(c.number).second, QStringLiteral("chunk %1 twice").arg(c.number));
        FUZZ_CHECK(c.number > previous, QStringLiteral("chunk %1 after %2").arg(c.number).arg(previous));
        previous = c.number;
    }
}

} // namespace

QUIRE_FUZZ_TARGET(propfind)(const uint8_t *data, size_t size)
{
    quire::fuzz::init();
    const QByteArray xml = quire::fuzz::bytes(data, size);
    checkProps(xml);
    checkListing(xml);
    return 0;
}
