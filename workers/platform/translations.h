#pragma once

#include <QStringList>

namespace quire {

// Installs the translations of Quire's messages on the application object, which must exist.
// A translation applies to the texts built after it is installed: call this before any message
// is built. The languages are the ones the user reads, in their order of preference
// (QLocale::system().uiLanguages(): on Unix $LANGUAGE, then $LC_ALL, $LC_MESSAGES, $LANG; the
// system's settings elsewhere). Installed, the later ones looked up first:
// - quire_en.qm from :/i18n/, always: the plural forms (%n) of the source language, so that
//   English reads the same whatever the locale;
// - Qt's own messages (qtbase_<language>.qm in Qt's translations folder), where installed;
// - :/i18n/quire_<language>.qm for the first of the user's languages that has one, "qps" being
//   the pseudo-translation (every text as "[ǫ text ǫ]": LANGUAGE=qps quire ...).
// The files under :/i18n/ are the resource quire_translations (resources/CMakeLists.txt), which
// the program registers first: Q_INIT_RESOURCE(quire_translations). Returns the files loaded,
// in the order above.
QStringList installTranslations();

} // namespace quire
