// The settings file (SessionStore, sessionstore.h) as anything may have left it: written by
// hand, by another version, cut short by a full disk. Loaded through the store's public API
// from a file, its numbers read as bounded settings, the remote profiles in it read
// (remoteprofile.h), then a setting changed and the file written back: what the store had must
// be what a new store reads from that file.

#include "fuzzsupport.h"
#include "remotes/remoteprofile.h"
#include "settings/sessionstore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>

#include <algorithm>
#include <cmath>
#include <tuple>

namespace {

using namespace quire;

QString settingsPath()
{
    // Every write of the file is synced to disk: on a tmpfs, where that costs nothing, the
    // target runs several times faster.
    static QTemporaryDir dir(QFileInfo(QStringLiteral("/dev/shm")).isWritable()
                                 ? QStringLiteral("/dev/shm/quire-fuzz-XXXXXX")
                                 : QDir::tempPath() + QStringLiteral("/quire-fuzz-XXXXXX"));
    return dir.filePath(QStringLiteral("settings.json"));   // removed when the process ends
}

// JSON has no infinities or NaN (Qt writes them as null), so a number that is none can come
// back as another value: such files are not compared.
bool isFiniteValue(const QVariant &v)
{
    if (v.typeId() == QMetaType::Double)
        return std::isfinite(v.toDouble());
    if (v.typeId() == QMetaType::QVariantMap) {
        const QVariantMap m = v.toMap();
        return std::all_of(m.cbegin(), m.cend(), isFiniteValue);
    }
    if (v.typeId() == QMetaType::QVariantList) {
        const QVariantList l = v.toList();
        return std::all_of(l.cbegin(), l.cend(), isFiniteValue);
    }
    return true;
}

void readProfiles(SessionStore &store)
{
    const auto profiles = RemoteProfiles(store).list();
    if (!profiles)
        return;
    // Whatever the file holds, reading a profile's derived values must not crash.
    for (const RemoteProfile &p : *profiles)
        (void)std::tuple{p.validationError(), p.displayUrl(), p.limitRate(), p.trustedCertificate(), p.region(),
                         p.keyPrefix()};
}

} // namespace

QUIRE_FUZZ_TARGET(settings)(const uint8_t *data, size_t size)
{
    quire::fuzz::init();
    static const QString path = settingsPath();
    QFile::remove(path + QStringLiteral(".corrupt"));
    {
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
            return 0;
        f.write(reinterpret_cast<const char *>(data), qint64(size));
    }

    QVariantMap before;
    {
        SessionStore store(path);
        const bool loaded = store.load().ok();
        readProfiles(store);
        (void)store.keys();
        if (!loaded) {
            // A corrupt file: kept aside as .corrupt on the first change, then replaced.
            FUZZ_CHECK(store.setValue(QStringLiteral("settings/fuzz"), 1).ok(), QString());
            FUZZ_CHECK(store.flush().ok(), QString());
            FUZZ_CHECK(QFile::exists(path + QStringLiteral(".corrupt")), QString());
            return 0;
        }
        const auto snap = store.snapshot(QStringLiteral("settings/"));
        FUZZ_CHECK(snap.ok(), snap.error());
        before = *snap;
        // A number read from the file never leaves the range asked for (pool sizes and the like).
        for (auto it = before.cbegin(); it != before.cend(); ++it) {
            const qint64 n = store.intSetting(it.key(), 7, -5, 1000);
            FUZZ_CHECK(n >= -5 && n <= 1000, QStringLiteral("%1: %2").arg(it.key()).arg(n));
        }
        const auto changed = store.setValue(QStringLiteral("settings/fuzz/changed"), true);
        FUZZ_CHECK(changed.ok(), changed.error());
        const auto written = store.flush();
        FUZZ_CHECK(written.ok(), written.error());
        before.insert(QStringLiteral("settings/fuzz/changed"), true);
    }
    SessionStore again(path);
    const auto reloaded = again.load();
    FUZZ_CHECK(reloaded.ok(), reloaded.error());
    const auto after = again.snapshot(QStringLiteral("settings/"));
    FUZZ_CHECK(after.ok(), after.error());
    if (std::all_of(before.cbegin(), before.cend(), isFiniteValue)) {
        FUZZ_CHECK(after->keys() == before.keys(), QStringLiteral("%1 keys written, %2 read back").arg(before.size()).arg(after->size()));
        for (auto it = before.cbegin(); it != before.cend(); ++it)
            FUZZ_CHECK(after->value(it.key()) == it.value(), it.key());
    }
    return 0;
}
