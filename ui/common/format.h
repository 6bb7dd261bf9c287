#pragma once

#include "catalog/documentstatus.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QString>

namespace quire {

// Person-readable forms of numbers, sizes, durations and statuses (translated, locale-aware).
class Format final
{
    Q_DECLARE_TR_FUNCTIONS(Format)
public:
    static QString count(qint64 n);
    static QString bytes(qint64 n);
    static QString speed(double bytesPerSecond);
    static QString duration(qint64 ms);                 // "42 s", "3 min 5 s", "2 h 10 min"
    static QString status(DocStatus status);            // "Queued", "Hashing", ...
    static QString shortHash(const QByteArray &sha256);  // first 12 hex digits and an ellipsis
    static QString documents(qint64 n);                 // "1 document", "1,234 documents"
};

} // namespace quire
