#include "control/ctl/table.h"

namespace nvmove::ctl {

namespace {

// Appends `s` in a field of `width` (0: as it is). A value as wide as its
// field or wider still gets one space before whatever follows.
void put(std::string &out, std::string_view s, size_t width, Align align, bool last) {
  if (width == 0 || (last && align == Align::left)) {
    out += s;
    return;
  }
  const size_t pad = s.size() < width ? width - s.size() : (align == Align::left ? 1 : 0);
  if (align == Align::right) out.append(pad, ' ');
  out += s;
  if (align == Align::left) out.append(pad, ' ');
}

void trim_right(std::string &line) {
  while (!line.empty() && line.back() == ' ') line.pop_back();
}

}  // namespace

std::string Cell::text() const {
  if (shown) return *shown;
  struct Text {
    std::string operator()(std::nullptr_t) const { return "-"; }
    std::string operator()(bool b) const { return b ? "yes" : "no"; }
    std::string operator()(int64_t n) const { return std::to_string(n); }
    std::string operator()(uint64_t n) const { return std::to_string(n); }
    std::string operator()(double d) const { return nlohmann::json(d).dump(); }
    std::string operator()(const std::string &s) const { return s; }
    std::string operator()(const nlohmann::json &j) const {
      if (j.is_string()) return j.get<std::string>();
      if (j.is_null()) return "-";
      if (j.is_boolean()) return j.get<bool>() ? "yes" : "no";
      return j.dump();
    }
  };
  return std::visit(Text{}, value);
}

nlohmann::json Cell::json() const & {
  return std::visit([](const auto &v) { return nlohmann::json(v); }, value);
}

nlohmann::json Cell::json() && {
  return std::visit([](auto &v) { return nlohmann::json(std::move(v)); }, value);
}

Table::Row &Table::add(std::vector<Cell> cells) {
  cells.resize(columns_.size());
  rows_.push_back(Row{std::move(cells), nlohmann::json::object()});
  return rows_.back();
}

std::string Table::text() const {
  std::string out;
  bool headed = false;
  for (const auto &c : columns_) headed |= !c.header.empty();
  auto line = [&](auto &&field_of) {
    std::string l;
    for (size_t i = 0; i < columns_.size(); i++)
      put(l, field_of(i), columns_[i].width, columns_[i].align, i + 1 == columns_.size());
    trim_right(l);
    out += l;
    out += '\n';
  };
  if (headed) line([&](size_t i) { return std::string(columns_[i].header); });
  for (const auto &r : rows_) line([&](size_t i) { return r.cells[i].text(); });
  return out;
}

nlohmann::json Table::json() const & {
  Table copy = *this;
  return std::move(copy).json();
}

nlohmann::json Table::json() && {
  nlohmann::json out = nlohmann::json::array();
  out.get_ref<nlohmann::json::array_t &>().reserve(rows_.size());
  for (auto &r : rows_) {
    nlohmann::json o = std::move(r.extra);
    for (size_t i = 0; i < columns_.size(); i++)
      if (!columns_[i].key.empty()) o[std::string(columns_[i].key)] = std::move(r.cells[i]).json();
    out.push_back(std::move(o));
  }
  rows_.clear();
  return out;
}

Record &Record::add(Field f) {
  fields_.push_back(std::move(f));
  return *this;
}

std::string Record::text() const {
  std::string out;
  for (const auto &f : fields_) {
    if (!f.in_text) continue;
    std::string l;
    put(l, f.label.empty() ? f.key : f.label, name_width_, Align::left, false);
    put(l, f.value.text(), value_width_, value_width_ ? Align::right : Align::left, false);
    if (!f.note.empty()) l += "  " + f.note;
    trim_right(l);
    out += l;
    out += '\n';
  }
  return out;
}

nlohmann::json Record::json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto &f : fields_) {
    if (keys_ == Keys::flat) {
      out[f.key] = f.value.json();
      continue;
    }
    std::string pointer = "/";
    for (char ch : f.key) pointer += ch == '.' ? std::string("/") : ch == '~' ? std::string("~0") : ch == '/' ? std::string("~1") : std::string(1, ch);
    out[nlohmann::json::json_pointer(pointer)] = f.value.json();
  }
  return out;
}

}  // namespace nvmove::ctl
