#include "views/remoteproblembar.h"

#include "common/plaintext.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>

namespace quire {

RemoteProblemBar::RemoteProblemBar(QWidget *parent) : QFrame(parent)
{
    setObjectName(QStringLiteral("remoteProblemBar"));
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true);
    QPalette p = palette();
    const bool dark = p.color(QPalette::Base).lightness() < 128;
    p.setColor(QPalette::Window, dark ? QColor(0x5d, 0x40, 0x37) : QColor(0xff, 0xf3, 0xe0));
    setPalette(p);
    auto *row = new QHBoxLayout(this);
    row->setContentsMargins(8, 4, 4, 4);
    m_text = new QLabel(this);
    m_text->setObjectName(QStringLiteral("remoteProblemText"));
    m_text->setTextFormat(Qt::PlainText);
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    row->addWidget(m_text, 1);
    m_fix = new QPushButton(this);
    m_fix->setObjectName(QStringLiteral("remoteProblemFix"));
    m_fix->setAutoDefault(false);
    row->addWidget(m_fix, 0, Qt::AlignVCenter);
    m_close = new QPushButton(tr("Dismiss"), this);
    m_close->setAutoDefault(false);
    m_close->setToolTip(tr("Hide this message; the documents keep waiting"));
    row->addWidget(m_close, 0, Qt::AlignVCenter);
    connect(m_fix, &QPushButton::clicked, this, [this] { Q_EMIT fixRequested(m_remote, m_problem); });
    connect(m_close, &QPushButton::clicked, this, &RemoteProblemBar::dismiss);
    hide();
}

void RemoteProblemBar::showProblem(const QString &remote, const RemoteError &error, int waitingCollections)
{
    m_remote = remote;
    m_problem = error.problem;
    switch (error.problem) {
    case RemoteError::Problem::Untrusted:
    case RemoteError::Problem::CertificateChanged:
        m_fix->setText(tr("&Trust Certificate…"));
        break;
    case RemoteError::Problem::Credentials:
        m_fix->setText(tr("Enter &Password…"));
        break;
    default:
        m_fix->setText(tr("&Edit Remote…"));
        break;
    }
    // Said for the window (the message itself names command-line fixes); the whole message, as
    // the command line prints it, is the tooltip. Both plain text: parts come from the server.
    const net::CertificateInfo &cert = error.certificate;
    const QString shown = cert.isValid() ? tr("%1, SHA-256 %2").arg(cert.subject, QString::fromLatin1(cert.sha256)) : QString();
    QString what;
    switch (error.problem) {
    case RemoteError::Problem::Untrusted:
        what = cert.isValid() ? tr("its server shows a certificate this computer does not trust (%1). If it is "
                                   "your server's, trust it.").arg(shown)
                              : error.message;
        break;
    case RemoteError::Problem::CertificateChanged:
        what = tr("its server's certificate changed since you trusted it (now %1). Trust the new one only "
                  "if you replaced it; otherwise someone may be intercepting the connection.")
                   .arg(cert.isValid() ? shown : tr("unknown"));
        break;
    case RemoteError::Problem::Credentials:
        what = tr("the server did not accept the user name and password, or none is stored.");
        break;
    case RemoteError::Problem::Unreachable:
        what = tr("the server cannot be reached. Check the address, or whether it is running.");
        break;
    case RemoteError::Problem::None:
        what = error.message;
        break;
    }
    m_text->setText(tr("Remote “%1”: %2\nDocuments of %n collection(s) wait until this is fixed.", nullptr,
                       waitingCollections)
                        .arg(remote, what));
    m_text->setToolTip(plainToolTip(error.message));
    show();
}

void RemoteProblemBar::dismiss()
{
    m_remote.clear();
    m_problem = RemoteError::Problem::None;
    hide();
}

QString RemoteProblemBar::text() const
{
    return m_text->text();
}

} // namespace quire
