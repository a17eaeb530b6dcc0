// Source, RecordConsumer: where bootstrap records come from (the public name of pipeline/source.h).
//
// The interface lives in pipeline/, beside the stage that uses it, so nothing below api/ includes
// api/; this header keeps the include path that connectors and users already use.

#ifndef SFB_API_SOURCE_H_
#define SFB_API_SOURCE_H_

#include "pipeline/source.h"

#endif  // SFB_API_SOURCE_H_
