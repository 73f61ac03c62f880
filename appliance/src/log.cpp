#include "appliance/log.hpp"

#include <glib.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

namespace consult::log {

namespace {

std::atomic<GLogLevelFlags> g_threshold{G_LOG_LEVEL_INFO};

const char* level_name(GLogLevelFlags l) {
    if (l & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) return "error";
    if (l & G_LOG_LEVEL_WARNING) return "warning";
    if (l & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO)) return "info";
    return "debug";
}

// GLib level bits grow with verbosity, so "at most the threshold" is a comparison.
GLogLevelFlags severity(GLogLevelFlags l) {
    for (GLogLevelFlags f : {G_LOG_LEVEL_ERROR, G_LOG_LEVEL_CRITICAL, G_LOG_LEVEL_WARNING,
                             G_LOG_LEVEL_MESSAGE, G_LOG_LEVEL_INFO, G_LOG_LEVEL_DEBUG})
        if (l & f) return f;
    return G_LOG_LEVEL_DEBUG;
}

GLogWriterOutput writer(GLogLevelFlags level, const GLogField* fields, gsize n, gpointer) {
    if (severity(level) > g_threshold.load()) return G_LOG_WRITER_HANDLED;
    if (g_log_writer_is_journald(fileno(stderr))) {
        if (g_log_writer_journald(level, fields, n, nullptr) == G_LOG_WRITER_HANDLED)
            return G_LOG_WRITER_HANDLED;
    }
    std::string line = "consult ";
    line += level_name(level);
    line += ": ";
    std::string extra;
    for (gsize i = 0; i < n; ++i) {
        std::string_view key = fields[i].key;
        std::string_view value(static_cast<const char*>(fields[i].value),
                               fields[i].length < 0 ? strlen(static_cast<const char*>(fields[i].value))
                                                    : size_t(fields[i].length));
        if (key == "MESSAGE") line += value;
        else if (key != "PRIORITY" && key != "GLIB_DOMAIN" && key != "CODE_FILE" && key != "CODE_LINE" &&
                 key != "CODE_FUNC" && key != "GLIB_OLD_LOG_API" &&
                 key != "SYSLOG_IDENTIFIER")
            extra += " " + std::string(key) + "=" + std::string(value);
    }
    line += extra + "\n";
    fputs(line.c_str(), stderr);
    return G_LOG_WRITER_HANDLED;
}

GLogLevelFlags to_glib(Level l) {
    switch (l) {
    case Level::Error: return G_LOG_LEVEL_CRITICAL;  // G_LOG_LEVEL_ERROR aborts
    case Level::Warning: return G_LOG_LEVEL_WARNING;
    case Level::Info: return G_LOG_LEVEL_INFO;
    case Level::Debug: return G_LOG_LEVEL_DEBUG;
    }
    return G_LOG_LEVEL_INFO;
}

}  // namespace

void init(std::string_view level) {
    Level l = level == "error" ? Level::Error : level == "warning" ? Level::Warning
            : level == "debug" ? Level::Debug : Level::Info;
    g_threshold = to_glib(l);
    static bool installed = false;  // GLib allows setting the writer once per process
    if (!installed) {
        g_log_set_writer_func(writer, nullptr, nullptr);
        installed = true;
    }
}

void write(Level level, std::string_view message, std::initializer_list<Field> fields) {
    std::string msg(message);
    std::vector<GLogField> out;
    out.push_back({"MESSAGE", msg.c_str(), -1});
    out.push_back({"GLIB_DOMAIN", "consult", -1});
    out.push_back({"SYSLOG_IDENTIFIER", "consultd", -1});
    for (const auto& f : fields) out.push_back({f.key, f.value.c_str(), gssize(f.value.size())});
    g_log_structured_array(to_glib(level), out.data(), out.size());
}

}  // namespace consult::log
