#pragma once

#include <QMessageBox>
#include <QString>

class QWidget;

namespace quire {

// Text that comes from files, servers or the catalog (file names, paths, collection and remote
// names, error messages) is data: shown exactly as it is, never read as markup. Qt guesses
// (Qt::mightBeRichText()) in tooltips, message boxes and labels left at Qt::AutoText, so that a
// file named "<b>x</b><img src=y>" or an HTML error page would otherwise be rendered. Labels
// that show such text get setTextFormat(Qt::PlainText); the rest goes through these helpers.
// Fixed sentences that use markup on purpose embed data with QString::toHtmlEscaped().

// A tooltip (QWidget, QAction, QTreeWidgetItem, an item model's Qt::ToolTipRole) that shows
// `text` literally: escaped, its line breaks kept and lines longer than 80 characters wrapped.
// Empty stays empty (no tooltip).
QString plainToolTip(const QString &text);

// A message box whose text and informative text (none when empty) are plain text; its detailed
// text always is.
QMessageBox *plainMessageBox(QMessageBox::Icon icon, const QString &title, const QString &text,
                             const QString &informativeText, QMessageBox::StandardButtons buttons,
                             QWidget *parent);

// For a menu item, a button or a label with a buddy, where '&' marks the shortcut key: the
// text with every '&' shown as itself.
QString literalMnemonic(const QString &text);

// For QWidget::setWindowTitle(), where "[*]" stands for the "modified" mark.
QString literalWindowTitle(const QString &text);

} // namespace quire
