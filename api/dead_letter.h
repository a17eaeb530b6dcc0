// DeadLetterFile, DeadLetterOptions: where bad records go (the public name of pipeline/dead_letter.h).
//
// The interface lives in pipeline/, beside the stage that uses it, so nothing below api/ includes
// api/; this header keeps the include path that connectors and users already use.

#ifndef SFB_API_DEAD_LETTER_H_
#define SFB_API_DEAD_LETTER_H_

#include "pipeline/dead_letter.h"

#endif  // SFB_API_DEAD_LETTER_H_
