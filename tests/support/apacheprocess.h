#pragma once

#include "serverprocess.h"   // freeLoopbackPort()

#include <QByteArray>
#include <QList>
#include <QProcess>
#include <QString>
#include <QStringList>

#include <functional>

// What DavServer and ProxyServer share: one Apache httpd (Debian's apache2) run in the
// foreground from a config of tests/apache/ filled in for a temporary folder.
namespace quire::test::apache {

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
// Runs startOnce(port) on a free port, and on another (after stop()) while the port was taken
// between probing and Apache binding it, as the error startOnce() left in `error` says; a few
// times at most.
bool startOnAFreePort(const std::function<bool(quint16)> &startOnce, const std::function<void()> &stop,
                      const QString &error, bool ipv6 = false);

// The whole text of one of Apache's logs; "" when it cannot be read (e.g. not there yet).
QString readLog(const QString &path);
// The lines of a tab-separated access log, split into their fields; a line still being written
// and lines without `fields` fields are left out.
QList<QList<QByteArray>> readTabLog(const QString &path, int fields);

// What both servers' access logs say of a request first (tests/apache/*.conf.in, tab-separated).
struct LoggedRequest
{
    qint64 beganMs = 0;         // when Apache began reading it, ms since the epoch
    QByteArray method;          // "PUT", "CONNECT", ...
    int status = 0;
    quint16 clientPort = 0;     // the client's port: one per connection
};

// The requests of the access log at path: its first four fields in LoggedRequest's members,
// moreFields more for readMore() to read into the rest of a Logged (fields are indexed from 0).
template <typename Logged>
QList<Logged> readAccessLog(const QString &path, int moreFields,
                            void (*readMore)(Logged &logged, const QList<QByteArray> &fields))
{
    QList<Logged> out;
    for (const QList<QByteArray> &fields : readTabLog(path, 4 + moreFields)) {
        Logged l;
        l.beganMs = fields.at(0).toLongLong();
        l.method = fields.at(1);
        l.status = fields.at(2).toInt();
        l.clientPort = quint16(fields.at(3).toUInt());
        readMore(l, fields);
        out.append(l);
    }
    return out;
}

} // namespace quire::test::apache
