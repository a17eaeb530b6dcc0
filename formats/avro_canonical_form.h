// The Parsing Canonical Form of an Avro schema and its 64-bit Rabin fingerprint (CRC-64-AVRO), as the
// Avro specification defines them ("Parsing Canonical Form for Schemas", "Schema Fingerprints"). Avro's
// single-object encoding names a datum's writer schema by this fingerprint:
//
//   C3 01        the single-object marker
//   8 bytes      the writer schema's CRC-64-AVRO fingerprint, little-endian
//   then         the binary datum
//
// The canonical form keeps only what affects parsing: primitive types as bare names, named types by
// their full names (a name defined earlier is just its full name), only the attributes name, type,
// fields, symbols, items, values and size, in that order, no whitespace. Two schemas that read the same
// bytes the same way have the same form, and so the same fingerprint.

#ifndef SFB_FORMATS_AVRO_CANONICAL_FORM_H_
#define SFB_FORMATS_AVRO_CANONICAL_FORM_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sfb {

// InvalidSpec when `schema_json` is not JSON or not shaped like an Avro schema.
Result<std::string> AvroParsingCanonicalForm(std::string_view schema_json);

// CRC-64-AVRO of `bytes` (of a canonical form, for a schema fingerprint).
uint64_t AvroFingerprint64(std::string_view bytes);

}  // namespace sfb

#endif  // SFB_FORMATS_AVRO_CANONICAL_FORM_H_
