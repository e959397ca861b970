"""The install's secret key is made by whichever process starts first and read by the rest."""

import os
import subprocess
import sys

READ_KEY = (
    "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'parley.config.settings'; "
    "from django.conf import settings; print(settings.SECRET_KEY)"
)


def test_processes_starting_at_once_in_a_new_data_dir_share_one_key(tmp_path):
    env = {**os.environ, "PARLEY_DATA_DIR": str(tmp_path)}
    starting = [
        subprocess.Popen([sys.executable, "-c", READ_KEY], env=env, stdout=subprocess.PIPE)
        for _ in range(8)
    ]
    keys = {process.communicate(timeout=60)[0].decode().strip() for process in starting}

    assert len(keys) == 1
    key = keys.pop()
    assert len(key) > 40
    assert (tmp_path / "secret_key").read_text() == key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]
