#pragma once

#include <QString>

#include <optional>
#include <utility>

namespace quire {

// The outcome of an operation that can fail with a message meant for a person.
// A failed Result carries the error text; a successful one carries the value.
template <typename T>
class [[nodiscard]] Result final
{
public:
    Result(T value) : m_value(std::move(value)) {}                       // NOLINT: implicit on purpose
    static Result failure(QString error) { Result r; r.m_error = std::move(error); return r; }

    bool ok() const { return m_value.has_value(); }
    explicit operator bool() const { return ok(); }
    const QString &error() const { return m_error; }

    T &value() & { return *m_value; }
    const T &value() const & { return *m_value; }
    T &&value() && { return std::move(*m_value); }
    T valueOr(T fallback) const { return m_value ? *m_value : std::move(fallback); }
    T *operator->() { return &*m_value; }
    const T *operator->() const { return &*m_value; }
    T &operator*() & { return *m_value; }
    const T &operator*() const & { return *m_value; }

private:
    Result() = default;
    std::optional<T> m_value;
    QString m_error;
};

template <>
class [[nodiscard]] Result<void> final
{
public:
    Result() = default;
    static Result failure(QString error) { Result r; r.m_failed = true; r.m_error = std::move(error); return r; }
    template <typename U>
    static Result from(const Result<U> &other) { return other.ok() ? Result() : failure(other.error()); }

    bool ok() const { return !m_failed; }
    explicit operator bool() const { return ok(); }
    const QString &error() const { return m_error; }

private:
    bool m_failed = false;
    QString m_error;
};

using Status = Result<void>;

} // namespace quire
