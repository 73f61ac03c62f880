// consult::expected: expected where the standard library has it (g++ 12, C++23),
// else a small stand-in with the same interface for what this code uses. The
// stand-in exists for the fuzz targets: clang 14 with libstdc++ 12 leaves
// <expected> empty (its concepts feature test is too old), and libFuzzer needs clang.
#pragma once

#include <version>

#if defined(__cpp_lib_expected)

#include <expected>

namespace consult {
using std::expected;
using std::unexpected;
using std::bad_expected_access;
}  // namespace consult

#else

#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

namespace consult {

template <class E>
class unexpected {
public:
    template <class G = E>
        requires(!std::is_same_v<std::remove_cvref_t<G>, unexpected>)
    constexpr explicit unexpected(G&& e) : error_(std::forward<G>(e)) {}
    constexpr const E& error() const& noexcept { return error_; }
    constexpr E& error() & noexcept { return error_; }
    constexpr E&& error() && noexcept { return std::move(error_); }

private:
    E error_;
};

template <class E>
unexpected(E) -> unexpected<E>;

template <class E>
class bad_expected_access : public std::exception {
public:
    explicit bad_expected_access(E e) : error_(std::move(e)) {}
    const char* what() const noexcept override { return "bad expected access"; }
    const E& error() const& noexcept { return error_; }

private:
    E error_;
};

namespace detail {
template <class E>
struct Failed {
    E error;
};
}  // namespace detail

template <class T, class E>
class expected {
public:
    using value_type = T;
    using error_type = E;

    constexpr expected() requires std::is_default_constructible_v<T> : v_(std::in_place_index<0>) {}
    template <class U = T>
        requires(!std::is_same_v<std::remove_cvref_t<U>, expected> && std::is_constructible_v<T, U> &&
                 !std::is_same_v<std::remove_cvref_t<U>, unexpected<E>>)
    constexpr expected(U&& v) : v_(std::in_place_index<0>, std::forward<U>(v)) {}
    template <class G>
    constexpr expected(const unexpected<G>& u) : v_(std::in_place_index<1>, detail::Failed<E>{E(u.error())}) {}
    template <class G>
    constexpr expected(unexpected<G>&& u) : v_(std::in_place_index<1>, detail::Failed<E>{E(std::move(u).error())}) {}
    template <class U, class G>
        requires(!std::is_same_v<expected<U, G>, expected> && std::is_constructible_v<T, const U&>)
    constexpr expected(const expected<U, G>& other)
        : v_(other ? std::variant<T, detail::Failed<E>>(std::in_place_index<0>, *other)
                   : std::variant<T, detail::Failed<E>>(std::in_place_index<1>, detail::Failed<E>{E(other.error())})) {}
    template <class U, class G>
        requires(!std::is_same_v<expected<U, G>, expected> && std::is_constructible_v<T, U &&>)
    constexpr expected(expected<U, G>&& other)
        : v_(other ? std::variant<T, detail::Failed<E>>(std::in_place_index<0>, std::move(*other))
                   : std::variant<T, detail::Failed<E>>(std::in_place_index<1>, detail::Failed<E>{E(std::move(other).error())})) {}

    constexpr bool has_value() const noexcept { return v_.index() == 0; }
    constexpr explicit operator bool() const noexcept { return has_value(); }

    constexpr T& value() & { check(); return std::get<0>(v_); }
    constexpr const T& value() const& { check(); return std::get<0>(v_); }
    constexpr T&& value() && { check(); return std::get<0>(std::move(v_)); }
    constexpr T& operator*() & noexcept { return std::get<0>(v_); }
    constexpr const T& operator*() const& noexcept { return std::get<0>(v_); }
    constexpr T&& operator*() && noexcept { return std::get<0>(std::move(v_)); }
    constexpr T* operator->() noexcept { return &std::get<0>(v_); }
    constexpr const T* operator->() const noexcept { return &std::get<0>(v_); }
    template <class U>
    constexpr T value_or(U&& other) const& { return has_value() ? **this : T(std::forward<U>(other)); }

    constexpr E& error() & noexcept { return std::get<1>(v_).error; }
    constexpr const E& error() const& noexcept { return std::get<1>(v_).error; }
    constexpr E&& error() && noexcept { return std::move(std::get<1>(v_).error); }

private:
    void check() const {
        if (!has_value()) throw bad_expected_access<E>(error());
    }
    std::variant<T, detail::Failed<E>> v_;
};

template <class E>
class expected<void, E> {
public:
    using value_type = void;
    using error_type = E;

    constexpr expected() noexcept = default;
    template <class G>
    constexpr expected(const unexpected<G>& u) : error_(detail::Failed<E>{E(u.error())}), failed_(true) {}
    template <class G>
    constexpr expected(unexpected<G>&& u) : error_(detail::Failed<E>{E(std::move(u).error())}), failed_(true) {}

    constexpr bool has_value() const noexcept { return !failed_; }
    constexpr explicit operator bool() const noexcept { return has_value(); }
    constexpr void value() const {
        if (failed_) throw bad_expected_access<E>(error());
    }
    constexpr void operator*() const noexcept {}
    constexpr E& error() & noexcept { return error_.error; }
    constexpr const E& error() const& noexcept { return error_.error; }

private:
    detail::Failed<E> error_{};
    bool failed_ = false;
};

}  // namespace consult

#endif
