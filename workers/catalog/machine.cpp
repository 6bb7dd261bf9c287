#include "catalog/machine.h"

#include "hashing/hasher.h"

#include <QCoreApplication>
#include <QSysInfo>

namespace quire {

namespace {

// The translation context of the messages below (Machine is no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::Machine)
};

constexpr qsizetype kMaxId = 64;
constexpr qsizetype kMaxName = 64;

Machine computeMachine()
{
    Machine m;
    const QString fromEnv = qEnvironmentVariable("QUIRE_MACHINE_ID");
    if (isValidMachineId(fromEnv)) {
        m.id = fromEnv;
    } else {
        const QByteArray system = QSysInfo::machineUniqueId().trimmed();
        if (isValidMachineId(QString::fromLatin1(system)))
            m.id = QString::fromLatin1(system);
        else if (!system.isEmpty())
            m.id = QString::fromLatin1(Hasher::hashBytes(system).left(32));
        else
            m.id = QStringLiteral("host-") + QString::fromLatin1(Hasher::hashBytes(QSysInfo::machineHostName().toUtf8()).left(32));
    }
    QString name = qEnvironmentVariable("QUIRE_MACHINE_NAME");
    if (name.isEmpty())
        name = QSysInfo::machineHostName();
    // No name at all: its id, rather than displayMachineName()'s "another machine".
    m.name = displayMachineName(name.isEmpty() ? m.id : name);
    return m;
}

} // namespace

const Machine &thisMachine()
{
    static const Machine machine = computeMachine();
    return machine;
}

bool isValidMachineId(const QString &id)
{
    if (id.isEmpty() || id.size() > kMaxId)
        return false;
    for (const QChar c : id) {
        const char16_t u = c.unicode();
        const bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '.'
                        || u == '_' || u == '-';
        if (!ok)
            return false;
    }
    return true;
}

QString displayMachineName(const QString &name)
{
    QString out;
    for (const QChar c : name) {
        const QChar::Category cat = c.category();
        if (cat == QChar::Other_Control || cat == QChar::Other_Format || cat == QChar::Separator_Line
            || cat == QChar::Separator_Paragraph)
            continue;
        out.append(c);
    }
    out = out.trimmed().left(kMaxName);
    return out.isEmpty() ? Tr::tr("another machine") : out;
}

} // namespace quire
