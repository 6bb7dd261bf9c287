#include "common/plaintext.h"

#include <QLabel>
#include <QStringTokenizer>

namespace quire {

QString plainToolTip(const QString &text)
{
    if (text.isEmpty())
        return {};
    // Escaped, so nothing in it is a tag or an entity; line breaks and spaces are kept. QToolTip
    // lays rich text out at a width of its own choosing (QTextDocument::adjustSize()), often
    // narrower than a line: lines that fit a tooltip are not wrapped, longer ones wrap at spaces.
    constexpr qsizetype kUnwrappedLine = 80;
    bool wrap = false;
    for (const auto line : QStringTokenizer(text, u'\n'))
        wrap = wrap || line.size() > kUnwrappedLine;
    return QStringLiteral("<p style='white-space:%1'>%2</p>")
        .arg(wrap ? QStringLiteral("pre-wrap") : QStringLiteral("pre"), text.toHtmlEscaped());
}

QMessageBox *plainMessageBox(QMessageBox::Icon icon, const QString &title, const QString &text,
                             const QString &informativeText, QMessageBox::StandardButtons buttons,
                             QWidget *parent)
{
    auto *box = new QMessageBox(icon, title, text, buttons, parent);
    box->setTextFormat(Qt::PlainText);
    box->setInformativeText(informativeText);
    // Not every Qt version gives the informative text the box's text format.
    if (auto *informative = box->findChild<QLabel *>(QStringLiteral("qt_msgbox_informativelabel")))
        informative->setTextFormat(Qt::PlainText);
    return box;
}

QString literalMnemonic(const QString &text)
{
    return QString(text).replace(QLatin1Char('&'), QLatin1String("&&"));
}

QString literalWindowTitle(const QString &text)
{
    // "[*][*]" is shown as "[*]" (qt_setWindowTitle_helperHelper).
    return QString(text).replace(QLatin1String("[*]"), QLatin1String("[*][*]"));
}

} // namespace quire
