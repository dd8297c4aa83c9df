#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace nexus::test {

/// A fresh directory under $TMPDIR, removed with everything in it at scope end.
class temp_dir {
public:
  temp_dir() {
    auto base = std::filesystem::temp_directory_path() / "nexus-test-XXXXXX";
    std::string tmpl = base.string();
    if (mkdtemp(tmpl.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  std::string path() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

  /// Writes `text` to `name` in the directory and returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream out{file(name), std::ios::binary};
    out << text;
    return file(name);
  }

private:
  std::filesystem::path path_;
};

} // namespace nexus::test
