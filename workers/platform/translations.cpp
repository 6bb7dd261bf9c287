#include "platform/translations.h"

#include <QCoreApplication>
#include <QLibraryInfo>
#include <QLocale>
#include <QTranslator>

#include <memory>

namespace quire {

namespace {

QString resourceFolder()
{
    return QStringLiteral(":/i18n");
}

// Loads one translator (load() returns false when there is nothing to install) and installs it,
// owned by the application object.
template <typename Load>
void install(QStringList &loaded, Load load)
{
    auto translator = std::make_unique<QTranslator>(QCoreApplication::instance());
    if (!load(*translator) || !QCoreApplication::installTranslator(translator.get()))
        return;
    loaded << translator->filePath();
    translator.release();
}

} // namespace

QStringList installTranslations()
{
    Q_ASSERT(QCoreApplication::instance());
    QStringList loaded;
    const QLocale locale = QLocale::system();
    const QString sourceLanguage = resourceFolder() + QStringLiteral("/quire_en.qm");
    install(loaded, [&](QTranslator &t) { return t.load(sourceLanguage); });
    install(loaded, [&](QTranslator &t) {
        return t.load(locale, QStringLiteral("qtbase"), QStringLiteral("_"),
                      QLibraryInfo::path(QLibraryInfo::TranslationsPath));
    });
    // An English reader's file is the source language's, installed already.
    install(loaded, [&](QTranslator &t) {
        return t.load(locale, QStringLiteral("quire"), QStringLiteral("_"), resourceFolder())
            && t.filePath() != sourceLanguage;
    });
    return loaded;
}

} // namespace quire
