#include "views/workstatuswidget.h"

#include "common/format.h"
#include "common/icons.h"
#include "common/responsivenessmonitor.h"
#include "upload/uploadcontroller.h"

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
{
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    // Collapsed to no width while idle (setShowingWork()): the layout must not hold it open.
    layout->setSizeConstraint(QLayout::SetNoConstraint);
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

    connect(m_pause, &QToolButton::clicked, this, &WorkStatusWidget::pauseOrResumeAll);
    connect(m_cancel, &QToolButton::clicked, this, &WorkStatusWidget::cancelAll);
    m_timer.setInterval(kUpdateMs);
    connect(&m_timer, &QTimer::timeout, this, &WorkStatusWidget::update);
    connect(&m_service, &CatalogService::workChanged, this, &WorkStatusWidget::onWorkChanged);
    connect(&m_service, &CatalogService::idle, this, &WorkStatusWidget::onIdle);
    connect(&m_service, &CatalogService::pausedChanged, this, &WorkStatusWidget::update);
    setShowingWork(false);
}

WorkStatusWidget::~WorkStatusWidget() = default;

void WorkStatusWidget::setUploads(UploadController *uploads)
{
    if (m_uploads)
        disconnect(m_uploads, nullptr, this, nullptr);
    m_uploads = uploads;
    m_upload = {};
    if (!uploads)
        return;
    connect(uploads, &UploadController::progressChanged, this, &WorkStatusWidget::setUploadProgress);
    connect(uploads, &UploadController::pausedChanged, this, &WorkStatusWidget::update);
    connect(uploads, &UploadController::idle, this, [this] {
        m_upload = {};
        onIdle();
    });
}

void WorkStatusWidget::pauseOrResumeAll()
{
    const bool pause = !isPaused();
    m_service.setPaused(pause);
    if (m_uploads)
        pause ? m_uploads->pauseAll() : m_uploads->resumeAll();
}

void WorkStatusWidget::cancelAll()
{
    m_service.cancelAll();
    if (m_uploads && m_uploads->isBusy())
        m_uploads->cancelAll();
}

void WorkStatusWidget::setUploadProgress(const UploadProgress &progress)
{
    m_upload = progress;
    onWorkChanged();
}

QString WorkStatusWidget::text() const
{
    return m_label->text();
}

bool WorkStatusWidget::isUploading() const
{
    // A job that found nothing to upload is not worth a status bar.
    return m_upload.filesTotal > 0 && m_upload.filesDone < m_upload.filesTotal;
}

bool WorkStatusWidget::isPaused() const
{
    return m_service.isPaused() || (m_uploads && m_uploads->isPaused());
}

void WorkStatusWidget::onWorkChanged()
{
    if (!m_service.isBusy() && !isUploading())
        return;
    if (!m_timer.isActive()) {
        m_samples.clear();
        m_timer.start();
        setShowingWork(true);
        update();
    }
}

void WorkStatusWidget::onIdle()
{
    if (m_service.isBusy() || isUploading())
        return;   // the other kind of work still runs
    m_timer.stop();
    m_samples.clear();
    setShowingWork(false);
}

void WorkStatusWidget::setShowingWork(bool on)
{
    // Collapsed rather than hidden: showing a widget while the pointer is over the window makes
    // Qt ask the window system where the pointer is (QApplicationPrivate::sendSyntheticEnterLeave
    // calls QCursor::pos(), a round trip to the X server), which took 20-30 ms while hashing or
    // uploads kept the cores busy. A width change asks the window system nothing.
    m_showingWork = on;
    // Ignored: the status bar's layout then takes neither its size hint nor its minimum.
    setSizePolicy(on ? QSizePolicy::Preferred : QSizePolicy::Ignored, QSizePolicy::Preferred);
    setMaximumWidth(on ? QWIDGETSIZE_MAX : 0);
    m_pause->setEnabled(on);
    m_cancel->setEnabled(on);
    if (!on) {
        m_label->clear();
        // A busy indicator (range 0..0, set while files were still being looked for) would keep
        // animating at no width.
        m_bar->setRange(0, 1000);
        m_bar->setValue(0);
    }
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

    const bool ingesting = m_service.isBusy();
    const bool uploading = isUploading();
    QStringList lines;
    if (ingesting)
        lines << (uploading ? tr("Adding %1").arg(ingestText(s, speed)) : ingestText(s, speed));
    if (uploading)
        lines << uploadText(m_upload);
    m_label->setText(lines.join(QStringLiteral(" — ")));

    if (ingesting) {
        // Bytes measure the work better than files (one big file is most of it), when known.
        const double fraction = s.bytesFound > 0 ? double(s.bytesDone) / double(s.bytesFound)
            : s.filesFound > 0 ? double(s.filesDone) / double(s.filesFound) : 0.0;
        if (s.walking && s.filesFound == 0)
            m_bar->setRange(0, 0);   // busy indicator until something is found
        else {
            m_bar->setRange(0, 1000);
            m_bar->setValue(int(std::clamp(fraction, 0.0, 1.0) * 1000));
        }
    } else if (uploading) {
        const UploadProgress &p = m_upload;
        const double fraction = p.bytesTotal > 0 ? double(p.bytesDone) / double(p.bytesTotal)
            : p.filesTotal > 0 ? double(p.filesDone) / double(p.filesTotal) : 0.0;
        m_bar->setRange(0, 1000);
        m_bar->setValue(int(std::clamp(fraction, 0.0, 1.0) * 1000));
    }
    const bool paused = isPaused();
    m_pause->setIcon(paused ? m_resumeIcon : m_pauseIcon);
    m_pause->setToolTip(paused ? tr("Resume all work") : tr("Pause all work"));
}

QString WorkStatusWidget::ingestText(const WorkSummary &s, double speed) const
{
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
    return parts.join(QStringLiteral(" · "));
}

QString WorkStatusWidget::uploadText(const UploadProgress &p) const
{
    QStringList parts;
    parts << tr("Uploading %1 of %2 files").arg(Format::count(p.filesDone), Format::count(p.filesTotal));
    if (p.bytesTotal > 0)
        parts << tr("%1 of %2").arg(Format::bytes(p.bytesDone), Format::bytes(p.bytesTotal));
    if (p.paused || (m_uploads && m_uploads->isPaused())) {
        parts << tr("paused");
    } else {
        if (p.bytesPerSecond > 0)
            parts << Format::speed(p.bytesPerSecond);
        if (p.etaMs >= 0)
            parts << (p.etaMs < 1000 ? tr("almost done") : tr("about %1 left").arg(Format::duration(p.etaMs)));
    }
    if (p.filesFailed > 0)
        parts << tr("%1 failed").arg(Format::count(p.filesFailed));
    return parts.join(QStringLiteral(" · "));
}

} // namespace quire
