#pragma once

#include "cli.h"

namespace quire::cli {

// Each runs on the command thread (see cli.h) and returns the exit status.
int runCollectionsCommand(Context &ctx);   // quire collections [create|rename|remove ...]
int runLsCommand(Context &ctx);            // quire ls [COLLECTION] [--json]
int runAddCommand(Context &ctx);           // quire add [--collection NAME] PATH...

// The collection `quire add` uses when no --collection is given.
QString defaultCollectionName();

} // namespace quire::cli
