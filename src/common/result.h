#pragma once
// Result<T>: a value or an Error, the way every layer below http/ reports failure.
// Errors are values (STYLE.md §7); exceptions are for bugs only.

#include <optional>
#include <utility>
#include <variant>

#include "common/error.h"

namespace tb {

template <class T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    T& operator*() & { return std::get<0>(v_); }
    const T& operator*() const& { return std::get<0>(v_); }

    const Error& error() const& { return std::get<1>(v_); }
    Error&& error() && { return std::get<1>(std::move(v_)); }

  private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design

    bool ok() const { return !error_.has_value(); }
    explicit operator bool() const { return ok(); }
    const Error& error() const& { return *error_; }
    Error&& error() && { return std::move(*error_); }

  private:
    std::optional<Error> error_;
};

using Status = Result<void>;

}  // namespace tb

#define TB_CONCAT_INNER(a, b) a##b
#define TB_CONCAT(a, b) TB_CONCAT_INNER(a, b)

// In plain functions.
#define TB_RETURN_IF_ERROR(...)                                     \
    do {                                                            \
        auto tb_status_ = (__VA_ARGS__);                            \
        if (!tb_status_.ok()) return std::move(tb_status_).error(); \
    } while (0)

#define TB_ASSIGN_OR_RETURN(lhs, ...) \
    TB_ASSIGN_OR_RETURN_IMPL(TB_CONCAT(tb_result_, __COUNTER__), lhs, return, __VA_ARGS__)

// In coroutines (Task<Result<T>>).
#define TB_CO_RETURN_IF_ERROR(...)                                     \
    do {                                                               \
        auto tb_status_ = (__VA_ARGS__);                               \
        if (!tb_status_.ok()) co_return std::move(tb_status_).error(); \
    } while (0)

#define TB_CO_ASSIGN_OR_RETURN(lhs, ...) \
    TB_ASSIGN_OR_RETURN_IMPL(TB_CONCAT(tb_result_, __COUNTER__), lhs, co_return, __VA_ARGS__)

#define TB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, ret, ...) \
    auto tmp = (__VA_ARGS__);                        \
    if (!tmp.ok()) ret std::move(tmp).error();       \
    lhs = std::move(tmp).value()
