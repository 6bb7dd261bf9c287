#pragma once

#include <QColor>
#include <QString>

class QLabel;
class QPalette;
class QProgressBar;
class QPushButton;
class QWidget;

namespace quire {

// Pieces the dialogs' forms share: the line that says how an operation went, the busy bar beside
// it, and buttons that Return does not press.

// How a form's message reads: a hint (the placeholder grey), a success (green), an error (red).
enum class Tone { Hint, Success, Error };

// Green, or red for an error, readable on light and dark backgrounds alike (the palette's base
// colour tells which).
QColor toneColor(const QPalette &palette, bool error);

// Shows text in label in the colour of tone; palette: the form's (its placeholder grey, its base).
void setToneText(QLabel *label, const QPalette &palette, Tone tone, const QString &text);

// A label for messages that quote servers and files: plain text, wrapped, selectable.
QLabel *newMessageLabel(QWidget *parent, const char *objectName);

// A hidden busy bar (it shows no amount, it only moves): 60 pixels wide, at most lineHeight tall.
QProgressBar *newBusyBar(QWidget *parent, const char *objectName, int lineHeight);

// A button that is not auto-default: Return in the form still presses the dialog's default
// button. objectName and toolTip may be empty.
QPushButton *newFormButton(const QString &text, const char *objectName, const QString &toolTip, QWidget *parent);

} // namespace quire
