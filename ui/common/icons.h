#pragma once

#include <QIcon>
#include <QString>

namespace quire {

// The application's icons, compiled in from resources/icons/*.svg.
//
// Glyph icons are drawn in black in the SVG files and tinted when painted with the current
// palette's text colour (highlighted text when selected, the disabled colour when disabled),
// so they follow light and dark palettes and stay sharp at any device pixel ratio (the SVG is
// rendered at the physical size). Status badges keep their own colours.
class Icons final
{
public:
    static QIcon glyph(const QString &name);    // ":/icons/<name>.svg", tinted
    static QIcon colored(const QString &name);  // ":/icons/<name>.svg", as drawn
};

} // namespace quire
