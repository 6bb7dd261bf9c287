#include "net/tls.h"

#include "net/tlsopenssl.h"
#include "remotes/remoteprofile.h"

#include <QCoreApplication>
#include <QRegularExpression>
#include <QTimeZone>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace quire::net {

namespace {

// The translation context of the messages below (the TLS helpers are no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::Tls)
};

} // namespace

TlsTrust TlsTrust::fromProfile(const RemoteProfile &profile)
{
    TlsTrust t;
    t.caFile = profile.caFile();
    t.pinnedSha256 = normalizeFingerprint(profile.trustedCertificate()).value_or(QByteArray());
    return t;
}

QString CertificateInfo::describe() const
{
    QStringList lines;
    lines << Tr::tr("Subject:     %1").arg(subject);
    lines << (selfSigned() ? Tr::tr("Issuer:      %1 (self-signed)") : Tr::tr("Issuer:      %1")).arg(issuer);
    if (!altNames.isEmpty())
        lines << Tr::tr("Valid for:   %1").arg(altNames.join(QStringLiteral(", ")));
    lines << Tr::tr("Valid from:  %1").arg(notBefore.toString(Qt::ISODate));
    const bool expired = notAfter.isValid() && notAfter < QDateTime::currentDateTimeUtc();
    lines << (expired ? Tr::tr("Valid until: %1 (expired)") : Tr::tr("Valid until: %1")).arg(notAfter.toString(Qt::ISODate));
    lines << Tr::tr("SHA-256:     %1").arg(QString::fromLatin1(sha256));
    return lines.join(QLatin1Char('\n'));
}

std::optional<QByteArray> normalizeFingerprint(QString text)
{
    text = text.trimmed();
    if (const qsizetype eq = text.lastIndexOf(QLatin1Char('=')); eq >= 0)
        text = text.mid(eq + 1);   // "sha256 Fingerprint=AB:CD..." as openssl prints it
    QByteArray hex;
    for (const QChar c : std::as_const(text)) {
        if (c == QLatin1Char(':') || c == QLatin1Char(' '))
            continue;
        if (!c.isDigit() && !(c.toLower() >= QLatin1Char('a') && c.toLower() <= QLatin1Char('f')))
            return std::nullopt;
        hex += char(c.toUpper().toLatin1());
    }
    if (hex.size() != 64)
        return std::nullopt;
    QByteArray out;
    for (int i = 0; i < 64; i += 2) {
        if (i)
            out += ':';
        out += hex.mid(i, 2);
    }
    return out;
}

namespace {

QString nameText(const X509_NAME *name)
{
    if (!name)
        return {};
    BIO *bio = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char *data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    QString s = QString::fromUtf8(data, int(len));
    BIO_free(bio);
    // Shown as plain text: control characters from a hostile certificate become '?'.
    for (QChar &c : s) {
        if (c.category() == QChar::Other_Control)
            c = QLatin1Char('?');
    }
    return s;
}

QDateTime timeOf(const ASN1_TIME *t)
{
    if (!t)
        return {};
    struct tm tm {};
    if (ASN1_TIME_to_tm(t, &tm) != 1)
        return {};
    return QDateTime(QDate(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday),
                     QTime(tm.tm_hour, tm.tm_min, tm.tm_sec), Qt::UTC);
}

} // namespace

QByteArray fingerprintOf(const X509 *cert)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!cert || X509_digest(cert, EVP_sha256(), md, &len) != 1)
        return {};
    return QByteArray(reinterpret_cast<const char *>(md), int(len)).toHex(':').toUpper();
}

CertificateInfo certificateInfoOf(const X509 *cert)
{
    CertificateInfo info;
    if (!cert)
        return info;
    info.subject = nameText(X509_get_subject_name(cert));
    info.issuer = nameText(X509_get_issuer_name(cert));
    info.notBefore = timeOf(X509_get0_notBefore(cert));
    info.notAfter = timeOf(X509_get0_notAfter(cert));
    info.sha256 = fingerprintOf(cert);
    auto *names = static_cast<GENERAL_NAMES *>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (names) {
        for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
            const GENERAL_NAME *n = sk_GENERAL_NAME_value(names, i);
            if (n->type == GEN_DNS) {
                const auto *s = n->d.dNSName;
                info.altNames << QString::fromLatin1(reinterpret_cast<const char *>(ASN1_STRING_get0_data(s)),
                                                     ASN1_STRING_length(s));
            } else if (n->type == GEN_IPADD) {
                const auto *s = n->d.iPAddress;
                const unsigned char *p = ASN1_STRING_get0_data(s);
                const int len = ASN1_STRING_length(s);
                if (len == 4) {
                    info.altNames << QStringLiteral("%1.%2.%3.%4").arg(p[0]).arg(p[1]).arg(p[2]).arg(p[3]);
                } else if (len == 16) {
                    QStringList groups;
                    for (int g = 0; g < 16; g += 2)
                        groups << QString::number((p[g] << 8) | p[g + 1], 16);
                    info.altNames << groups.join(QLatin1Char(':'));
                }
            }
        }
        GENERAL_NAMES_free(names);
    }
    for (QString &n : info.altNames) {
        for (QChar &c : n) {
            if (c.category() == QChar::Other_Control)
                c = QLatin1Char('?');
        }
    }
    return info;
}

namespace {

void freeCapture(void *, void *ptr, CRYPTO_EX_DATA *, int, long, void *)
{
    delete static_cast<TlsCaptureRef *>(ptr);
}

int captureIndex()
{
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, freeCapture);
    return index;
}

int verifyCallback(int preverifyOk, X509_STORE_CTX *store)
{
    auto *ssl = static_cast<SSL *>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto *ref = ssl ? static_cast<TlsCaptureRef *>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), captureIndex())) : nullptr;
    if (!ref || !*ref)
        return preverifyOk;
    TlsCapture &cap = **ref;
    X509 *leaf = X509_STORE_CTX_get0_cert(store);
    if (!cap.seen && leaf) {
        cap.report.peer = certificateInfoOf(leaf);
        cap.seen = true;
    }
    if (!cap.pin.isEmpty()) {
        // A certificate the person trusted by its fingerprint: that one, and no other.
        if (fingerprintOf(leaf) == cap.pin) {
            X509_STORE_CTX_set_error(store, X509_V_OK);
            return 1;
        }
        cap.report.pinMismatch = true;
        cap.report.pinned = cap.pin;
        cap.report.problem = Tr::tr("the certificate is not the one that was trusted");
        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    if (!preverifyOk && cap.report.problem.isEmpty())
        cap.report.problem = QString::fromUtf8(X509_verify_cert_error_string(X509_STORE_CTX_get_error(store)));
    return preverifyOk;
}

} // namespace

void watchHandshakes(SSL_CTX *ctx, const TlsCaptureRef &capture)
{
    SSL_CTX_set_ex_data(ctx, captureIndex(), new TlsCaptureRef(capture));
    SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), verifyCallback);
}

CertificateInfo certificateInfoFromDer(const QByteArray &der)
{
    const auto *p = reinterpret_cast<const unsigned char *>(der.constData());
    X509 *cert = d2i_X509(nullptr, &p, der.size());
    CertificateInfo info = certificateInfoOf(cert);
    X509_free(cert);
    return info;
}

} // namespace quire::net
