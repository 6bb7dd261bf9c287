#pragma once

// What every fuzz target shares. A target is written once, as
//
//   QUIRE_FUZZ_TARGET(name)(const uint8_t *data, size_t size) { ...; return 0; }
//
// which is libFuzzer's LLVMFuzzerTestOneInput in the libFuzzer build, and an entry of the
// replay program's table (replay.cpp) in the normal build.

#include <QByteArray>
#include <QCoreApplication>
#include <QString>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace quire::fuzz {

using TargetFunction = int (*)(const uint8_t *data, size_t size);

#ifdef QUIRE_FUZZ_REPLAY
bool registerTarget(const char *name, TargetFunction function);
#define QUIRE_FUZZ_TARGET(name)                                                                    \
    static int fuzz_##name(const uint8_t *, size_t);                                               \
    static const bool fuzz_##name##_registered = quire::fuzz::registerTarget(#name, fuzz_##name); \
    static int fuzz_##name
#else
#define QUIRE_FUZZ_TARGET(name) extern "C" int LLVMFuzzerTestOneInput
#endif

// Once per process: a QCoreApplication (some of Qt wants one), and Qt's messages dropped: a
// parser that warns about each hostile input would bury the fuzzer's own output. qFatal still
// aborts, so the fuzzer still sees it.
inline void init()
{
    if (QCoreApplication::instance())
        return;
    static int argc = 1;
    static char name[] = "quire-fuzz";
    static char *argv[] = {name, nullptr};
    qInstallMessageHandler([](QtMsgType, const QMessageLogContext &, const QString &) {});
    new QCoreApplication(argc, argv);   // lives as long as the process
}

// A contract the code under test promises, broken: say which, then abort (libFuzzer keeps the
// input as a crash; a replay test fails).
[[noreturn]] inline void fail(const char *file, int line, const char *what, const QString &detail)
{
    std::fprintf(stderr, "%s:%d: broken contract: %s\n  %s\n", file, line, what,
                 detail.toUtf8().constData());
    std::abort();
}

#define FUZZ_CHECK(condition, detail)                                                              \
    do {                                                                                           \
        if (!(condition))                                                                          \
            quire::fuzz::fail(__FILE__, __LINE__, #condition, (detail));                           \
    } while (false)

// The input as bytes, without a copy: reading past its end is then an AddressSanitizer report.
inline QByteArray bytes(const uint8_t *data, size_t size)
{
    return QByteArray::fromRawData(reinterpret_cast<const char *>(data), qsizetype(size));
}

// The input cut in two at its first "\n": a short field (a URL, a name) and the rest.
inline std::pair<QByteArray, QByteArray> splitLine(const QByteArray &input)
{
    const qsizetype nl = input.indexOf('\n');
    if (nl < 0)
        return {input, QByteArray()};
    return {input.left(nl), input.mid(nl + 1)};
}

} // namespace quire::fuzz
