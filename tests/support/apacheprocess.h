#pragma once

#include <QByteArray>
#include <QProcess>
#include <QString>
#include <QStringList>

#include <functional>

// What DavServer and ProxyServer share: one Apache httpd (Debian's apache2) run in the
// foreground from a config of tests/apache/ filled in for a temporary folder.
namespace quire::test::apache {

// A free port on 127.0.0.1 (on ::1 with ipv6).
quint16 freeLoopbackPort(bool ipv6 = false);
bool writeFile(const QString &path, const QByteArray &bytes);
// Makes a folder reachable by Apache's children (QTemporaryDir makes them 0700).
void makeTraversable(const QString &path);
// Hands a path to www-data when running as root (Apache's children run as that user).
void giveToApacheUser(const QString &path);
bool runningAsRoot();

// Fills in the placeholders every template shares: @SERVER_ROOT@, @HOST@ (127.0.0.1, or [::1]
// with ipv6), @PORT@, @MODULES@, @USER_LINE@ and @GROUP_LINE@ (User/Group www-data as root,
// else nothing).
QByteArray fillCommon(QByteArray conf, const QString &serverRoot, quint16 port, bool ipv6 = false);

// Starts `apache2 -f confPath -d serverRoot -DFOREGROUND -D<each define>` and waits until the
// port accepts connections on 127.0.0.1 (::1 with ipv6; at most 30 s). On failure the process is stopped and *error says
// why (with the error log, read through errorLog).
bool launch(QProcess &process, const QString &confPath, const QString &serverRoot, const QStringList &defines,
            quint16 port, const std::function<QString()> &errorLog, QString *error, bool ipv6 = false);
// SIGTERM, then SIGKILL after 15 s.
void stop(QProcess &process);

} // namespace quire::test::apache
