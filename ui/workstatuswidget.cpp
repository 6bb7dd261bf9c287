#include "workstatuswidget.h"

#include "format.h"
#include "icons.h"
#include "responsivenessmonitor.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QToolButton>

namespace quire {

namespace {
constexpr int kUpdateMs = 250;
constexpr qint64 kSpeedWindowMs = 5000;
} // namespace

WorkStatusWidget::WorkStatusWidget(CatalogService &service, QWidget *parent)
    : QWidget(parent)
    , m_service(service)
    , m_pauseIcon(Icons::glyph(QStringLiteral("pause")))
    , m_resumeIcon(Icons::glyph(QStringLiteral("resume")))
{
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_label = new QLabel(this);
    m_bar = new QProgressBar(this);
    m_bar->setRange(0, 1000);
    m_bar->setTextVisible(false);
    m_bar->setFixedWidth(160);
    m_bar->setMaximumHeight(fontMetrics().height());
    m_pause = new QToolButton(this);
    m_pause->setAutoRaise(true);
    m_pause->setObjectName(QStringLiteral("pauseAllButton"));
    m_cancel = new QToolButton(this);
    m_cancel->setAutoRaise(true);
    m_cancel->setObjectName(QStringLiteral("cancelAllButton"));
    m_cancel->setIcon(Icons::glyph(QStringLiteral("cancel")));
    m_cancel->setToolTip(tr("Cancel all running work"));
    layout->addWidget(m_label);
    layout->addWidget(m_bar);
    layout->addWidget(m_pause);
    layout->addWidget(m_cancel);

    connect(m_pause, &QToolButton::clicked, this, [this] { m_service.setPaused(!m_service.isPaused()); });
    connect(m_cancel, &QToolButton::clicked, this, [this] { m_service.cancelAll(); });
    m_timer.setInterval(kUpdateMs);
    connect(&m_timer, &QTimer::timeout, this, &WorkStatusWidget::update);
    connect(&m_service, &CatalogService::workChanged, this, &WorkStatusWidget::onWorkChanged);
    connect(&m_service, &CatalogService::idle, this, &WorkStatusWidget::onIdle);
    connect(&m_service, &CatalogService::pausedChanged, this, &WorkStatusWidget::update);
    setVisible(false);
}

WorkStatusWidget::~WorkStatusWidget() = default;

QString WorkStatusWidget::text() const
{
    return m_label->text();
}

void WorkStatusWidget::onWorkChanged()
{
    if (!m_service.isBusy())
        return;
    if (!m_timer.isActive()) {
        m_samples.clear();
        m_timer.start();
        setVisible(true);
        update();
    }
}

void WorkStatusWidget::onIdle()
{
    m_timer.stop();
    m_samples.clear();
    setVisible(false);
}

void WorkStatusWidget::update()
{
    ResponsivenessMonitor::Activity activity("WorkStatusWidget::update");
    const WorkSummary s = m_service.summary();
    m_samples.push_back({s.elapsedMs, s.bytesDone});
    while (m_samples.size() > 2 && m_samples.front().ms < s.elapsedMs - kSpeedWindowMs)
        m_samples.pop_front();
    double speed = 0;
    if (m_samples.size() >= 2) {
        const Sample &a = m_samples.front();
        const Sample &b = m_samples.back();
        if (b.ms > a.ms)
            speed = double(b.bytes - a.bytes) * 1000.0 / double(b.ms - a.ms);
    }

    QStringList parts;
    parts << tr("%1 of %2 files").arg(Format::count(s.filesDone), Format::count(s.filesFound));
    if (s.bytesFound > 0)
        parts << tr("%1 of %2").arg(Format::bytes(s.bytesDone), Format::bytes(s.bytesFound));
    if (s.paused) {
        parts << tr("paused");
    } else {
        if (speed > 0)
            parts << Format::speed(speed);
        if (s.walking)
            parts << tr("still looking for files");
        else if (speed > 0 && s.bytesFound > s.bytesDone) {
            const auto left = qint64(double(s.bytesFound - s.bytesDone) * 1000.0 / speed);
            parts << (left < 1000 ? tr("almost done") : tr("about %1 left").arg(Format::duration(left)));
        }
    }
    if (s.filesFailed > 0)
        parts << tr("%n failed", nullptr, int(std::min<qint64>(s.filesFailed, INT_MAX)));
    m_label->setText(parts.join(QStringLiteral(" · ")));

    // Bytes measure the work better than files (one big file is most of it), when known.
    const double fraction = s.bytesFound > 0 ? double(s.bytesDone) / double(s.bytesFound)
        : s.filesFound > 0 ? double(s.filesDone) / double(s.filesFound) : 0.0;
    if (s.walking && s.filesFound == 0)
        m_bar->setRange(0, 0);   // busy indicator until something is found
    else {
        m_bar->setRange(0, 1000);
        m_bar->setValue(int(std::clamp(fraction, 0.0, 1.0) * 1000));
    }
    m_pause->setIcon(s.paused ? m_resumeIcon : m_pauseIcon);
    m_pause->setToolTip(s.paused ? tr("Resume all work") : tr("Pause all work"));
}

} // namespace quire
