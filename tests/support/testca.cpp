#include "testca.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>

namespace quire::test {

namespace {

// One config for the CA and every certificate it issues, so nothing depends on the system's
// openssl.cnf. `openssl ca` keeps its database in the folder (index.txt, serial).
constexpr char kConfig[] = R"([ ca ]
default_ca = quire_ca

[ quire_ca ]
dir = .
database = index.txt
new_certs_dir = issued
serial = serial
certificate = ca.crt
private_key = ca.key
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = copy
email_in_dn = no

[ policy_any ]
organizationName = optional
commonName = supplied

[ req ]
distinguished_name = req_dn
prompt = no

[ req_dn ]
CN = unused

[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

# The names a server certificate is good for come from its request (copy_extensions).
[ server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

# No keyUsage, so the certificate may sign itself (Qt's isSelfSigned() and OpenSSL say so).
[ self_signed ]
basicConstraints = critical, CA:FALSE
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
)";

// The names of the loopback servers' certificates.
const QString kLoopbackNames = QStringLiteral("IP:127.0.0.1, IP:::1, DNS:localhost");

QByteArray asn1Time(const QDateTime &t)
{
    return t.toUTC().toString(QStringLiteral("yyyyMMddHHmmss")).toLatin1() + 'Z';
}

} // namespace

TestCa::TestCa() = default;
TestCa::~TestCa() = default;

QString TestCa::opensslBinary()
{
    const QString env = qEnvironmentVariable("QUIRE_OPENSSL");
    if (!env.isEmpty())
        return env;
    const QString found = QStandardPaths::findExecutable(QStringLiteral("openssl"));
    return found.isEmpty() ? QStringLiteral("openssl") : found;
}

bool TestCa::available()
{
    return QFileInfo(opensslBinary()).isExecutable();
}

QString TestCa::unavailableReason()
{
    if (available())
        return {};
    return QStringLiteral("the openssl command-line tool is not installed (looked for '%1'); install "
                          "it with scripts/install-deps --test (Debian: openssl), or set QUIRE_OPENSSL")
        .arg(opensslBinary());
}

QString TestCa::caCertPath() const
{
    return m_ok ? m_dir->filePath(QStringLiteral("ca.crt")) : QString();
}

TlsIdentity TestCa::identity(const QString &name) const
{
    if (!m_ok)
        return {};
    return {m_dir->filePath(name + QStringLiteral(".crt")), m_dir->filePath(name + QStringLiteral(".key"))};
}

bool TestCa::run(const QStringList &arguments, QByteArray *output)
{
    QProcess p;
    p.setWorkingDirectory(m_dir->path());
    p.setProcessChannelMode(QProcess::SeparateChannels);
    p.start(opensslBinary(), arguments);
    if (!p.waitForStarted(10'000)) {
        m_error = QStringLiteral("cannot run %1: %2").arg(opensslBinary(), p.errorString());
        return false;
    }
    p.closeWriteChannel();
    if (!p.waitForFinished(60'000)) {
        p.kill();
        p.waitForFinished(5'000);
        m_error = QStringLiteral("openssl %1 did not finish within 60 s").arg(arguments.join(QLatin1Char(' ')));
        return false;
    }
    const QByteArray out = p.readAllStandardOutput();
    const QByteArray err = p.readAllStandardError();
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
        m_error = QStringLiteral("openssl %1 failed (exit code %2): %3")
                      .arg(arguments.join(QLatin1Char(' ')))
                      .arg(p.exitCode())
                      .arg(QString::fromLocal8Bit(err + out).trimmed());
        return false;
    }
    if (output)
        *output = out;
    return true;
}

bool TestCa::newKey(const QString &name)
{
    return run({QStringLiteral("genpkey"), QStringLiteral("-algorithm"), QStringLiteral("EC"),
                QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:P-256"),
                QStringLiteral("-out"), name + QStringLiteral(".key")});
}

// A key, a request (for the names altNames, none when empty) and a certificate signed by the CA,
// or by its own key (`openssl ca`, which accepts any start and end date, also in the past).
bool TestCa::issue(const QString &name, const QString &subject, const QString &extensions, const QString &altNames,
                   const QByteArray &startDate, const QByteArray &endDate, bool selfSigned)
{
    const QString key = name + QStringLiteral(".key");
    const QString csr = name + QStringLiteral(".csr");
    QStringList sign{QStringLiteral("ca"), QStringLiteral("-batch"), QStringLiteral("-notext"),
                     QStringLiteral("-config"), QStringLiteral("ca.cnf"), QStringLiteral("-extensions"), extensions,
                     QStringLiteral("-startdate"), QString::fromLatin1(startDate),
                     QStringLiteral("-enddate"), QString::fromLatin1(endDate),
                     QStringLiteral("-in"), csr, QStringLiteral("-out"), name + QStringLiteral(".crt")};
    if (selfSigned)
        sign << QStringLiteral("-selfsign") << QStringLiteral("-keyfile") << key;
    QStringList request{QStringLiteral("req"), QStringLiteral("-new"), QStringLiteral("-config"), QStringLiteral("ca.cnf"),
                        QStringLiteral("-key"), key, QStringLiteral("-subj"), subject, QStringLiteral("-out"), csr};
    if (!altNames.isEmpty())
        request << QStringLiteral("-addext") << QStringLiteral("subjectAltName = ") + altNames;
    return newKey(name) && run(request) && run(sign);
}

bool TestCa::create()
{
    m_ok = false;
    m_error.clear();
    if (!available()) {
        m_error = unavailableReason();
        return false;
    }
    m_dir = std::make_unique<QTemporaryDir>(QDir::tempPath() + QStringLiteral("/quire-ca-XXXXXX"));
    if (!m_dir->isValid()) {
        m_error = QStringLiteral("cannot create a temporary folder");
        return false;
    }
    QDir().mkpath(m_dir->filePath(QStringLiteral("issued")));
    QFile config(m_dir->filePath(QStringLiteral("ca.cnf")));
    QFile index(m_dir->filePath(QStringLiteral("index.txt")));
    QFile serial(m_dir->filePath(QStringLiteral("serial")));
    if (!config.open(QIODevice::WriteOnly) || config.write(kConfig) != qint64(sizeof kConfig - 1)
        || !index.open(QIODevice::WriteOnly) || !serial.open(QIODevice::WriteOnly) || serial.write("1000\n") != 5) {
        m_error = QStringLiteral("cannot write the CA's files in %1").arg(m_dir->path());
        return false;
    }
    config.close();
    index.close();
    serial.close();

    // Valid from an hour ago: a certificate made this second is not yet valid for a client whose
    // check rounds differently.
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const QByteArray from = asn1Time(now.addSecs(-3600));
    const QByteArray until = asn1Time(now.addDays(30));
    const QString org = QStringLiteral("/O=Quire tests/CN=");
    const bool ok =
        issue(QStringLiteral("ca"), org + QStringLiteral("Quire test CA"), QStringLiteral("v3_ca"), {}, from,
              asn1Time(now.addDays(3650)), true)
        && issue(QStringLiteral("good"), org + QStringLiteral("good"), QStringLiteral("server"), kLoopbackNames, from, until)
        && issue(QStringLiteral("wronghost"), org + QStringLiteral("wrongHost"), QStringLiteral("server"),
                 QStringLiteral("DNS:other.invalid"), from, until)
        && issue(QStringLiteral("expired"), org + QStringLiteral("expired"), QStringLiteral("server"), kLoopbackNames,
                 "20200101000000Z", "20210101000000Z")
        && issue(QStringLiteral("replaced"), org + QStringLiteral("replaced"), QStringLiteral("server"), kLoopbackNames,
                 from, until)
        && issue(QStringLiteral("selfsigned"), QStringLiteral("/O=Home NAS/CN=127.0.0.1"),
                 QStringLiteral("self_signed"), kLoopbackNames, from, until, true);
    if (!ok)
        return false;
    m_ok = true;
    return true;
}

QByteArray TestCa::sha256Fingerprint(const QString &certPath)
{
    QProcess p;
    p.start(opensslBinary(), {QStringLiteral("x509"), QStringLiteral("-noout"), QStringLiteral("-fingerprint"),
                              QStringLiteral("-sha256"), QStringLiteral("-in"), certPath});
    if (!p.waitForStarted(10'000))
        return {};
    p.closeWriteChannel();
    if (!p.waitForFinished(30'000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        return {};
    // "sha256 Fingerprint=AB:CD:..." (the label's case differs between OpenSSL versions).
    const QByteArray out = p.readAllStandardOutput().trimmed();
    const qsizetype eq = out.indexOf('=');
    return eq < 0 ? QByteArray() : out.mid(eq + 1).trimmed().toUpper();
}

} // namespace quire::test
