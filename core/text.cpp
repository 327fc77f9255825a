#include "core/text.h"

#include <cctype>

namespace normlab {

std::string join(const std::vector<std::string>& items, std::size_t max_items) {
  std::string text;
  for (std::size_t i = 0; i < items.size() && i < max_items; ++i) {
    if (i) text += ", ";
    text += items[i];
  }
  if (items.size() > max_items) text += ", ... (" + std::to_string(items.size()) + " in all)";
  return text;
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::vector<std::string> sizes;
  for (const std::size_t n : shape) sizes.push_back(std::to_string(n));
  std::string text = "[";
  text += join(sizes);
  text += ']';
  return text;
}

std::string snake_case(std::string_view name) {
  std::string out;
  for (const char c : name) {
    if (std::isupper(static_cast<unsigned char>(c)) && !out.empty()) out += '_';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace normlab
