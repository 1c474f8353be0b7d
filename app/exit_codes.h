#pragma once
// The exit statuses of every Music Split program (CLI commands, server, GUI), so scripts can tell
// a refused command line from a failed piece of work.
namespace msplit::exit_code {

inline constexpr int kOk = 0;
inline constexpr int kFailed = 1;  // the work failed (a bad file, a missing model, a dead server)
inline constexpr int kUsage = 2;   // the command line was wrong; nothing was done

}  // namespace msplit::exit_code
