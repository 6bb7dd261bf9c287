#pragma once

#include "remotes/remoteprofile.h"
#include "jobs/result.h"

#include <QString>

#include <chrono>
#include <optional>

namespace quire {

// Passwords and tokens of remote profiles, kept in the OS keychain through QtKeychain (Secret
// Service/GNOME Keyring or KWallet on Linux, Keychain on macOS, Credential Manager on Windows):
// service "Quire", key = the profile's name. Secrets never go to the settings file, the catalog,
// logs or command lines.
//
// Threads: every function blocks until the keychain answers or `timeout` passes (a keychain may
// show an unlock prompt first), so call it on a worker thread (the command thread, the I/O
// pool), never on the GUI thread. The QtKeychain jobs themselves run on one long-lived
// "quire-keychain" thread with its own event loop: QtKeychain queues all jobs through a single
// executor object that must live in a thread that never ends. That thread is stopped at
// application exit (qAddPostRoutine).
class Credentials final
{
public:
    static constexpr std::chrono::milliseconds kDefaultTimeout{60'000};

    static QString service();   // "Quire"
    // Secrets from the environment, for scripts: $QUIRE_PASSWORD_<NAME> is the secret of remote
    // NAME (upper-cased, every character other than A-Z and 0-9 as '_'); plain $QUIRE_PASSWORD
    // only of the one remote a command touches (setSoleRemote), never of any other.
    static QString environmentVariable();                              // "QUIRE_PASSWORD"
    static QString environmentVariableFor(const QString &profileName);  // "QUIRE_PASSWORD_NAS_1"
    // The remote that plain $QUIRE_PASSWORD belongs to ("" = none). Set by a command that touches
    // exactly one remote. Any thread.
    static void setSoleRemote(const QString &profileName);
    // The secret the environment gives profile, or nullopt.
    static std::optional<QString> environmentSecret(const RemoteProfile &profile);

    static Status store(const QString &profileName, const QString &secret,
                        std::chrono::milliseconds timeout = kDefaultTimeout);
    // nullopt: the keychain has no entry for the profile.
    static Result<std::optional<QString>> read(const QString &profileName,
                                               std::chrono::milliseconds timeout = kDefaultTimeout);
    // The password of a catalog on a database server, by its location as displayed (without a
    // password: CatalogConfig::displayLocation()); key "catalog <location>".
    static Status storeCatalogPassword(const QString &location, const QString &secret,
                                       std::chrono::milliseconds timeout = kDefaultTimeout);
    static Result<std::optional<QString>> readCatalogPassword(const QString &location,
                                                              std::chrono::milliseconds timeout = kDefaultTimeout);
    // Removing a missing entry succeeds.
    static Status remove(const QString &profileName,
                         std::chrono::milliseconds timeout = kDefaultTimeout);

    // The secret to upload with: "" for a profile that needs none, else environmentSecret() when
    // there is one, else the keychain's entry. Fails with a message that says how to provide one.
    static Result<QString> secretFor(const RemoteProfile &profile,
                                     std::chrono::milliseconds timeout = kDefaultTimeout);
};

} // namespace quire
