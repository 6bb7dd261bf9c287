#pragma once

#include <QMetaType>
#include <QString>

#include <optional>

namespace quire {

// A document's lifecycle:
//   queued -> hashing -> hashed -> uploading -> uploaded
// or it ends as duplicate (same SHA-256 already in the collection), failed (error text set)
// or cancelled. The names below are what the catalog stores and what the CLI prints.
enum class DocStatus : int {
    Queued = 0,
    Hashing,
    Hashed,
    Uploading,
    Uploaded,
    Duplicate,
    Failed,
    Cancelled,
};
inline constexpr int kDocStatusCount = 8;

QString statusName(DocStatus status);                       // "queued", "hashing", ...
std::optional<DocStatus> statusFromName(QStringView name);  // inverse of statusName()
bool isFinal(DocStatus status);                             // uploaded, duplicate, failed, cancelled
bool isActive(DocStatus status);                            // hashing or uploading

} // namespace quire

Q_DECLARE_METATYPE(quire::DocStatus)
