# What `cmake --install` puts in place and what `cpack` packages, in two components:
#   cli  bin/statefun-bootstrap                          -> the Debian package statefun-bootstrap
#   dev  the C++ API: lib/libsfb_core.a, its headers under include/statefun-bootstrap/, and the CMake
#        package StatefunBootstrap (lib/cmake/StatefunBootstrap/)  -> statefun-bootstrap-dev
# The .deb's dependencies are computed from the binary (dpkg-shlibdeps), so they are exactly the Debian
# packages whose libraries it links; the -dev package depends on the -dev packages of the same libraries.
include(CMakePackageConfigHelpers)

install(TARGETS statefun-bootstrap RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cli)

# The public headers: api/ and the connectors' sources, with every header they include (the closure; the
# consumer build in tests/integration/test_containers.py includes each entry point and fails when one is
# missing here).
set(SFB_PUBLIC_HEADERS
  api/dead_letter.h api/record.h api/router.h api/savepoint_creator.h api/source.h
  api/state_bootstrap_function.h api/types.h
  common/byte_reader.h common/file_io.h common/status.h
  connectors/file/csv_parser.h connectors/file/file_source.h
  connectors/kafka/kafka_config.h connectors/kafka/kafka_plan.h connectors/kafka/kafka_progress.h
  connectors/kafka/schema_registry_client.h
  connectors/kafka/kafka_source.h connectors/kafka/protobuf_fields.h
  connectors/postgres/pg_endpoint.h connectors/postgres/pg_session.h connectors/postgres/pg_snapshot.h
  connectors/postgres/pg_types.h connectors/postgres/postgres_source.h connectors/postgres/query_check.h
  connectors/postgres/read_plan.h connectors/postgres/sql_text.h connectors/postgres/worker_pool.h
  formats/field_sink.h formats/protobuf_message_type.h
  pipeline/dead_letter.h pipeline/router.h pipeline/run_options.h pipeline/run_report.h pipeline/source.h
  common/record.h savepoint/state_descriptor.h savepoint/state_spec.h savepoint/typed_value.h
  writer/bootstrap_function.h writer/on_existing.h)
foreach(header ${SFB_PUBLIC_HEADERS})
  get_filename_component(dir ${header} DIRECTORY)
  install(FILES ${header} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/statefun-bootstrap/${dir} COMPONENT dev)
endforeach()

set_target_properties(sfb_core PROPERTIES EXPORT_NAME core)
install(TARGETS sfb_core EXPORT StatefunBootstrapTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
set(SFB_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/StatefunBootstrap)
install(EXPORT StatefunBootstrapTargets NAMESPACE StatefunBootstrap:: DESTINATION ${SFB_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/StatefunBootstrapConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/StatefunBootstrapConfig.cmake INSTALL_DESTINATION ${SFB_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/StatefunBootstrapConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/StatefunBootstrapConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/StatefunBootstrapConfigVersion.cmake
              ${CMAKE_CURRENT_LIST_DIR}/StatefunBootstrapDependencies.cmake
        DESTINATION ${SFB_CMAKE_DIR} COMPONENT dev)

# cpack -G DEB: statefun-bootstrap_<version>_<arch>.deb and statefun-bootstrap-dev_<version>_<arch>.deb.
set(CPACK_PACKAGE_NAME statefun-bootstrap)
set(CPACK_PACKAGE_VENDOR "statefun-bootstrap")
set(CPACK_PACKAGE_CONTACT "statefun-bootstrap maintainers <maintainers@statefun-bootstrap.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Builds Apache Flink Stateful Functions savepoints from files, PostgreSQL and Kafka")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL cli dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_CLI_PACKAGE_NAME statefun-bootstrap)
set(CPACK_DEBIAN_CLI_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME statefun-bootstrap-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "librocksdb-dev, libprotobuf-dev, libprotoc-dev, libyaml-cpp-dev, nlohmann-json3-dev, libboost-dev, librdkafka-dev, libpqxx-dev, libavro-dev, libcurl4-openssl-dev, pkg-config")
set(CPACK_COMPONENT_CLI_DESCRIPTION "the statefun-bootstrap command line tool")
set(CPACK_COMPONENT_DEV_DESCRIPTION "the statefun-bootstrap C++ API: static library, headers, CMake package")
include(CPack)
