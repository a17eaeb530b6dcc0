// Router, Downstream: how a record is addressed (the public name of pipeline/router.h).
//
// The interface lives in pipeline/, beside the stage that uses it, so nothing below api/ includes
// api/; this header keeps the include path that connectors and users already use.

#ifndef SFB_API_ROUTER_H_
#define SFB_API_ROUTER_H_

#include "pipeline/router.h"

#endif  // SFB_API_ROUTER_H_
