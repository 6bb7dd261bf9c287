#include "common/icons.h"

#include <QGuiApplication>
#include <QIconEngine>
#include <QPainter>
#include <QPalette>
#include <QPixmapCache>

// The icons are compiled into an object library that ends up in a static archive; nothing
// would pull its registration in without this reference.
static void initIconResources()
{
    static const bool done = [] {
        Q_INIT_RESOURCE(quire_icons);
        return true;
    }();
    Q_UNUSED(done);
}

namespace quire {

namespace {

class TintedIconEngine final : public QIconEngine
{
public:
    explicit TintedIconEngine(QString path)
        : m_path(std::move(path))
        , m_source(m_path)
    {
    }

    void paint(QPainter *painter, const QRect &rect, QIcon::Mode mode, QIcon::State state) override
    {
        const qreal dpr = painter->device() ? painter->device()->devicePixelRatioF() : 1.0;
        painter->drawPixmap(rect, scaledPixmap(rect.size() * dpr, mode, state, dpr));
    }

    QPixmap pixmap(const QSize &size, QIcon::Mode mode, QIcon::State state) override
    {
        return scaledPixmap(size, mode, state, 1.0);
    }

    // As QIcon::pixmap() calls it in Qt 6: `size` is already in device pixels; `scale` only
    // says which device pixel ratio it is for.
    QPixmap scaledPixmap(const QSize &size, QIcon::Mode mode, QIcon::State state, qreal scale) override
    {
        const QColor color = tint(mode);
        const QString key = QStringLiteral("quire-icon:%1:%2x%3@%4:%5")
                                .arg(m_path).arg(size.width()).arg(size.height())
                                .arg(scale).arg(color.rgba(), 0, 16);
        QPixmap cached;
        if (QPixmapCache::find(key, &cached))
            return cached;

        // The SVG rendered at the physical size, so that 200 % is as sharp as 100 %.
        QPixmap pm = m_source.pixmap(size, 1.0, QIcon::Normal, state);
        if (pm.isNull())
            return pm;
        QPainter p(&pm);
        p.setCompositionMode(QPainter::CompositionMode_SourceIn);
        p.fillRect(pm.rect(), color);
        p.end();
        pm.setDevicePixelRatio(scale);
        QPixmapCache::insert(key, pm);
        return pm;
    }

    QSize actualSize(const QSize &size, QIcon::Mode, QIcon::State) override { return size; }
    QIconEngine *clone() const override { return new TintedIconEngine(m_path); }
    QString key() const override { return QStringLiteral("quire-tinted"); }

private:
    static QColor tint(QIcon::Mode mode)
    {
        const QPalette pal = QGuiApplication::palette();
        switch (mode) {
        case QIcon::Disabled:
            return pal.color(QPalette::Disabled, QPalette::ButtonText);
        case QIcon::Selected:
            return pal.color(QPalette::Active, QPalette::HighlightedText);
        default:
            return pal.color(QPalette::Active, QPalette::ButtonText);
        }
    }

    QString m_path;
    QIcon m_source;
};

QString pathOf(const QString &name)
{
    initIconResources();
    return QStringLiteral(":/icons/%1.svg").arg(name);
}

} // namespace

QIcon Icons::glyph(const QString &name)
{
    return QIcon(new TintedIconEngine(pathOf(name)));
}

QIcon Icons::colored(const QString &name)
{
    return QIcon(pathOf(name));
}

} // namespace quire
