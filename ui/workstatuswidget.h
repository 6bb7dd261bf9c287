#pragma once

#include "catalogservice.h"

#include <QElapsedTimer>
#include <QIcon>
#include <QTimer>
#include <QWidget>

#include <deque>

class QLabel;
class QProgressBar;
class QToolButton;

namespace quire {

// The status bar's view of all running ingest work: files and bytes done of the total, speed,
// time left, and Pause/Resume and Cancel for all of it. Redraws on a timer (4 times a second)
// rather than on every progress signal, so the number of jobs or files never matters.
class WorkStatusWidget final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WorkStatusWidget)
public:
    explicit WorkStatusWidget(CatalogService &service, QWidget *parent = nullptr);
    ~WorkStatusWidget() override;

    QString text() const;
    QToolButton *pauseButton() const { return m_pause; }
    QToolButton *cancelButton() const { return m_cancel; }

private:
    void update();
    void onWorkChanged();
    void onIdle();

    CatalogService &m_service;
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
