#include "catalog/documentstatus.h"

#include <array>

namespace quire {

namespace {
constexpr std::array<const char *, kDocStatusCount> kNames = {
    "queued", "hashing", "hashed", "uploading", "uploaded", "duplicate", "failed", "cancelled",
};
}

QString statusName(DocStatus status)
{
    const auto i = static_cast<int>(status);
    return (i >= 0 && i < kDocStatusCount) ? QString::fromLatin1(kNames[i]) : QString();
}

std::optional<DocStatus> statusFromName(QStringView name)
{
    for (int i = 0; i < kDocStatusCount; ++i) {
        if (name.compare(QLatin1StringView(kNames[i]), Qt::CaseInsensitive) == 0)
            return static_cast<DocStatus>(i);
    }
    return std::nullopt;
}

bool isFinal(DocStatus status)
{
    switch (status) {
    case DocStatus::Uploaded:
    case DocStatus::Duplicate:
    case DocStatus::Failed:
    case DocStatus::Cancelled:
        return true;
    default:
        return false;
    }
}

bool isActive(DocStatus status)
{
    return status == DocStatus::Hashing || status == DocStatus::Uploading;
}

} // namespace quire
