#pragma once

#include "catalog/catalogservice.h"
#include "common/icons.h"
#include "upload/uploadjob.h"

#include <QElapsedTimer>
#include <QTimer>
#include <QWidget>

#include <deque>

class QLabel;
class QProgressBar;
class QToolButton;

namespace quire {

class UploadController;

// The status bar's view of all running work, ingest and uploads: files and bytes done of the
// total, speed, time left, and Pause/Resume and Cancel for all of it. Redraws on a timer (4 times
// a second) rather than on every progress signal, so the number of jobs or files never matters.
// Uploads are shown once an upload controller is set (the figures are the running upload job's
// own: its recent speed and its estimate of the time left).
class WorkStatusWidget final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WorkStatusWidget)
public:
    explicit WorkStatusWidget(CatalogService &service, QWidget *parent = nullptr);
    ~WorkStatusWidget() override;

    // Also follows the controller's uploads (before any work starts; the controller outlives
    // the widget).
    void setUploads(UploadController *uploads);
    // Applies one upload progress report (normally UploadController::progressChanged).
    void setUploadProgress(const quire::UploadProgress &progress);

    // What the Pause/Resume and Cancel buttons do (also View › Pause All and Cancel All): for
    // ingest and uploads together. Paused: either of them is.
    void pauseOrResumeAll();
    void cancelAll();
    bool isPaused() const;

    QString text() const;
    bool isUploading() const;
    // Work is shown (else the widget is collapsed to no width, its buttons disabled).
    bool isShowingWork() const { return m_showingWork; }
    QToolButton *pauseButton() const { return m_pause; }
    QToolButton *cancelButton() const { return m_cancel; }

private:
    void update();
    void onWorkChanged();
    void onIdle();
    void setShowingWork(bool on);
    QString ingestText(const WorkSummary &s, double speed) const;
    QString uploadText(const UploadProgress &p) const;

    CatalogService &m_service;
    UploadController *m_uploads = nullptr;
    UploadProgress m_upload;
    bool m_showingWork = false;
    QProgressBar *m_bar = nullptr;
    QLabel *m_label = nullptr;
    QToolButton *m_pause = nullptr;
    QToolButton *m_cancel = nullptr;
    QTimer m_timer;
    const QIcon m_pauseIcon = Icons::glyph(QStringLiteral("pause"));
    const QIcon m_resumeIcon = Icons::glyph(QStringLiteral("resume"));
    struct Sample
    {
        qint64 ms;
        qint64 bytes;
    };
    std::deque<Sample> m_samples;   // the last few seconds, for the speed
};

} // namespace quire
