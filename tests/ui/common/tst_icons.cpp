// ctest-labels: ui
#include "common/icons.h"

#include <QApplication>
#include <QDir>
#include <QImage>
#include <QPalette>
#include <QPixmap>
#include <QTest>

using namespace quire;

namespace {

// The colour of the most opaque pixel (the glyph's stroke).
QColor inkOf(const QPixmap &pm)
{
    const QImage img = pm.toImage().convertToFormat(QImage::Format_ARGB32);
    QColor best(Qt::transparent);
    for (int y = 0; y < img.height(); ++y) {
        for (int x = 0; x < img.width(); ++x) {
            const QColor c = img.pixelColor(x, y);
            if (c.alpha() > best.alpha())
                best = c;
        }
    }
    return best;
}

} // namespace

class tst_UiIcons final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyIconRendersAtEveryScale_data();
    void everyIconRendersAtEveryScale();
    void glyphsFollowThePalette();
};

void tst_UiIcons::everyIconRendersAtEveryScale_data()
{
    QTest::addColumn<QString>("name");
    // Registers the resources (they live in a static library).
    (void)Icons::colored(QStringLiteral("quire"));
    const QStringList files = QDir(QStringLiteral(":/icons")).entryList({QStringLiteral("*.svg")});
    QVERIFY(files.size() >= 25);
    for (const QString &f : files)
        QTest::newRow(qPrintable(f)) << f.chopped(4);
}

void tst_UiIcons::everyIconRendersAtEveryScale()
{
    QFETCH(QString, name);
    for (const qreal dpr : {1.0, 1.5, 2.0}) {
        for (const QIcon &icon : {Icons::glyph(name), Icons::colored(name)}) {
            const QPixmap pm = icon.pixmap(QSize(24, 24), dpr);
            QVERIFY2(!pm.isNull(), qPrintable(name));
            // Rendered at the physical size (sharp), not scaled up from 24 px.
            QCOMPARE(pm.size(), QSize(qRound(24 * dpr), qRound(24 * dpr)));
            QCOMPARE(pm.devicePixelRatio(), dpr);
            QVERIFY2(inkOf(pm).alpha() > 200, qPrintable(name));
        }
    }
}

void tst_UiIcons::glyphsFollowThePalette()
{
    const QPalette original = QApplication::palette();
    const QIcon icon = Icons::glyph(QStringLiteral("copy"));

    QPalette light = original;
    light.setColor(QPalette::ButtonText, QColor(0x20, 0x20, 0x20));
    light.setColor(QPalette::HighlightedText, Qt::white);
    QApplication::setPalette(light);
    QCOMPARE(inkOf(icon.pixmap(QSize(32, 32))).rgb(), QColor(0x20, 0x20, 0x20).rgb());
    QCOMPARE(inkOf(icon.pixmap(QSize(32, 32), QIcon::Selected)).rgb(), QColor(Qt::white).rgb());

    QPalette dark = original;
    dark.setColor(QPalette::ButtonText, QColor(0xee, 0xee, 0xee));
    dark.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x70, 0x70, 0x70));
    QApplication::setPalette(dark);
    // Same QIcon object: the colour is taken when painting, so a palette change needs no reload.
    QCOMPARE(inkOf(icon.pixmap(QSize(32, 32))).rgb(), QColor(0xee, 0xee, 0xee).rgb());
    QCOMPARE(inkOf(icon.pixmap(QSize(32, 32), QIcon::Disabled)).rgb(), QColor(0x70, 0x70, 0x70).rgb());

    QApplication::setPalette(original);
}

QTEST_MAIN(tst_UiIcons)
#include "tst_icons.moc"
