#include "cli/environment.h"

#include <fcntl.h>
#include <pwd.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>

namespace vault::cli {
namespace {

std::string GoErrno(int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

class SystemEnvironment final : public Environment {
 public:
  std::optional<std::string> GetEnv(const std::string& name) const override {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  }

  std::string HomeDir() const override {
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return home;
    if (passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_dir != nullptr) {
      return pw->pw_dir;
    }
    return "";
  }

  Result<std::string> ReadStdin() override {
    std::string all{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    if (std::cin.bad()) return Internal("error reading stdin");
    return all;
  }

  Result<std::string> ReadLine(const std::string& prompt, bool hidden) override {
    bool tty = isatty(STDIN_FILENO) == 1;
    termios saved{};
    bool echo_off = false;
    if (tty) {
      std::cerr << prompt << std::flush;
      if (hidden && tcgetattr(STDIN_FILENO, &saved) == 0) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
      }
    }
    std::string line;
    bool got = static_cast<bool>(std::getline(std::cin, line));
    if (echo_off) {
      tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
      std::cerr << "\n";
    }
    if (!got && line.empty()) return InvalidArgument("EOF");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }

  Result<std::string> ReadFile(const std::string& path) override {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NotFound("open " + path + ": " + GoErrno(errno));
    std::string out;
    char buf[65536];
    while (true) {
      ssize_t n = read(fd, buf, sizeof(buf));
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        close(fd);
        return Internal("read " + path + ": " + GoErrno(err));
      }
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    close(fd);
    return out;
  }

  Status WriteFile(const std::string& path, const std::string& contents) override {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return Internal("open " + path + ": " + GoErrno(errno));
    size_t done = 0;
    while (done < contents.size()) {
      ssize_t n = write(fd, contents.data() + done, contents.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        close(fd);
        return Internal("write " + path + ": " + GoErrno(err));
      }
      done += static_cast<size_t>(n);
    }
    if (close(fd) != 0) return Internal("close " + path + ": " + GoErrno(errno));
    return Status::Ok();
  }

  bool StdoutIsTerminal() const override { return isatty(STDOUT_FILENO) == 1; }
  std::ostream& Out() override { return std::cout; }
  std::ostream& Err() override { return std::cerr; }

  std::unique_ptr<HttpTransport> NewTransport(const HttpClientOptions& options) override {
    return std::make_unique<HttpClient>(options);
  }
};

}  // namespace

std::unique_ptr<Environment> NewSystemEnvironment() {
  return std::make_unique<SystemEnvironment>();
}

}  // namespace vault::cli
