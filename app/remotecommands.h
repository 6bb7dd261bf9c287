#pragma once

#include "cli.h"

namespace quire::cli {

// Each runs on the command thread (see cli.h) and returns the exit status: 0 when everything
// succeeded, 1 when anything failed (each failure named on stderr), 2 for a bad command line,
// 130 when interrupted (uploads stop within ~100 ms; what was not uploaded stays queued, and a
// large file's partial upload is kept for resuming).

// quire remote add NAME --kind local|webdav|http --url URL [--user USER] [--allow-insecure-auth]
// quire remote list
// quire remote remove NAME
// quire remote test NAME
// `add` with --user asks for the password (terminal, echo off) or reads one line from stdin
// when it is not a terminal, and stores it in the keychain. $QUIRE_PASSWORD, when set, is used
// instead and is not stored. A password is never taken from the command line.
int runRemoteCommand(Context &ctx);

// quire push [COLLECTION]: uploads every pending document (hashed, interrupted or failed
// uploads) of the collection, or of every collection that has a remote.
int runPushCommand(Context &ctx);

// quire verify [COLLECTION] [--deep]: checks every uploaded document against its remote (it
// exists, same size, same SHA-256 where the server reports one; --deep reads it back).
int runVerifyCommand(Context &ctx);

// The `quire add` hook: after ingest, uploads the collection's pending documents when the
// collection has a remote (does nothing and returns kExitOk when it has none).
int pushCollection(Context &ctx, qint64 collectionId);

} // namespace quire::cli
