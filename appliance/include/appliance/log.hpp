// Structured logging: journald fields under systemd, one line on stderr otherwise.
// Callers pass identifiers (SESSION_ID=, PEER=) as fields; never names, phone numbers
// or tokens.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace consult::log {

enum class Level { Error, Warning, Info, Debug };

struct Field {
    const char* key;     // upper-case journald field name
    std::string value;
};

// Installs the GLib log writer (so GLib, libsoup and GStreamer warnings go the same way).
void init(std::string_view level);
void write(Level level, std::string_view message, std::initializer_list<Field> fields = {});

inline void error(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::Error, m, f); }
inline void warning(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::Warning, m, f); }
inline void info(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::Info, m, f); }
inline void debug(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::Debug, m, f); }

}  // namespace consult::log
