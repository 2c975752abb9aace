#pragma once
/// \file `judgebias perturb`: from clean comparison requests to the judgment records (control and cue
/// variants, both orders) a judge must fill in.

#include <cstdint>
#include <istream>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace judgebias {

/// Where a cue goes.
enum class cue_placement : std::uint8_t {
  prompt,          ///< A sentence for the judge's prompt; the answers are unchanged.
  answer_append,   ///< Appended to the target answer.
  answer_prepend,  ///< Put before the target answer.
};

/// The templates of one cue kind. Placeholders: {slot} ("a"/"b", the target's slot), {slot_upper},
/// {pct}, {author}, {title}, {publisher}, {year}, {page}, {site}, {slug}, {hobby}; "{{" is a literal "{".
/// Any other "{name}" (a letter or "_", then letters, digits, "_" or "-") is refused.
struct cue_kind_templates {
  cue_placement placement = cue_placement::prompt;
  std::vector<std::string> templates;
};

/// Templates by kind name.
using cue_templates = std::map<std::string, cue_kind_templates>;

/// The built-in templates: bandwagon, authority (book, quote and URL forms), verbosity (padding),
/// distraction, reflection (docs/workflow.md lists them and their sources).
cue_templates builtin_cue_templates();

/// Reads a template file (JSON: {"kind": {"placement": "prompt"|"append"|"prepend", "templates": [...]}}),
/// merged over the built-ins. Throws parse_error (with the file's path) or io_error.
cue_templates load_cue_templates(const std::string& path);

/// The same for a template file's text, reported as `name`: throws parse_error at name:line:column (an
/// unknown placeholder: reason `unknown_placeholder`, at its "{").
cue_templates parse_cue_templates(const std::string& name, std::string_view text);

/// Options of perturb.
struct perturb_options {
  std::string judge;  ///< Written as every record's `judge`.
  std::vector<std::string> kinds = {"bandwagon", "authority", "verbosity", "distraction", "reflection"};
  std::uint64_t seed = 0;
  cue_templates templates = builtin_cue_templates();
};

/// Reads comparison requests (JSONL: item, question, a and b with text and optionally model/id, optional
/// gold) from `in` (reported as `name`) and writes FORMAT v1 records without verdicts to `out`.
/// Returns the number of records written. Throws parse_error for a bad request line, usage_error for an
/// unknown kind or a template with an unknown placeholder (before anything is written).
std::uint64_t perturb_requests(std::istream& in, const std::string& name, const perturb_options& options,
                               std::ostream& out);

}  // namespace judgebias
