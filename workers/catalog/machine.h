#pragma once

#include <QString>

namespace quire {

// The machine this process runs on, as a shared catalog records it: every document carries the
// id of the machine it was added on, and only that machine uploads it (its source path means
// nothing elsewhere).
struct Machine
{
    QString id;     // [A-Za-z0-9._-]{1,64}: safe in SQL text and file names as it is
    QString name;   // for people ("on laptop-b"): printable, at most 64 characters
};

// Computed once: $QUIRE_MACHINE_ID when it is a valid id (for machines cloned with the same
// system id, and for tests), else the system's machine id (QSysInfo::machineUniqueId(),
// /etc/machine-id on Linux), else one derived from the host name. The name: $QUIRE_MACHINE_NAME,
// else the host name.
const Machine &thisMachine();

// True when `id` has the form thisMachine().id has.
bool isValidMachineId(const QString &id);

// A machine name read from a catalog (written by anyone), made fit for display: control
// characters dropped, at most 64 characters; "another machine" when nothing is left.
QString displayMachineName(const QString &name);

} // namespace quire
