#include "common/formwidgets.h"

#include <QLabel>
#include <QPalette>
#include <QProgressBar>
#include <QPushButton>

namespace quire {

QColor toneColor(const QPalette &palette, bool error)
{
    const bool dark = palette.color(QPalette::Base).lightness() < 128;
    if (error)
        return dark ? QColor(0xff, 0x8a, 0x80) : QColor(0xc6, 0x28, 0x28);
    return dark ? QColor(0x81, 0xc7, 0x84) : QColor(0x2e, 0x7d, 0x32);
}

void setToneText(QLabel *label, const QPalette &palette, Tone tone, const QString &text)
{
    QPalette colours = label->palette();
    colours.setColor(QPalette::WindowText, tone == Tone::Hint ? palette.color(QPalette::PlaceholderText)
                                                              : toneColor(palette, tone == Tone::Error));
    label->setPalette(colours);
    label->setText(text);
}

QLabel *newMessageLabel(QWidget *parent, const char *objectName)
{
    auto *label = new QLabel(parent);
    label->setObjectName(QLatin1String(objectName));
    label->setWordWrap(true);
    label->setTextFormat(Qt::PlainText);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return label;
}

QProgressBar *newBusyBar(QWidget *parent, const char *objectName, int lineHeight)
{
    auto *bar = new QProgressBar(parent);
    bar->setObjectName(QLatin1String(objectName));
    bar->setRange(0, 0);
    bar->setTextVisible(false);
    bar->setFixedWidth(60);
    bar->setMaximumHeight(lineHeight);
    bar->hide();
    return bar;
}

QPushButton *newFormButton(const QString &text, const char *objectName, const QString &toolTip, QWidget *parent)
{
    auto *button = new QPushButton(text, parent);
    if (objectName)
        button->setObjectName(QLatin1String(objectName));
    button->setToolTip(toolTip);
    button->setAutoDefault(false);
    return button;
}

} // namespace quire
