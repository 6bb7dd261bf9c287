// The name a document is stored under, made from its file name (remote.h): safeFileName() for
// every remote, windowsSafeFileName() for a local remote on Windows, and collisionName() for
// the second, third... document of that name. Whatever the file was called, the result must be
// exactly one path component the target file system takes: aborts otherwise.
// Input: UTF-16 as is (lone surrogates, NULs...) when it starts with a 0 byte, else UTF-8.

#include "fuzzsupport.h"
#include "remotes/remote.h"

#include <QStringList>

#include <cstring>

namespace {

using namespace quire;

void checkComponent(const QString &name, const QString &from)
{
    const QString detail = QStringLiteral("\"%1\" from \"%2\"").arg(name, from);
    FUZZ_CHECK(!name.isEmpty() && name != QLatin1String(".") && name != QLatin1String(".."), detail);
    for (const QChar c : name) {
        FUZZ_CHECK(c != QLatin1Char('/') && c != QLatin1Char('\\'), detail);
        FUZZ_CHECK(c.unicode() >= 0x20 && c.unicode() != 0x7f, detail);   // NUL and control characters
    }
}

// What Windows refuses in a name (Naming Files, Paths, and Namespaces): <>:"|?*, a trailing dot
// or space, and the device names, alone or before an extension ("CON", "nul.txt", "COM1.tar.gz",
// "LPT¹"; Windows ignores spaces before the dot).
void checkWindowsComponent(const QString &name, const QString &from)
{
    checkComponent(name, from);
    const QString detail = QStringLiteral("\"%1\" from \"%2\"").arg(name, from);
    for (const QChar c : name)
        FUZZ_CHECK(!QStringView(u"<>:\"|?*").contains(c), detail);
    FUZZ_CHECK(!name.endsWith(QLatin1Char('.')) && !name.endsWith(QLatin1Char(' ')), detail);
    QString stem = name.section(QLatin1Char('.'), 0, 0);
    while (stem.endsWith(QLatin1Char(' ')))
        stem.chop(1);
    stem = stem.toUpper();
    static const QStringList kDevices = {QStringLiteral("CON"), QStringLiteral("PRN"), QStringLiteral("AUX"),
                                         QStringLiteral("NUL")};
    FUZZ_CHECK(!kDevices.contains(stem), detail);
    const bool numbered = stem.size() == 4 && (stem.startsWith(QLatin1String("COM")) || stem.startsWith(QLatin1String("LPT")))
                          && QStringView(u"0123456789\u00b9\u00b2\u00b3").contains(stem.at(3));
    FUZZ_CHECK(!numbered, detail);
}

} // namespace

QUIRE_FUZZ_TARGET(storedname)(const uint8_t *data, size_t size)
{
    quire::fuzz::init();
    QString name;
    if (size > 0 && data[0] == 0) {
        name.resize(qsizetype((size - 1) / 2));
        std::memcpy(name.data(), data + 1, size_t(name.size()) * sizeof(QChar));
    } else {
        name = QString::fromUtf8(quire::fuzz::bytes(data, size));
    }

    const QString safe = safeFileName(name);
    checkComponent(safe, name);
    FUZZ_CHECK(safeFileName(safe) == safe, safe);   // already safe: kept as it is

    const QString windows = windowsSafeFileName(name);
    checkWindowsComponent(windows, name);
    FUZZ_CHECK(windowsSafeFileName(windows) == windows, windows);

    // The second, tenth, ten-thousandth document of that name: still one component.
    for (const int n : {2, 10, 10000}) {
        checkComponent(collisionName(safe, n), safe);
        checkWindowsComponent(collisionName(windows, n), windows);
    }
    FUZZ_CHECK(collisionName(safe, 1) == safe, safe);
    return 0;
}
