// The fuzz targets without libFuzzer: runs every file of the folders given through one target,
// so the seeds and the inputs that once crashed are checked by every build's tests.
//   quire_fuzz_replay TARGET CORPUS_DIR [MORE_DIRS...]
// The first folder (the seed corpus) must hold at least one file; the others may be missing or
// empty. A broken contract or a sanitizer report aborts, naming the input first.

#include "fuzzsupport.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <cstring>
#include <map>
#include <string>

namespace quire::fuzz {

namespace {

std::map<std::string, TargetFunction> &targets()
{
    static std::map<std::string, TargetFunction> table;
    return table;
}

} // namespace

bool registerTarget(const char *name, TargetFunction function)
{
    targets()[name] = function;
    return true;
}

} // namespace quire::fuzz

int main(int argc, char **argv)
{
    using namespace quire::fuzz;
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s TARGET CORPUS_DIR [MORE_DIRS...]\n", argv[0]);
        return 2;
    }
    const auto it = targets().find(argv[1]);
    if (it == targets().end()) {
        std::fprintf(stderr, "no fuzz target named \"%s\"; there are:", argv[1]);
        for (const auto &[name, function] : targets())
            std::fprintf(stderr, " %s", name.c_str());
        std::fprintf(stderr, "\n");
        return 2;
    }
    init();
    int total = 0;
    for (int i = 2; i < argc; ++i) {
        const QDir dir(QFile::decodeName(argv[i]));
        const QFileInfoList files = dir.entryInfoList(QDir::Files | QDir::Hidden, QDir::Name);
        int ran = 0;
        for (const QFileInfo &file : files) {
            if (file.fileName().startsWith(QLatin1Char('.')))
                continue;   // .gitkeep and the like
            QFile f(file.filePath());
            if (!f.open(QIODevice::ReadOnly)) {
                std::fprintf(stderr, "cannot read %s: %s\n", qPrintable(file.filePath()), qPrintable(f.errorString()));
                return 1;
            }
            // An exact-size heap copy: a read past the input's end is an AddressSanitizer report.
            const QByteArray content = f.readAll();
            std::fprintf(stderr, "%s\n", qPrintable(file.filePath()));
            auto *input = new uint8_t[size_t(content.size())];
            std::memcpy(input, content.constData(), size_t(content.size()));
            it->second(input, size_t(content.size()));
            delete[] input;
            ++ran;
        }
        if (i == 2 && ran == 0) {
            std::fprintf(stderr, "no seed inputs in %s\n", argv[i]);
            return 1;
        }
        total += ran;
    }
    std::printf("%s: %d inputs, no crash\n", argv[1], total);
    return 0;
}
