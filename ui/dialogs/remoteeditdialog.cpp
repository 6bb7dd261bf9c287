#include "dialogs/remoteeditdialog.h"

#include "settings/credentials.h"
#include "net/http.h"
#include "common/plaintext.h"
#include "dialogs/remotetester.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QUrl>
#include <QVBoxLayout>

namespace quire {

namespace {

const QString kInsecureOption = QStringLiteral("allowInsecureAuth");

} // namespace

RemoteEditDialog::RemoteEditDialog(const std::optional<RemoteProfile> &existing, const QStringList &taken,
                                   QWidget *parent)
    : QDialog(parent)
    , m_existing(existing)
    , m_taken(taken)
{
    setObjectName(QStringLiteral("remoteEditDialog"));
    setWindowTitle(existing ? tr("Edit Remote") : tr("Add Remote"));
    auto *layout = new QVBoxLayout(this);
    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);

    m_name = new QLineEdit(this);
    m_name->setObjectName(QStringLiteral("remoteName"));
    m_name->setPlaceholderText(tr("e.g. nas, backup, archive"));
    m_name->setMaxLength(64);
    form->addRow(tr("&Name:"), m_name);

    m_kind = new QComboBox(this);
    m_kind->setObjectName(QStringLiteral("remoteKind"));
    m_kind->addItem(tr("Local folder"), remoteKindName(RemoteKind::Local));
    m_kind->addItem(tr("WebDAV server"), remoteKindName(RemoteKind::WebDav));
    m_kind->addItem(tr("HTTP collections API"), remoteKindName(RemoteKind::Http));
    m_kind->addItem(tr("S3-compatible object storage"), remoteKindName(RemoteKind::S3));
    form->addRow(tr("&Kind:"), m_kind);

    m_url = addLine(form, QString(), "remoteUrl", QString(), QString(), tr("&Browse…"));
    m_url.edit->setClearButtonEnabled(true);

    // S3: the bucket, a key prefix, the region and the addressing style.
    m_bucket = addLine(form, tr("&Bucket:"), "remoteBucket", tr("e.g. family-documents"));
    m_prefix = addLine(form, tr("Key pre&fix:"), "remotePrefix", tr("none: collections at the top of the bucket"),
                       tr("Objects are stored as <prefix><collection>/<name>."));
    m_region = addLine(form, tr("Re&gion:"), "remoteRegion", tr("from the endpoint, else us-east-1"));
    m_pathStyle = new QCheckBox(tr("Path-style &addressing (endpoint/bucket/)"), this);
    m_pathStyle->setObjectName(QStringLiteral("remotePathStyle"));
    m_pathStyle->setToolTip(tr("For servers that do not serve buckets as <bucket>.<endpoint> (MinIO, Ceph and "
                               "most servers on a home network)."));
    form->addRow(QString(), m_pathStyle);

    m_user = addLine(form, tr("Us&er:"), "remoteUser", tr("none"));
    m_password = addLine(form, tr("&Password:"), "remotePassword",
                         existing && existing->needsSecret() ? tr("unchanged (kept in the system keychain)")
                                                             : tr("kept in the system keychain"),
                         tr("Stored in the system keychain, never in the settings file."));
    m_password.edit->setEchoMode(QLineEdit::Password);

    m_insecure = new QCheckBox(tr("Allow the password over plain &http:// (not encrypted)"), this);
    m_insecure->setObjectName(QStringLiteral("remoteAllowInsecure"));
    m_insecure->setToolTip(tr("Without this, Quire refuses to send a password over http:// to any "
                              "server but this computer."));
    form->addRow(QString(), m_insecure);

    m_caFile = addLine(form, tr("&CA file:"), "remoteCaFile", tr("the system's CA certificates"),
                       tr("https: a PEM file with the CA certificates to trust for this server instead of "
                          "the system's (a NAS or company CA)."),
                       tr("Bro&wse…"));
    m_caFile.edit->setClearButtonEnabled(true);

    m_limitRate = addLine(form, tr("Upload &limit:"), "remoteLimitRate", tr("unlimited"),
                          tr("Upload speed limit for this remote, all its uploads together, in bytes per second "
                             "with k, M or G (e.g. 2M)."));
    layout->addLayout(form);

    m_problem = new QLabel(this);
    m_problem->setObjectName(QStringLiteral("remoteProblem"));
    m_problem->setTextFormat(Qt::PlainText);   // quotes what was typed (user, host, bucket...)
    m_problem->setWordWrap(true);
    m_problem->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(m_problem);

    // Test Connection's progress and outcome; shown once testing is enabled and a test ran.
    auto *testRow = new QHBoxLayout;
    m_test = newFormButton(tr("&Test Connection"), "remoteTest",
                           tr("Check the values as typed: the folder can be written, or the server answers and "
                              "accepts the user and password. Nothing is saved."),
                           this);
    m_test->hide();
    testRow->addWidget(m_test, 0, Qt::AlignTop);
    m_testBusy = newBusyBar(this, "remoteTestBusy", fontMetrics().height());
    testRow->addWidget(m_testBusy, 0, Qt::AlignVCenter);
    m_testMessage = newMessageLabel(this, "remoteTestMessage");
    m_testMessage->hide();
    testRow->addWidget(m_testMessage, 1);
    m_stopTest = newFormButton(tr("St&op"), "remoteStopTest", tr("Stop the connection test"), this);
    m_stopTest->hide();
    testRow->addWidget(m_stopTest, 0, Qt::AlignTop);
    m_trust = newFormButton(tr("T&rust This Certificate…"), "remoteTrust",
                            tr("Trust exactly this certificate for this remote (checked by its SHA-256 fingerprint)"),
                            this);
    m_trust->hide();
    testRow->addWidget(m_trust, 0, Qt::AlignTop);
    layout->addLayout(testRow);
    layout->addStretch(1);

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    okButton()->setText(existing ? tr("&Save") : tr("A&dd"));
    okButton()->setDefault(true);
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, [this] {
        if (problem().isEmpty())
            accept();
    });
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    if (existing) {
        m_name->setText(existing->name);
        m_name->setReadOnly(true);
        // Reads as a fixed value, not a field to type in.
        m_name->setFrame(false);
        QPalette palette = m_name->palette();
        palette.setColor(QPalette::Base, palette.color(QPalette::Window));
        m_name->setPalette(palette);
        m_name->setToolTip(tr("A remote keeps its name; add a new one to use another name."));
        setKind(existing->kind);
        m_url.edit->setText(existing->url);
        m_user.edit->setText(existing->user);
        m_insecure->setChecked(existing->allowInsecureAuth());
        m_caFile.edit->setText(existing->caFile());
        if (existing->limitRate() > 0)
            m_limitRate.edit->setText(existing->options.value(QStringLiteral("limitRate")).toString());
        m_trustedCertificate = existing->trustedCertificate();
        m_bucket.edit->setText(existing->bucket());
        m_prefix.edit->setText(existing->options.value(QStringLiteral("prefix")).toString());
        m_region.edit->setText(existing->options.value(QStringLiteral("region")).toString());
        m_pathStyle->setChecked(existing->pathStyle());
    }
    kindChanged();

    connect(m_kind, &QComboBox::currentIndexChanged, this, [this] {
        kindChanged();
        valuesChanged();
    });
    for (QLineEdit *edit : {m_name, m_url.edit, m_user.edit, m_password.edit, m_caFile.edit, m_limitRate.edit,
                            m_bucket.edit, m_prefix.edit, m_region.edit})
        connect(edit, &QLineEdit::textChanged, this, &RemoteEditDialog::valuesChanged);
    connect(m_pathStyle, &QCheckBox::toggled, this, &RemoteEditDialog::valuesChanged);
    connect(m_caFile.browse, &QPushButton::clicked, this, &RemoteEditDialog::browseCaFile);
    connect(m_trust, &QPushButton::clicked, this, &RemoteEditDialog::askTrust);
    connect(m_insecure, &QCheckBox::toggled, this, &RemoteEditDialog::valuesChanged);
    connect(m_url.browse, &QPushButton::clicked, this, &RemoteEditDialog::browse);
    connect(m_test, &QPushButton::clicked, this, &RemoteEditDialog::startTest);
    connect(m_stopTest, &QPushButton::clicked, this, &RemoteEditDialog::stopTest);
    (existing ? m_url.edit : m_name)->setFocus();
    setMinimumWidth(480);
    validate();
}

RemoteEditDialog::~RemoteEditDialog() = default;

RemoteEditDialog::FormLine RemoteEditDialog::addLine(QFormLayout *form, const QString &label, const char *objectName,
                                                     const QString &placeholder, const QString &toolTip,
                                                     const QString &browseText)
{
    FormLine line;
    line.edit = new QLineEdit(this);
    line.edit->setObjectName(QLatin1String(objectName));
    line.edit->setPlaceholderText(placeholder);
    line.edit->setToolTip(toolTip);
    line.label = new QLabel(label, this);
    line.label->setBuddy(line.edit);
    if (browseText.isEmpty()) {
        form->addRow(line.label, line.edit);
        return line;
    }
    line.browse = newFormButton(browseText, nullptr, QString(), this);
    auto *row = new QHBoxLayout;
    row->addWidget(line.edit, 1);
    row->addWidget(line.browse);
    form->addRow(line.label, row);
    return line;
}

QPushButton *RemoteEditDialog::okButton() const
{
    return m_buttons->button(QDialogButtonBox::Ok);
}

void RemoteEditDialog::setKind(RemoteKind kind)
{
    const int i = m_kind->findData(remoteKindName(kind));
    if (i >= 0)
        m_kind->setCurrentIndex(i);
}

RemoteKind RemoteEditDialog::kind() const
{
    return remoteKindFromName(m_kind->currentData().toString()).value_or(RemoteKind::Local);
}

QString RemoteEditDialog::normalizedUrl() const
{
    QString url = m_url.edit->text().trimmed();
    if (kind() != RemoteKind::Local || url.isEmpty())
        return url;
    if (url == QLatin1String("~") || url.startsWith(QLatin1String("~/")))
        url = QDir::homePath() + url.mid(1);
    if (QUrl(url).isLocalFile())
        return url;
    return QDir::isAbsolutePath(url) ? QDir::cleanPath(url) : url;
}

RemoteProfile RemoteEditDialog::profile() const
{
    RemoteProfile p = m_existing.value_or(RemoteProfile());
    p.name = m_name->text().trimmed();
    p.kind = kind();
    p.url = normalizedUrl();
    if (p.kind == RemoteKind::Local) {
        p.user.clear();
        p.options.remove(kInsecureOption);
    } else {
        p.user = m_user.edit->text().trimmed();
        if (m_insecure->isChecked())
            p.options.insert(kInsecureOption, true);
        else
            p.options.remove(kInsecureOption);
        const QString ca = m_caFile.edit->text().trimmed();
        if (ca.isEmpty())
            p.options.remove(QStringLiteral("caFile"));
        else
            p.options.insert(QStringLiteral("caFile"), ca);
        if (m_trustedCertificate.isEmpty())
            p.options.remove(QStringLiteral("trustedCertificate"));
        else
            p.options.insert(QStringLiteral("trustedCertificate"), m_trustedCertificate);
        const QString rate = m_limitRate.edit->text().trimmed();
        if (rate.isEmpty() || rate == QLatin1String("0"))
            p.options.remove(QStringLiteral("limitRate"));
        else
            p.options.insert(QStringLiteral("limitRate"), rate);
    }
    const std::pair<QLineEdit *, QString> s3Fields[] = {
        {m_bucket.edit, QStringLiteral("bucket")}, {m_prefix.edit, QStringLiteral("prefix")},
        {m_region.edit, QStringLiteral("region")}};
    for (const auto &[edit, key] : s3Fields) {
        const QString value = edit->text().trimmed();
        if (p.kind != RemoteKind::S3 || value.isEmpty())
            p.options.remove(key);
        else
            p.options.insert(key, value);
    }
    if (p.kind == RemoteKind::S3 && m_pathStyle->isChecked())
        p.options.insert(QStringLiteral("pathStyle"), true);
    else
        p.options.remove(QStringLiteral("pathStyle"));
    return p;
}

QString RemoteEditDialog::password() const
{
    return kind() == RemoteKind::Local ? QString() : m_password.edit->text();
}

QString RemoteEditDialog::problem() const
{
    const RemoteProfile p = profile();
    if (p.name.isEmpty())
        return tr("Type a name for the remote.");
    if (RemoteProfile::nameError(p.name))
        return tr("A remote name has up to 64 letters, digits, “.”, “_” and “-”, and does not start with “.”.");
    if (isNew() && m_taken.contains(p.name))
        return tr("There already is a remote named “%1”.").arg(p.name);
    if (p.url.isEmpty()) {
        return p.kind == RemoteKind::Local ? tr("Type the folder documents are copied to.")
                                           : tr("Type the server’s URL.");
    }
    if (p.kind == RemoteKind::Local) {
        const QUrl u(p.url);
        if (!QDir::isAbsolutePath(u.isLocalFile() ? u.toLocalFile() : p.url))
            return tr("Type the folder’s full path, such as %1.").arg(QDir::homePath() + QStringLiteral("/Quire"));
    } else {
        QString probe = p.url;
        probe.replace(QLatin1String("{collection}"), QLatin1String("c"));
        probe.replace(QLatin1String("{base}"), QString());
        const QUrl u(probe, QUrl::StrictMode);
        const bool web = u.scheme() == QLatin1String("http") || u.scheme() == QLatin1String("https");
        if (!u.isValid() || !web || u.host().isEmpty())
            return tr("The URL must start with http:// or https:// and name a server.");
        if (!u.password().isEmpty())
            return tr("Take the password out of the URL and type it under Password: it is kept in the system keychain.");
        if (u.scheme() == QLatin1String("http") && p.kind != RemoteKind::S3 && p.needsSecret() && !net::isLoopbackHost(u.host())
            && !p.allowInsecureAuth()) {
            return tr("The password would cross the network unencrypted to %1. Use an https:// URL, "
                      "or tick “Allow the password over plain http://”.")
                .arg(u.host());
        }
    }
    if (p.kind != RemoteKind::Local) {
        if (!password().isEmpty() && p.user.isEmpty() && !p.usesBearerToken())
            return tr("Type the user the password belongs to.");
        const bool haveSecret = !password().isEmpty() || (m_existing && m_existing->needsSecret())
                                || Credentials::environmentSecret(p).has_value();
        if (p.kind == RemoteKind::S3 && p.bucket().isEmpty())
            return tr("Type the bucket’s name.");
        if (p.kind == RemoteKind::S3 && p.user.isEmpty())
            return tr("Type the access key id.");
        if (p.needsSecret() && !haveSecret) {
            return p.kind == RemoteKind::S3
                       ? tr("Type the secret access key of %1 (it is kept in the system keychain).").arg(p.user)
                       : tr("Type the password of %1 (it is kept in the system keychain).").arg(p.user);
        }
    }
    // Whatever else the shared rules refuse (the command line applies the same ones).
    if (auto why = p.validationError())
        return *why;
    return {};
}

void RemoteEditDialog::kindChanged()
{
    const bool local = kind() == RemoteKind::Local;
    m_url.label->setText(local ? tr("&Folder:") : tr("&URL:"));
    switch (kind()) {
    case RemoteKind::Local:
        m_url.edit->setPlaceholderText(QDir::homePath() + QStringLiteral("/Quire"));
        m_url.edit->setToolTip(tr("Documents are copied to <folder>/<collection>/<name>."));
        break;
    case RemoteKind::WebDav:
        m_url.edit->setPlaceholderText(QStringLiteral("https://cloud.example.com/remote.php/dav/files/me/Quire"));
        m_url.edit->setToolTip(tr("The WebDAV folder collections are created in."));
        break;
    case RemoteKind::Http:
        m_url.edit->setPlaceholderText(QStringLiteral("https://api.example.com/v1"));
        m_url.edit->setToolTip(tr("The API’s base URL: documents are sent to {base}/collections/{collection}/documents, "
                             "or to the URL itself when it contains {collection}."));
        break;
    case RemoteKind::S3:
        m_url.edit->setPlaceholderText(QStringLiteral("https://s3.eu-west-1.amazonaws.com"));
        m_url.edit->setToolTip(tr("The S3 endpoint, without the bucket."));
        break;
    }
    const bool s3 = kind() == RemoteKind::S3;
    for (const FormLine &line : {m_bucket, m_prefix, m_region}) {
        line.label->setVisible(s3);
        line.edit->setVisible(s3);
    }
    m_pathStyle->setVisible(s3);
    m_user.label->setText(s3 ? tr("Access key &id:") : tr("Us&er:"));
    m_password.label->setText(s3 ? tr("&Secret key:") : tr("&Password:"));
    m_insecure->setVisible(!s3);   // SigV4 never sends the secret itself
    m_url.browse->setVisible(local);
    for (QWidget *w : std::initializer_list<QWidget *>{m_user.label, m_user.edit, m_password.label, m_password.edit,
                                                       m_insecure, m_caFile.label, m_caFile.edit, m_caFile.browse,
                                                       m_limitRate.label, m_limitRate.edit})
        w->setEnabled(!local);
    validate();
}

void RemoteEditDialog::validate()
{
    const QString why = problem();
    m_problem->setText(why);
    m_problem->setVisible(!why.isEmpty());
    okButton()->setEnabled(why.isEmpty());
    m_test->setEnabled(why.isEmpty() && !isTesting());
}

// --- Test Connection -----------------------------------------------------------------------------

void RemoteEditDialog::enableTesting(Pools &pools, const UploadSettings &settings)
{
    if (!m_tester) {
        m_tester = new RemoteTester(pools, this);
        connect(m_tester, &RemoteTester::finished, this, &RemoteEditDialog::testEnded);
    }
    m_testSettings = settings;
    m_test->show();
    validate();
}

bool RemoteEditDialog::isTesting() const
{
    return m_tester && m_tester->isRunning();
}

QString RemoteEditDialog::testMessage() const
{
    return m_testMessage->text();
}

void RemoteEditDialog::startTest()
{
    if (!m_tester || isTesting() || !problem().isEmpty())
        return;
    const RemoteProfile p = profile();
    // The typed password; none typed: the stored one (an edited remote keeps it when saved).
    // Only the test sees it: nothing is written to the settings or the keychain.
    std::optional<QString> secret;
    if (!password().isEmpty())
        secret = password();
    m_testStop = TestStop::None;
    m_testResultStale = false;
    m_trust->hide();
    m_tester->start(p, m_testSettings, secret);
    m_testBusy->show();
    m_stopTest->show();
    m_stopTest->setEnabled(true);
    setTestMessage(Tone::Hint, tr("Testing %1…").arg(p.displayUrl()));
    validate();
    m_stopTest->setFocus();
}

void RemoteEditDialog::stopTest()
{
    if (!isTesting())
        return;
    m_testStop = TestStop::Asked;
    m_stopTest->setEnabled(false);
    setTestMessage(Tone::Hint, tr("Stopping the test…"));
    m_tester->stop();
}

void RemoteEditDialog::testEnded(bool ok, const QString &message)
{
    const bool focusWasOnStop = m_stopTest->hasFocus();
    const TestStop stop = std::exchange(m_testStop, TestStop::None);
    m_testBusy->hide();
    m_stopTest->hide();
    bool works = false;
    if (stop == TestStop::ValuesChanged) {
        setTestMessage(Tone::Hint, tr("The test was stopped: the values changed. Test again to check them."));
    } else if (!ok && (stop == TestStop::Asked || stop == TestStop::Closed)) {
        setTestMessage(Tone::Hint, tr("The test was stopped."));
    } else if (ok) {
        works = true;
        setTestMessage(Tone::Success, tr("Test passed: %1.").arg(message));
    } else if (m_tester->untrustedCertificate().isValid()) {
        const net::CertificateInfo &cert = m_tester->untrustedCertificate();
        setTestMessage(Tone::Error, tr("Test failed: %1. Nothing was sent.\n%2").arg(message, cert.describe()));
        m_trust->show();
    } else {
        setTestMessage(Tone::Error, tr("Test failed: %1.").arg(message));
    }
    validate();
    if (focusWasOnStop)
        m_test->setFocus();
    Q_EMIT testFinished(works);
}

void RemoteEditDialog::askTrust()
{
    if (!m_tester || !m_tester->untrustedCertificate().isValid())
        return;
    const net::CertificateInfo cert = m_tester->untrustedCertificate();
    // The certificate's names are the server's words.
    QMessageBox *box = plainMessageBox(QMessageBox::Warning, tr("Trust This Certificate?"),
                                       tr("Quire cannot verify the identity of %1.").arg(QUrl(normalizedUrl()).host()),
                                       tr("Trust this certificate only if it is your server's: compare the fingerprint "
                                          "with the one the server's administrator gives you.\n\n%1")
                                           .arg(cert.describe()),
                                       QMessageBox::NoButton, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    QPushButton *trust = box->addButton(tr("&Trust"), QMessageBox::AcceptRole);
    QPushButton *cancel = box->addButton(QMessageBox::Cancel);
    box->setDefaultButton(cancel);
    box->setEscapeButton(cancel);
    connect(box, &QMessageBox::finished, this, [this, box, trust] {
        if (box->clickedButton() == trust)
            trustShownCertificate();
    });
    box->open();
}

void RemoteEditDialog::trustShownCertificate()
{
    if (!m_tester || !m_tester->untrustedCertificate().isValid())
        return;
    m_trustedCertificate = QString::fromLatin1(m_tester->untrustedCertificate().sha256);
    m_trust->hide();
    startTest();
}

void RemoteEditDialog::browseCaFile()
{
    auto *dialog = new QFileDialog(this, tr("Choose the CA Certificates"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setFileMode(QFileDialog::ExistingFile);
    dialog->setNameFilters({tr("PEM certificates (*.pem *.crt *.cer)"), tr("All files (*)")});
    connect(dialog, &QFileDialog::fileSelected, this, [this](const QString &file) {
        if (!file.isEmpty())
            m_caFile.edit->setText(QDir::toNativeSeparators(file));
    });
    dialog->open();
}

void RemoteEditDialog::valuesChanged()
{
    if (isTesting()) {
        if (m_testStop == TestStop::None) {
            m_testStop = TestStop::ValuesChanged;
            m_stopTest->setEnabled(false);
            setTestMessage(Tone::Hint, tr("Stopping the test: the values changed…"));
            m_tester->stop();
        }
    } else if (!m_testMessage->text().isEmpty() && !m_testResultStale) {
        // The outcome shown is about other values: keep it readable, but not as the verdict.
        m_testResultStale = true;
        setTestMessage(Tone::Hint, tr("Before the last changes: %1").arg(m_testMessage->text()));
    }
    validate();
}

void RemoteEditDialog::setTestMessage(Tone tone, const QString &text)
{
    setToneText(m_testMessage, palette(), tone, text);
    m_testMessage->setVisible(!text.isEmpty());
}

void RemoteEditDialog::done(int result)
{
    // Closing stops a running test without waiting for it.
    if (isTesting()) {
        m_testStop = TestStop::Closed;
        m_tester->stop();
    }
    QDialog::done(result);
}

void RemoteEditDialog::browse()
{
    auto *dialog = new QFileDialog(this, tr("Choose the Remote Folder"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setFileMode(QFileDialog::Directory);
    dialog->setOption(QFileDialog::ShowDirsOnly);
    if (!normalizedUrl().isEmpty())
        dialog->setDirectory(normalizedUrl());
    connect(dialog, &QFileDialog::fileSelected, this, [this](const QString &folder) {
        if (!folder.isEmpty())
            m_url.edit->setText(QDir::toNativeSeparators(folder));
    });
    dialog->open();
}

} // namespace quire
