// A value or an error, for C++20 code that cannot use std::expected (C++23).
#pragma once

#include <type_traits>
#include <utility>
#include <variant>

namespace nvmove::proto {

template <typename T, typename E>
class Result {
  static_assert(!std::is_same_v<T, E>, "value and error types must differ");

 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Result(E error) : state_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Calling value() on an error (or error() on a value) is a programming
  // error; std::get throws std::bad_variant_access rather than reading garbage.
  const T &value() const & { return std::get<0>(state_); }
  T &value() & { return std::get<0>(state_); }
  T &&value() && { return std::get<0>(std::move(state_)); }
  const E &error() const { return std::get<1>(state_); }

  const T *operator->() const { return &value(); }
  T *operator->() { return &value(); }

 private:
  std::variant<T, E> state_;
};

}  // namespace nvmove::proto
