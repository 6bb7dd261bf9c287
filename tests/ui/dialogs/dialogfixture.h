#pragma once

// What the dialog tests share: a SQLite catalog in a temporary folder, an in-memory session
// store, pools and the catalog service the dialogs work with (made anew for each test), and
// helpers to reach the remote form the Settings dialog opens.

#include "catalog/catalog.h"
#include "catalog/catalogservice.h"
#include "dialogs/remoteeditdialog.h"
#include "dialogs/settingsdialog.h"
#include "jobs/pools.h"
#include "remotes/remoteprofile.h"
#include "settings/sessionstore.h"
#include "testsupport.h"
#include "uitestsupport.h"

#include <QLineEdit>
#include <QPushButton>
#include <QStringList>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

#include <memory>

namespace quire::test {

class DialogFixture
{
protected:
    // From the test's init() and cleanup(); cleanup also checks that no catalog connection was
    // left on the GUI thread.
    void setUpFixture()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        m_store = std::make_unique<SessionStore>();
        m_catalog = std::make_unique<Catalog>(CatalogConfig{m_dir->filePath(QStringLiteral("c.sqlite"))});
        m_pools = std::make_unique<Pools>(2, 2);
        QVERIFY(onWorker([&] { return m_catalog->open(); }).ok());
        m_service = std::make_unique<CatalogService>(*m_catalog, *m_pools);
    }

    void tearDownFixture()
    {
        m_service.reset();
        m_pools.reset();
        m_catalog.reset();
        m_store.reset();
        QCOMPARE(uitest::guiThreadConnections(), QStringList());
    }

    // Waits for the editor the dialog opened with open() (window-modal, no nested loop).
    static RemoteEditDialog *editorOf(SettingsDialog &dialog)
    {
        RemoteEditDialog *editor = nullptr;
        [&] { QTRY_VERIFY((editor = dialog.findChild<RemoteEditDialog *>()) && editor->isVisible()); }();
        return editor;
    }

    // Shows the dialog and opens its form for a new remote (Add…); null when the dialog was not
    // shown (the test has failed).
    static RemoteEditDialog *openNewRemote(SettingsDialog &dialog)
    {
        dialog.show();
        if (!QTest::qWaitForWindowExposed(&dialog)) {
            QTest::qFail("the Settings dialog was not shown", __FILE__, __LINE__);
            return nullptr;
        }
        dialog.addRemoteButton()->click();
        return editorOf(dialog);
    }

    // Shows the dialog and clicks Test Connection for its saved remote `name`; false when the
    // dialog was not shown or does not list the remote.
    static bool testSavedRemote(SettingsDialog &dialog, const QString &name)
    {
        dialog.show();
        if (!QTest::qWaitForWindowExposed(&dialog) || !dialog.selectRemote(name))
            return false;
        dialog.testRemoteButton()->click();
        return true;
    }

    // Types a new remote's name and URL into the form, its kind chosen in between, and then the
    // user and password when given, as a person fills it in.
    static void typeRemote(RemoteEditDialog *editor, const QString &name, RemoteKind kind, const QString &url,
                           const QString &user = {}, const QString &password = {})
    {
        QTest::keyClicks(editor->nameEdit(), name);
        editor->setKind(kind);
        QTest::keyClicks(editor->urlEdit(), url);
        if (!user.isEmpty())
            QTest::keyClicks(editor->userEdit(), user);
        if (!password.isEmpty())
            QTest::keyClicks(editor->passwordEdit(), password);
    }

    static QStringList listedRemotes(SettingsDialog &dialog)
    {
        QStringList names;
        for (int i = 0; i < dialog.remotesList()->topLevelItemCount(); ++i)
            names << dialog.remotesList()->topLevelItem(i)->text(0);
        return names;
    }

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<SessionStore> m_store;
    std::unique_ptr<Catalog> m_catalog;
    std::unique_ptr<Pools> m_pools;
    std::unique_ptr<CatalogService> m_service;
};

} // namespace quire::test
