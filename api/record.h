// Record, Value, Schema: one row, message or line from a source (the public name of common/record.h).
//
// The types live in common/ because the writer and the pipeline stages below the API handle records
// too; this header keeps the public include path that connectors and users already use.

#ifndef SFB_API_RECORD_H_
#define SFB_API_RECORD_H_

#include "common/record.h"

#endif  // SFB_API_RECORD_H_
