// Which state names a remote function written with statefun's Python SDK can declare.
//
// The Python SDK's ValueSpec(name, ...) raises ValueError unless the name is a Python identifier
// (str.isidentifier), not a keyword (keyword.iskeyword) and lower case (str.islower: no upper-case
// letter and at least one letter), because every state becomes an attribute of `context.storage`.
// The Java, Go and JavaScript SDKs accept other names, so a job may declare them; but a Python
// function could never read what was bootstrapped into them, which the job builder warns about.
//
// The check is exact for ASCII names. A name with other characters is judged by its ASCII characters
// only (Python also accepts lower-case letters of other scripts, such as "größe").

#ifndef SFB_JOB_PYTHON_STATE_NAMES_H_
#define SFB_JOB_PYTHON_STATE_NAMES_H_

#include <string>
#include <string_view>

namespace sfb {

// Why a Python SDK function cannot declare a state named `name` ("is a Python keyword", ...), or ""
// when it can.
std::string PythonStateNameProblem(std::string_view name);

// A similar name the Python SDK accepts, for the fix: firstName -> first_name, class -> class_,
// last-visit -> last_visit, 2fa -> _2fa.
std::string PythonStateNameSuggestion(std::string_view name);

}  // namespace sfb

#endif  // SFB_JOB_PYTHON_STATE_NAMES_H_
