#include "dialogs/catalogsettings.h"

#include "catalog/catalogconfig.h"
#include "catalog/catalogservice.h"
#include "settings/credentials.h"
#include "jobs/pools.h"
#include "settings/sessionstore.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QUrl>

namespace quire {

CatalogSettings::CatalogSettings(SessionStore &store, CatalogService &service, QWidget *parent)
    : QWidget(parent), m_store(store), m_service(service)
{
    auto *form = new QFormLayout(this);
    form->setContentsMargins(0, 0, 0, 0);
    auto *current = new QLabel(service.catalog().config().displayLocation(), this);
    current->setTextFormat(Qt::PlainText);
    current->setTextInteractionFlags(Qt::TextSelectableByMouse);
    current->setWordWrap(true);
    form->addRow(tr("In use:"), current);

    m_kind = new QComboBox(this);
    m_kind->setObjectName(QStringLiteral("catalogKind"));
    m_kind->addItem(tr("SQLite file (this computer only)"));
    m_kind->addItem(tr("PostgreSQL server (shared)"));
    m_kind->addItem(tr("MariaDB server (shared)"));
    form->addRow(tr("&Keep the catalog in:"), m_kind);

    auto *pathRow = new QWidget(this);
    auto *pathLayout = new QHBoxLayout(pathRow);
    pathLayout->setContentsMargins(0, 0, 0, 0);
    m_path = new QLineEdit(pathRow);
    m_browse = new QPushButton(tr("&Browse…"), pathRow);
    pathLayout->addWidget(m_path, 1);
    pathLayout->addWidget(m_browse);
    form->addRow(tr("&File:"), pathRow);
    m_fileFields = {pathRow, form->labelForField(pathRow)};

    m_server.host = new QLineEdit(this);
    m_server.host->setPlaceholderText(QStringLiteral("db.example.org"));
    m_server.port = new QSpinBox(this);
    m_server.port->setRange(1, 65535);
    m_server.database = new QLineEdit(this);
    m_server.user = new QLineEdit(this);
    m_server.password = new QLineEdit(this);
    m_server.password->setEchoMode(QLineEdit::Password);
    m_server.password->setPlaceholderText(tr("kept in the system keychain"));
    const std::pair<QString, QWidget *> serverRows[] = {
        {tr("&Host:"), m_server.host},
        {tr("P&ort:"), m_server.port},
        {tr("&Database:"), m_server.database},
        {tr("U&ser:"), m_server.user},
        {tr("Pass&word:"), m_server.password},
    };
    for (const auto &[label, field] : serverRows) {
        form->addRow(label, field);
        m_serverFields << field << form->labelForField(field);
    }

    m_test = new QPushButton(tr("Test Co&nnection"), this);
    m_test->setObjectName(QStringLiteral("testCatalog"));
    m_message = new QLabel(tr("Used from the next start; --catalog and $QUIRE_CATALOG still come first."), this);
    m_message->setTextFormat(Qt::PlainText);   // a server's words are data
    m_message->setWordWrap(true);
    m_message->setObjectName(QStringLiteral("catalogMessage"));
    auto *testRow = new QHBoxLayout;
    testRow->addWidget(m_test);
    testRow->addWidget(m_message, 1);
    form->addRow(testRow);

    connect(m_kind, &QComboBox::currentIndexChanged, this, [this](int kind) {
        if (kind == PostgresKind && m_server.port->value() == 3306)
            m_server.port->setValue(5432);
        else if (kind == MariaDbKind && m_server.port->value() == 5432)
            m_server.port->setValue(3306);
        updateFields();
    });
    connect(m_browse, &QPushButton::clicked, this, [this] {
        auto *dialog = new QFileDialog(this, tr("Catalog File"), QFileInfo(m_path->text()).absolutePath(),
                                       tr("SQLite catalogs (*.sqlite *.db);;All files (*)"));
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->setAcceptMode(QFileDialog::AcceptSave);
        dialog->setOption(QFileDialog::DontConfirmOverwrite);   // an existing catalog is opened, not replaced
        connect(dialog, &QFileDialog::fileSelected, this,
                [this](const QString &file) { m_path->setText(QDir::toNativeSeparators(file)); });
        dialog->open();
    });
    connect(m_test, &QPushButton::clicked, this, &CatalogSettings::testConnection);

    load(m_store.value(kCatalogKey).valueOr({}).toString());
}

CatalogSettings::~CatalogSettings() = default;

void CatalogSettings::load(const QString &saved)
{
    const CatalogConfig config{saved.isEmpty() ? CatalogConfig::defaultConfig().location : saved};
    m_server.port->setValue(config.isMariaDb() ? 3306 : 5432);
    if (config.isServer() && !config.locationError()) {
        const QUrl url(config.location);
        m_kind->setCurrentIndex(config.isMariaDb() ? MariaDbKind : PostgresKind);
        m_server.host->setText(url.host());
        m_server.port->setValue(url.port(config.isMariaDb() ? 3306 : 5432));
        m_server.database->setText(url.path().mid(1));
        m_server.user->setText(url.userName());
        // Parameters the form has no field for (TLS files, a socket) are kept as they were.
        m_loadedKind = m_kind->currentIndex();
        m_loadedQuery = url.query(QUrl::FullyEncoded);
        m_path->setText(QDir::toNativeSeparators(CatalogConfig::defaultConfig().location));
    } else {
        m_kind->setCurrentIndex(SqliteKind);
        m_path->setText(QDir::toNativeSeparators(config.location));
    }
    updateFields();
}

void CatalogSettings::updateFields()
{
    const bool server = m_kind->currentIndex() != SqliteKind;
    for (QWidget *w : std::as_const(m_serverFields))
        w->setVisible(server);
    for (QWidget *w : std::as_const(m_fileFields))
        w->setVisible(!server);
}

QString CatalogSettings::location(QString *problem) const
{
    auto fail = [&](const QString &why) {
        if (problem)
            *problem = why;
        return QString();
    };
    if (m_kind->currentIndex() == SqliteKind) {
        const QString path = QDir::fromNativeSeparators(m_path->text().trimmed());
        if (path.isEmpty() || QDir::isRelativePath(path))
            return fail(tr("Give the catalog file's full path."));
        return path;
    }
    const QString host = m_server.host->text().trimmed();
    const QString database = m_server.database->text().trimmed();
    if (host.isEmpty())
        return fail(tr("Give the server's host name."));
    if (database.isEmpty())
        return fail(tr("Give the database's name."));
    QUrl url;
    url.setScheme(m_kind->currentIndex() == PostgresKind ? QStringLiteral("postgresql") : QStringLiteral("mysql"));
    url.setHost(host);
    if (!url.isValid())
        return fail(tr("“%1” is not a host name.").arg(host));
    url.setPort(m_server.port->value());
    url.setPath(u'/' + database);
    url.setUserName(m_server.user->text().trimmed());
    if (m_kind->currentIndex() == m_loadedKind && !m_loadedQuery.isEmpty())
        url.setQuery(m_loadedQuery, QUrl::StrictMode);
    const QString text = url.toString(QUrl::FullyEncoded);
    if (const std::optional<QString> error = CatalogConfig{text}.locationError())
        return fail(*error);
    return text;
}

void CatalogSettings::setMessage(bool error, const QString &text)
{
    m_message->setText(text);
    m_message->setForegroundRole(error ? QPalette::BrightText : QPalette::WindowText);
    QPalette p = m_message->palette();
    p.setColor(QPalette::BrightText, QColor(0xc0, 0x1c, 0x28));
    m_message->setPalette(p);
}

QString CatalogSettings::message() const
{
    return m_message->text();
}

void CatalogSettings::apply()
{
    QString problem;
    const QString where = location(&problem);
    if (where.isEmpty())
        return;
    const QString defaultLocation = CatalogConfig::defaultConfig().location;
    if (auto r = m_store.setValue(kCatalogKey, where == defaultLocation ? QString() : where); !r)
        setMessage(true, r.error());
    const QString password = m_server.password->text();
    if (CatalogConfig{where}.isServer() && !password.isEmpty()) {
        const QString display = CatalogConfig{where}.displayLocation();
        // The keychain may wait for an unlock prompt: never on the GUI thread.
        (void)m_service.pools().run(m_service.pools().io(), [display, password] {
            if (const Status s = Credentials::storeCatalogPassword(display, password); !s)
                qWarning("quire: %s", qUtf8Printable(s.error()));
        });
    }
}

void CatalogSettings::testConnection()
{
    if (m_testing)
        return;
    QString problem;
    const QString where = location(&problem);
    if (where.isEmpty()) {
        setMessage(true, problem);
        Q_EMIT testFinished(false);
        return;
    }
    m_testing = true;
    m_test->setEnabled(false);
    setMessage(false, tr("Connecting to %1…").arg(CatalogConfig{where}.displayLocation()));
    onFinished(m_service.testCatalog(where, m_server.password->text()), this, [this](const CatalogService::CatalogTest &outcome) {
        m_testing = false;
        m_test->setEnabled(true);
        setMessage(!outcome.ok, outcome.message);
        Q_EMIT testFinished(outcome.ok);
    });
}

} // namespace quire
