"""The README's first command works: quickstart.sh bootstraps the bundled example and shows it."""
import os
import subprocess

from conftest import BUILD, ROOT, dump


def test_quickstart_bootstraps_the_bundled_example():
    env = dict(os.environ, SFB_BUILD_DIR=str(BUILD))
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "quickstart.sh")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "savepoint written:" in out and "records read     10" in out
    assert "operator       6b87a4870d0e21cecbbe271bd893cfcc (functions_uid1)" in out
    assert '"seen_count"' in out and '"value": 5' in out  # get of example/greeter/alice
    entries = dump(ROOT / "out" / "greeter-savepoint")
    assert len(entries) == 18
