// The commands of nved and nvad: one table with words, usage and help, shared
// by the daemons (dispatch, `help`) and nvectl (parsing, completion, the
// read-only check). Behaviour lives in the daemons' handlers only.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nvmove::ctl {

struct CommandSpec {
  std::string_view words;  // fixed words, e.g. "show port stats"
  std::string_view usage;  // arguments after the words
  std::string_view help;
  bool mutating;           // refused in read-only mode
};

std::span<const CommandSpec> nved_commands();
std::span<const CommandSpec> nvad_commands();

// Finds the command whose words are the longest prefix of `argv`; `nwords`
// receives how many leading words it took. Each typed word may be an
// abbreviation (a prefix) of the command's word, as in birdc and vppctl:
// "sh ro" is "show routes" when no other command fits as well (a word typed
// in full beats an abbreviation: "show port" is "show ports"). nullptr if none
// matches, or if several fit equally well: then `ambiguous` (if given)
// receives them.
const CommandSpec *match_command(std::span<const CommandSpec> table, const std::vector<std::string> &argv,
                                 size_t &nwords, std::vector<const CommandSpec *> *ambiguous = nullptr);

// The help lines of the commands that `typed` (words or abbreviations)
// could begin: what "?" after a partial command shows.
std::string help_for(std::span<const CommandSpec> table, const std::vector<std::string> &typed);

// Words that can follow `typed` (for tab completion).
std::vector<std::string> complete(std::span<const CommandSpec> table, const std::vector<std::string> &typed,
                                  const std::string &partial);

std::string help_text(std::span<const CommandSpec> table);

// "usage: show routes [vn N] [ADDRESS]": the one place a usage line is made.
std::string usage_line(const CommandSpec &spec);

}  // namespace nvmove::ctl
