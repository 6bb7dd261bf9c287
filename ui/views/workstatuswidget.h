#pragma once

#include "catalog/catalogservice.h"
#include "upload/uploadjob.h"

#include <QElapsedTimer>
#include <QIcon>
#include <QTimer>
#include <QWidget>

#include <deque>

class QLabel;
class QProgressBar;
class QToolButton;

namespace quire {

class UploadQueue;

// The status bar's view of all running work, ingest and uploads: files and bytes done of the
// total, speed, time left, and Pause/Resume and Cancel for all of it. Redraws on a timer (4 times
// a second) rather than on every progress signal, so the number of jobs or files never matters.
// Uploads are shown once an upload queue is set (the figures are the running upload job's own:
// its recent speed and its estimate of the time left).
class WorkStatusWidget final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WorkStatusWidget)
public:
    explicit WorkStatusWidget(CatalogService &service, QWidget *parent = nullptr);
    ~WorkStatusWidget() override;

    // Also follows the queue's uploads (before any work starts; the queue outlives the widget).
    void setUploadQueue(UploadQueue *queue);
    // Applies one upload progress report (normally UploadQueue::progressChanged).
    void setUploadProgress(const quire::UploadProgress &progress);

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
    bool isPaused() const;
    QString ingestText(const WorkSummary &s, double speed) const;
    QString uploadText(const UploadProgress &p) const;

    CatalogService &m_service;
    UploadQueue *m_uploads = nullptr;
    UploadProgress m_upload;
    bool m_showingWork = false;
    QProgressBar *m_bar = nullptr;
    QLabel *m_label = nullptr;
    QToolButton *m_pause = nullptr;
    QToolButton *m_cancel = nullptr;
    QTimer m_timer;
    QIcon m_pauseIcon;
    QIcon m_resumeIcon;
    struct Sample
    {
        qint64 ms;
        qint64 bytes;
    };
    std::deque<Sample> m_samples;   // the last few seconds, for the speed
};

} // namespace quire
