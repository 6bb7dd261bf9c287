#pragma once

#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace quire {

class CatalogService;
class SessionStore;

// Settings › Catalog: where the catalog is kept from the next start on — a SQLite file, a
// PostgreSQL or a MariaDB database (host, port, database, user; the password goes to the system
// keychain, never to the settings) — saved as settings/catalog, which --catalog and
// $QUIRE_CATALOG override. Test Connection opens a connection on the I/O pool with what is typed
// and says what happened: connected, refused, a wrong or missing password, an unknown database,
// a driver that is not installed.
//
// GUI thread only; never blocks.
class CatalogSettings final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CatalogSettings)
public:
    static inline const QString kCatalogKey = QStringLiteral("settings/catalog");
    enum Kind { SqliteKind, PostgresKind, MariaDbKind };

    // Shows the catalog `service` uses; tests connections through it.
    CatalogSettings(SessionStore &store, CatalogService &service, QWidget *parent = nullptr);
    ~CatalogSettings() override;

    // The location the fields describe: a SQLite path, or a server URL without a password;
    // empty with *problem set when something is missing.
    QString location(QString *problem = nullptr) const;
    // Saves the location (and puts a typed password in the keychain, on the I/O pool).
    void apply();
    void testConnection();

    QComboBox *kindBox() const { return m_kind; }
    QLineEdit *pathEdit() const { return m_path; }
    QLineEdit *hostEdit() const { return m_server.host; }
    QSpinBox *portBox() const { return m_server.port; }
    QLineEdit *databaseEdit() const { return m_server.database; }
    QLineEdit *userEdit() const { return m_server.user; }
    QLineEdit *passwordEdit() const { return m_server.password; }
    QPushButton *testButton() const { return m_test; }
    QString message() const;
    bool isTesting() const { return m_testing; }

Q_SIGNALS:
    void testFinished(bool ok);

private:
    // A server catalog's connection: its URL's parts, and the password for the keychain.
    struct ServerFields
    {
        QLineEdit *host = nullptr;
        QSpinBox *port = nullptr;
        QLineEdit *database = nullptr;
        QLineEdit *user = nullptr;
        QLineEdit *password = nullptr;
    };

    void load(const QString &saved);
    void updateFields();
    void setMessage(bool error, const QString &text);

    SessionStore &m_store;
    CatalogService &m_service;
    QComboBox *m_kind = nullptr;
    QLineEdit *m_path = nullptr;
    QPushButton *m_browse = nullptr;
    QPushButton *m_test = nullptr;
    QLabel *m_message = nullptr;
    ServerFields m_server;
    QList<QWidget *> m_serverFields;
    QList<QWidget *> m_fileFields;
    bool m_testing = false;
    int m_loadedKind = -1;    // the kind of the saved server URL, whose parameters are kept
    QString m_loadedQuery;
};

} // namespace quire
