#pragma once

#include "remotes/remote.h"

#include <QFrame>
#include <QString>

class QLabel;
class QPushButton;

namespace quire {

// The bar above the document list that reports a problem of a remote once (an untrusted or
// changed certificate, a refused password, an unreachable server) instead of one error per
// document, with the action that fixes it: "Trust Certificate…", "Enter Password…" or
// "Edit Remote…". The documents wait meanwhile. Text from servers is shown as plain text.
// GUI thread only.
class RemoteProblemBar final : public QFrame
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RemoteProblemBar)
public:
    explicit RemoteProblemBar(QWidget *parent = nullptr);

    void showProblem(const QString &remote, const RemoteError &error, int waitingCollections);
    void dismiss();
    QString remote() const { return m_remote; }
    QPushButton *fixButton() const { return m_fix; }
    QString text() const;

Q_SIGNALS:
    // The person chose the fix for remote (open its settings; for a certificate, test it).
    void fixRequested(const QString &remote, quire::RemoteError::Problem problem);

private:
    QLabel *m_text = nullptr;
    QPushButton *m_fix = nullptr;
    QPushButton *m_close = nullptr;
    QString m_remote;
    RemoteError::Problem m_problem = RemoteError::Problem::None;
};

} // namespace quire
