// A command's answer as data, and the one renderer of its two forms.
//
// Handlers build a Table (a listing: one row per route, port, VM...) or a
// Record (named values: counters, table statistics) from typed cells; the
// renderer writes both the text an operator reads and the JSON a script
// reads from that one model, so the two cannot drift apart and no handler
// formats columns by hand. YANET's cli/table_printer.h is the model.
//
// Text: columns padded to their width, always at least one space between
// two columns (a long VM-ID pushes the row right rather than gluing onto
// the next value), the last column as wide as its value, no trailing spaces.
// JSON: a Table is an array of objects (one member per keyed column, plus
// the row's extra members); a Record is an object whose dotted keys nest
// ("counters.rx_packets" -> {"counters": {"rx_packets": ...}}).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <optional>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace nvmove::ctl {

// One value: what JSON carries and what text shows (derived unless given).
// Kept as the typed value, so a listing of 100,000 rows builds only the form
// the client asked for.
struct Cell {
  std::variant<std::nullptr_t, bool, int64_t, uint64_t, double, std::string, nlohmann::json> value;
  std::optional<std::string> shown;  // the text, when it is not the value's own

  Cell() : value(nullptr) {}
  Cell(std::nullptr_t) : value(nullptr) {}
  Cell(std::string s) : value(std::move(s)) {}
  Cell(const char *s) : value(std::string(s)) {}
  Cell(std::string_view s) : value(std::string(s)) {}
  Cell(bool b) : value(b) {}
  template <typename T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Cell(T n) {
    if constexpr (std::is_signed_v<T>) value = static_cast<int64_t>(n);
    else value = static_cast<uint64_t>(n);
  }
  Cell(double d) : value(d) {}
  // A JSON value as it is: strings bare, null "-", booleans yes/no.
  static Cell of(nlohmann::json j) {
    Cell c;
    c.value = std::move(j);
    return c;
  }
  // A value whose text is not its JSON: "0.250s ago" for 0.25, "never" for null.
  static Cell shown_as(Cell value, std::string text) {
    value.shown = std::move(text);
    return value;
  }
  static Cell shown_as(nlohmann::json value, std::string text) { return shown_as(of(std::move(value)), std::move(text)); }
  template <typename V>
  static Cell shown_as(V value, std::string text) {
    return shown_as(Cell(std::move(value)), std::move(text));
  }

  std::string text() const;
  nlohmann::json json() const &;
  nlohmann::json json() &&;
};

enum class Align { left, right };

struct Column {
  std::string_view key;     // JSON member; empty: the column is text only
  std::string_view header;  // text heading
  size_t width = 0;         // text width with the gap after it; 0: as wide as the value (last column)
  Align align = Align::left;
};

class Table {
 public:
  // Columns with an empty header and key are JSON-free text columns; a Table
  // without any header prints no heading line.
  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

  struct Row {
    std::vector<Cell> cells;                           // one per column, in order
    nlohmann::json extra = nlohmann::json::object();  // JSON-only members
  };
  // Adds a row; cells in column order. Returns it for extra JSON members.
  Row &add(std::vector<Cell> cells);

  size_t size() const { return rows_.size(); }
  std::string text() const;
  nlohmann::json json() const &;
  nlohmann::json json() &&;  // moves the cells out: no copy of a large listing

 private:
  std::vector<Column> columns_;
  std::vector<Row> rows_;
};

class Record {
 public:
  // name_width: the label column; value_width 0 prints the value left-aligned
  // right after the label, otherwise right-aligned in that width.
  // Keys::flat keeps dots in keys (names that are not ours, like xstats).
  enum class Keys { nested, flat };
  Record(size_t name_width, size_t value_width, Keys keys = Keys::nested)
      : name_width_(name_width), value_width_(value_width), keys_(keys) {}

  struct Field {
    std::string key;    // JSON path, dotted
    Cell value;
    std::string label;  // text label (empty: the key)
    std::string note;   // text after the value ("drop")
    bool in_text = true;
  };
  Record &add(Field f);
  Record &add(std::string key, Cell value) { return add(Field{std::move(key), std::move(value)}); }

  std::string text() const;
  nlohmann::json json() const;

 private:
  size_t name_width_, value_width_;
  Keys keys_;
  std::vector<Field> fields_;
};

}  // namespace nvmove::ctl
