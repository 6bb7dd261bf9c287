#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QList>
#include <QString>

namespace quire {

class Catalog;
class Pools;
class SessionStore;

// What `quire gui` (and quire without a command) needs. Filled in by main.cpp.
struct GuiOptions
{
    GuiOptions(SessionStore &s, Catalog &c, Pools &p)
        : store(s)
        , catalog(c)
        , pools(p)
    {
    }

    SessionStore &store;
    Catalog &catalog;                  // not opened yet: the window opens it on the I/O pool
    Pools &pools;
    QString collection;                // --collection NAME: select it (created if PATHs are given)
    QList<QByteArray> paths;           // PATH...: ingested into `collection` (exact bytes)
    bool quitWhenIdle = false;         // --quit-when-idle: quit once all work is done
    QString statsJsonPath;             // --stats-json FILE: responsiveness figures, written on exit
    QString screenshotPath;            // --screenshot FILE (hidden): grab the window when idle
    // Started first thing in main(), so the figures include the process start-up.
    QElapsedTimer startClock;
};

// Opens the window and runs the event loop until the window closes (or, with quitWhenIdle,
// until every ingest job has finished). Must be called on the main thread with a QApplication
// already constructed. Returns the process exit status: 0, or 1 when the catalog could not be
// opened, an ingest failed (with quitWhenIdle) or the stats file could not be written.
int runGui(const GuiOptions &options);

} // namespace quire
