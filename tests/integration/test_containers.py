"""What a user builds, built for real: the container images (podman), the Debian package, the installed C++ API.

* The bootstrap image is built from the unchanged Dockerfile, and the greeter job run inside it writes the same
  bytes (every keyed-state file and _metadata) as the host's build at the same TTL clock.
* The demo's function image (demo/functions/Dockerfile) is built and started, and answers a statefun
  request-reply invocation the way the Java SDK does: it asks for the states the greeter declares.
* `cpack` builds the .deb; it installs into a bookworm-slim container with apt pulling exactly the
  dependencies the package declares, and the installed CLI writes the same savepoint bytes.
* `cmake --install` puts the C++ API in a prefix, and examples/greeter_bootstrap.cc builds against it with
  find_package(StatefunBootstrap) from a project outside this tree, and runs.

The base images come from debootstrap (tests/containers/podman.sh: Docker Hub is not reachable here). Where
rootful podman cannot run (not root, no apt-get) the container tests are skipped with the reason; the
install test needs no containers and always runs.
"""
import os
import pathlib
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

from conftest import BUILD, CLI, ROOT

PODMAN_SH = ROOT / "tests" / "containers" / "podman.sh"
RELEASE_BUILD = ROOT / "build-release"
GREETER = ROOT / "examples" / "greeter"
TTL_CLOCK = "1700000000000"
BOOTSTRAP_IMAGE = "statefun-bootstrap:local"
FUNCTIONS_IMAGE = "statefun-bootstrap-demo-greeter:local"


def run(args, timeout=600, **kwargs):
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kwargs)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} failed ({proc.returncode}):\n" \
                                 f"{proc.stdout[-8000:]}\n{proc.stderr[-8000:]}"
    return proc


@pytest.fixture(scope="module")
def podman_env():
    check = subprocess.run(["bash", str(PODMAN_SH), "check"], capture_output=True, text=True)
    if check.returncode == 3:
        pytest.skip(check.stdout.strip())
    assert check.returncode == 0, check.stdout + check.stderr
    run(["bash", PODMAN_SH, "setup"], timeout=1200)
    env = dict(os.environ)
    env["CONTAINERS_CONF"] = run(["bash", PODMAN_SH, "env"]).stdout.strip().split("=", 1)[1]
    return env


def podman(env, *args, timeout=600):
    return run(["podman", *args], timeout=timeout, env=env)


def build_image(env, tag, context):
    run(["bash", PODMAN_SH, "build", tag, context], timeout=2400, env=env)


@pytest.fixture(scope="module")
def release_build():
    """The Release configuration users build (scripts/test.sh builds and unit-tests it first)."""
    env = dict(os.environ, SFB_BUILD_DIR=str(RELEASE_BUILD), SFB_BUILD_TYPE="Release")
    run([ROOT / "scripts" / "build.sh"], timeout=3600, env=env)
    return RELEASE_BUILD


@pytest.fixture(scope="module")
def greeter_job(tmp_path_factory):
    """The greeter example (job and data) in a directory of its own, to mount into containers."""
    job = tmp_path_factory.mktemp("greeter") / "job"
    shutil.copytree(GREETER, job)
    return job


@pytest.fixture(scope="module")
def host_savepoint(greeter_job, tmp_path_factory):
    out = tmp_path_factory.mktemp("host") / "greeter"
    run([CLI, "run", greeter_job / "job.yaml", "--output", out, "--ttl-timestamp", TTL_CLOCK, "--quiet"])
    return out


def state_files(savepoint):
    """Every file Flink reads: _metadata and the keyed-state files (not our provenance record)."""
    files = {p.name: p.read_bytes() for p in pathlib.Path(savepoint).iterdir() if p.name != "statefun-bootstrap.json"}
    assert "_metadata" in files and len(files) >= 2, f"{savepoint} holds {sorted(files)}"
    return files


def assert_same_bytes(savepoint, host_savepoint):
    ours, host = state_files(savepoint), state_files(host_savepoint)
    assert sorted(ours) == sorted(host)
    different = [name for name in host if ours[name] != host[name]]
    assert different == [], f"files that differ from the host build's: {different}"


def test_bootstrap_image_writes_the_same_savepoint_as_the_host_build(podman_env, greeter_job, host_savepoint,
                                                                     tmp_path):
    build_image(podman_env, BOOTSTRAP_IMAGE, ROOT)
    out = tmp_path / "out"
    out.mkdir()
    help_text = podman(podman_env, "run", "--rm", "--network", "none", BOOTSTRAP_IMAGE).stdout
    assert "statefun-bootstrap: build the initial state" in help_text and "help run" in help_text
    podman(podman_env, "run", "--rm", "--network", "none", "-v", f"{greeter_job}:/job:ro", "-v", f"{out}:/out",
           BOOTSTRAP_IMAGE, "run", "/job/job.yaml", "--output", "/out/greeter", "--ttl-timestamp", TTL_CLOCK,
           "--quiet")
    assert_same_bytes(out / "greeter", host_savepoint)
    inspect = podman(podman_env, "run", "--rm", "--network", "none", "-v", f"{out}:/out:ro", BOOTSTRAP_IMAGE,
                     "inspect", "/out/greeter").stdout
    assert "example.greeter.seen_count" in inspect


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proto_field(number, payload):
    """One length-delimited protobuf field (wire type 2)."""
    def varint(n):
        out = bytearray()
        while True:
            byte, n = n & 0x7F, n >> 7
            out.append(byte | (0x80 if n else 0))
            if not n:
                return bytes(out)
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def greeter_invocation(user):
    """statefun's ToFunction (request-reply.proto): an invocation batch for demo/greeter/USER carrying no
    state, with one demo/Event argument. The SDK answers it with the states it needs first."""
    address = proto_field(1, b"demo") + proto_field(2, b"greeter") + proto_field(3, user.encode())
    argument = proto_field(1, b"demo/Event") + b"\x10\x01" + proto_field(3, b'{"user": "%s", "page": "/"}' % user.encode())
    batch = proto_field(1, address) + proto_field(3, proto_field(2, argument))
    return proto_field(100, batch)


def test_demo_function_image_answers_a_statefun_request(podman_env):
    build_image(podman_env, FUNCTIONS_IMAGE, ROOT / "demo" / "functions")
    port = free_port()
    name = f"sfb-greeter-{port}"
    podman(podman_env, "run", "-d", "--rm", "--name", name, "--network", "host", "-e", f"PORT={port}",
           "-e", "BIND=127.0.0.1", FUNCTIONS_IMAGE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the greeter container did not listen within 60 s:\n" + \
                    subprocess.run(["podman", "logs", name], capture_output=True, text=True, env=podman_env).stderr
                time.sleep(0.5)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/", data=greeter_invocation("alice"),
                                         headers={"Content-Type": "application/octet-stream"}, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
            body = response.read()
        # FromFunction.incomplete_invocation_context (field 101: tag bytes AA 06) listing the value specs the
        # greeter declares and was not sent
        assert body[:2] == b"\xaa\x06", f"not an incomplete-invocation-context answer: {body!r}"
        for state in (b"profile", b"visits", b"last_seen"):
            assert state in body, f"the greeter's answer does not ask for {state!r}: {body!r}"
    finally:
        subprocess.run(["podman", "stop", "-t", "2", name], capture_output=True, env=podman_env)


@pytest.fixture(scope="module")
def debs(release_build, tmp_path_factory):
    out = tmp_path_factory.mktemp("debs")
    run(["cpack", "-G", "DEB", "--config", release_build / "CPackConfig.cmake", "-B", out], timeout=900,
        cwd=release_build)
    found = {p.name.split("_")[0]: p for p in out.glob("*.deb")}
    assert sorted(found) == ["statefun-bootstrap", "statefun-bootstrap-dev"], sorted(out.iterdir())
    return found


def linked_packages(binary):
    """The Debian packages holding the shared libraries BINARY names itself (ELF NEEDED; what those load in
    turn is their packages' business), located with ldd and dpkg -S."""
    dynamic = run(["readelf", "-d", binary]).stdout
    needed = [line.split("[", 1)[1].rstrip("]") for line in dynamic.splitlines() if "(NEEDED)" in line]
    located = {}
    for line in run(["ldd", binary]).stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] == "=>" and parts[2].startswith("/"):
            located[parts[0]] = parts[2]
    packages = set()
    for soname in needed:
        path = located[soname]
        for candidate in (path, os.path.realpath(path), "/usr" + path):
            owner = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if owner.returncode == 0:
                packages.add(owner.stdout.split(":")[0])
                break
        else:
            raise AssertionError(f"no Debian package holds {path} ({soname})")
    return packages


def test_deb_declares_the_debian_packages_the_binary_links(debs, release_build):
    depends = run(["dpkg-deb", "-f", debs["statefun-bootstrap"], "Depends"]).stdout
    declared = {d.strip().split(" ")[0] for d in depends.split(",")}
    linked = linked_packages(release_build / "statefun-bootstrap")
    assert {"libpqxx-6.4", "libpq5", "librdkafka1", "libstdc++6"} <= linked  # the check sees the connectors
    assert linked - declared == set(), f"linked but not declared: {sorted(linked - declared)} (Depends: {depends})"
    contents = run(["dpkg-deb", "-c", debs["statefun-bootstrap"]]).stdout
    assert "./usr/bin/statefun-bootstrap" in contents
    dev_contents = run(["dpkg-deb", "-c", debs["statefun-bootstrap-dev"]]).stdout
    for path in ("usr/include/statefun-bootstrap/api/savepoint_creator.h", "usr/lib/libsfb_core.a",
                 "StatefunBootstrap/StatefunBootstrapConfig.cmake"):
        assert path in dev_contents, f"{path} missing from statefun-bootstrap-dev"


def test_deb_installs_into_bookworm_slim_and_runs_the_greeter_job(podman_env, debs, greeter_job, host_savepoint,
                                                                  tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    deb = debs["statefun-bootstrap"]
    script = ("set -e; apt-get update -qq; "
              f"DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends /debs/{deb.name} "
              ">/dev/null; statefun-bootstrap run /job/job.yaml --output /out/greeter "
              f"--ttl-timestamp {TTL_CLOCK} --quiet")
    podman(podman_env, "run", "--rm", "--network", "host", "-v", f"{deb.parent}:/debs:ro",
           "-v", f"{greeter_job}:/job:ro", "-v", f"{out}:/out", "debian:bookworm-slim", "sh", "-c", script,
           timeout=900)
    assert_same_bytes(out / "greeter", host_savepoint)


def test_installed_cpp_api_builds_the_example_outside_the_tree(release_build, tmp_path):
    prefix = tmp_path / "prefix"
    run(["cmake", "--install", release_build, "--prefix", prefix])
    assert (prefix / "bin" / "statefun-bootstrap").exists()
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    shutil.copy(ROOT / "examples" / "greeter_bootstrap.cc", consumer / "main.cc")
    # every entry point of the API compiles from the installed headers alone
    entry_points = sorted(p.relative_to(ROOT) for p in (ROOT / "api").glob("*.h")) + [
        pathlib.Path("connectors") / c / f"{c}_source.h" for c in ("file", "postgres", "kafka")]
    (consumer / "entry_points.cc").write_text("".join(f'#include "{h}"\n' for h in entry_points))
    (consumer / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.22)\n"
        "project(consumer LANGUAGES CXX)\n"
        "set(CMAKE_CXX_STANDARD 20)\n"
        "find_package(StatefunBootstrap 0.1 REQUIRED)\n"
        "add_executable(greeter main.cc entry_points.cc)\n"
        "target_link_libraries(greeter PRIVATE StatefunBootstrap::core)\n")
    build = tmp_path / "consumer-build"
    run(["cmake", "-S", consumer, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
         f"-DCMAKE_PREFIX_PATH={prefix}"])
    run(["cmake", "--build", build], timeout=900)
    out = tmp_path / "savepoint"
    run([build / "greeter", out, GREETER / "data"])
    inspect = run([prefix / "bin" / "statefun-bootstrap", "inspect", out]).stdout
    assert "example.greeter" in inspect
    # the installed package points only into the prefix, never back at this source tree
    for f in (prefix / "lib" / "cmake" / "StatefunBootstrap").glob("*.cmake"):
        assert str(ROOT) not in f.read_text(), f"{f.name} names the source tree"
