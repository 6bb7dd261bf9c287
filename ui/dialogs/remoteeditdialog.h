#pragma once

#include "common/formwidgets.h"
#include "remotes/remoteprofile.h"
#include "upload/uploadpolicy.h"

#include <QDialog>
#include <QStringList>

#include <optional>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace quire {

class Pools;
class RemoteTester;

// Adds or edits one remote profile: name, kind (local folder, WebDAV server, HTTP collections
// API), folder or URL, user, password, whether a password may cross plain http://, and for
// https the CA file to trust instead of the system's. When Test Connection meets a certificate
// that is not trusted, it shows the certificate and offers "Trust This Certificate…" (never the
// default button; it asks first): the certificate's fingerprint is then saved with the profile.
//
// Checks the values as they are typed (the rules of `quire remote add`, plus the one Quire
// applies before sending a password: never over plain http:// to another host unless allowed)
// and says what is wrong; OK is enabled only when the profile can be saved. Pure string checks:
// nothing here touches the disk, the network or the keychain.
//
// Meant to be shown with open() (window-modal, no nested event loop); the caller reads profile()
// and password() when accepted() is emitted and saves them (SettingsDialog: the profile in the
// session store, the password in the system keychain). GUI thread only.
//
// With enableTesting(), Test Connection checks the profile *as typed* (RemoteTester: the check
// of `quire remote test`, on the I/O pool), with the typed password, or the stored one when
// none is typed; testing saves nothing. The form shows a busy bar and Stop while the test runs
// and its outcome under the fields. Changing a value stops a running test (its result would
// not be about the values shown); closing the form stops it too, without waiting.
class RemoteEditDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RemoteEditDialog)
public:
    // existing: the profile to edit (its name is fixed), nullopt to add a new one.
    // taken: names already in use, refused for a new remote.
    RemoteEditDialog(const std::optional<RemoteProfile> &existing, const QStringList &taken,
                     QWidget *parent = nullptr);
    ~RemoteEditDialog() override;

    bool isNew() const { return !m_existing.has_value(); }
    // The profile as typed (options of the edited profile that the dialog does not show are
    // kept). Only meaningful while problem() is empty.
    RemoteProfile profile() const;
    // The password typed; empty: none typed (an edited remote keeps the stored one).
    QString password() const;
    // Why the values cannot be saved; empty when they can.
    QString problem() const;

    QLineEdit *nameEdit() const { return m_name; }
    QComboBox *kindBox() const { return m_kind; }
    QLineEdit *urlEdit() const { return m_url.edit; }
    QLineEdit *userEdit() const { return m_user.edit; }
    QLineEdit *passwordEdit() const { return m_password.edit; }
    QCheckBox *insecureBox() const { return m_insecure; }
    QLineEdit *caFileEdit() const { return m_caFile.edit; }
    QLineEdit *limitRateEdit() const { return m_limitRate.edit; }
    QLineEdit *bucketEdit() const { return m_bucket.edit; }
    // Shown after a test met a certificate that is not trusted; asks before trusting it.
    QPushButton *trustButton() const { return m_trust; }
    // The fingerprint of the certificate trusted in this form ("" = none): saved with the profile.
    QString trustedCertificate() const { return m_trustedCertificate; }
    // Trusts the certificate the last test showed, without asking (what the button does once
    // the person confirmed), and tests again.
    void trustShownCertificate();
    QPushButton *okButton() const;

    // Shows Test Connection; pools run the test, settings bound its requests (time limits).
    void enableTesting(Pools &pools, const UploadSettings &settings);
    QPushButton *testButton() const { return m_test; }
    QPushButton *stopTestButton() const { return m_stopTest; }
    bool isTesting() const;
    // The outcome of the last test (or its progress); empty before the first.
    QString testMessage() const;

    void done(int result) override;

    // Selects kind in the Kind box.
    void setKind(RemoteKind kind);

Q_SIGNALS:
    // A test ended; testMessage() says how. ok: the remote works.
    void testFinished(bool ok);

private:
    RemoteKind kind() const;
    QString normalizedUrl() const;
    void kindChanged();
    void validate();
    void browse();
    void valuesChanged();
    void startTest();
    void stopTest();
    void testEnded(bool ok, const QString &message);
    void askTrust();
    void browseCaFile();
    void setTestMessage(Tone tone, const QString &text);

    // A labelled line of the form; the label names the edit (its buddy) and is renamed, hidden
    // and disabled with it. browse: a Browse… button beside the edit, where there is one.
    struct FormLine
    {
        QLabel *label = nullptr;
        QLineEdit *edit = nullptr;
        QPushButton *browse = nullptr;
    };
    FormLine addLine(QFormLayout *form, const QString &label, const char *objectName, const QString &placeholder,
                     const QString &toolTip = {}, const QString &browseText = {});

    std::optional<RemoteProfile> m_existing;
    QStringList m_taken;
    QLineEdit *m_name = nullptr;
    QComboBox *m_kind = nullptr;
    FormLine m_url;
    FormLine m_bucket;   // S3: the bucket, a key prefix, the region and the addressing style
    FormLine m_prefix;
    FormLine m_region;
    QCheckBox *m_pathStyle = nullptr;
    FormLine m_user;
    FormLine m_password;
    QCheckBox *m_insecure = nullptr;
    FormLine m_caFile;
    FormLine m_limitRate;
    QLabel *m_problem = nullptr;
    QDialogButtonBox *m_buttons = nullptr;

    // Test Connection
    RemoteTester *m_tester = nullptr;
    QPushButton *m_test = nullptr;
    QPushButton *m_stopTest = nullptr;
    QProgressBar *m_testBusy = nullptr;
    QLabel *m_testMessage = nullptr;
    QPushButton *m_trust = nullptr;
    enum class TestStop { None, Asked, ValuesChanged, Closed };
    TestStop m_testStop = TestStop::None;
    bool m_testResultStale = false;   // the values changed since the outcome shown
    UploadSettings m_testSettings;
    QString m_trustedCertificate;
};

} // namespace quire
