# The libraries statefun-bootstrap's core library links, found the same way for the project's own build
# and for a project that uses the installed library (StatefunBootstrapConfig.cmake includes this file), so
# the two can never disagree about a dependency. Every one is a Debian package (scripts/install-deps.sh).
#
# Defines the imported targets the core library's link interface names: RocksDB::rocksdb, Snappy::snappy,
# protobuf::libprotobuf, protobuf::libprotoc, yaml-cpp, nlohmann_json::nlohmann_json, Boost::boost, Threads::Threads,
# PkgConfig::RDKAFKA (librdkafka), PkgConfig::PQXX (libpqxx with libpq), PkgConfig::AVRO (Avro C) and
# PkgConfig::CURL (libcurl, the schema registry client).
include_guard(GLOBAL)

find_package(Threads REQUIRED)
# Debian's librocksdb-dev ships a CMake package; a RocksDB built without one is found by name.
find_package(RocksDB CONFIG QUIET)
if(NOT RocksDB_FOUND AND NOT TARGET RocksDB::rocksdb)
  find_library(ROCKSDB_LIB rocksdb REQUIRED)
  find_path(ROCKSDB_INCLUDE rocksdb/db.h REQUIRED)
  add_library(RocksDB::rocksdb UNKNOWN IMPORTED)
  set_target_properties(RocksDB::rocksdb PROPERTIES IMPORTED_LOCATION ${ROCKSDB_LIB}
                        INTERFACE_INCLUDE_DIRECTORIES ${ROCKSDB_INCLUDE})
endif()
# libsnappy-dev ships a CMake package (Snappy::snappy); a snappy built without one is found by name. It
# decodes the key groups of base savepoints taken with snapshot compression on.
find_package(Snappy CONFIG QUIET)
if(NOT Snappy_FOUND AND NOT TARGET Snappy::snappy)
  find_library(SNAPPY_LIB snappy REQUIRED)
  find_path(SNAPPY_INCLUDE snappy.h REQUIRED)
  add_library(Snappy::snappy UNKNOWN IMPORTED)
  set_target_properties(Snappy::snappy PROPERTIES IMPORTED_LOCATION ${SNAPPY_LIB}
                        INTERFACE_INCLUDE_DIRECTORIES ${SNAPPY_INCLUDE})
endif()
find_package(Protobuf REQUIRED)
# libprotoc (libprotoc-dev) parses the .proto text a schema registry gives for a Protobuf schema.
if(NOT TARGET protobuf::libprotoc)
  message(FATAL_ERROR "libprotoc was not found: install libprotoc-dev (scripts/install-deps.sh does)")
endif()
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(Boost REQUIRED)
find_package(PkgConfig REQUIRED)
# librdkafka and libpqxx are found through pkg-config (neither ships a CMake package on Debian 12).
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx libpq)
# Avro C (libavro-dev) decodes Avro keys and values; libcurl fetches their schemas from a schema registry.
pkg_check_modules(AVRO REQUIRED IMPORTED_TARGET avro-c)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
