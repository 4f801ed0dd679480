"""JupyterHub configuration for a labkit room: one server, every learner's JupyterLab, one shared log and registry.

Start it with ``make room`` (docs/workshop/room-server.md). Everything is read
from environment variables, so the same file serves a workshop and the test
(tests/test_room_hub.py):

LABKIT_ROOM_DIR        state: hub database, cookie secret, the room log, the registry, homes (default ./room)
LABKIT_ROOM_PORT       the port learners open (default 8000); LABKIT_ROOM_IP the address (default 0.0.0.0)
LABKIT_ROOM_ACCOUNTS   "system" (default): PAM logins, one Unix account per learner, LocalProcessSpawner;
                       "shared": one shared password (LABKIT_ROOM_PASSWORD), no Unix accounts,
                       SimpleLocalProcessSpawner (no isolation between learners: a trusted room or a test only)
LABKIT_ROOM_LEARNERS   comma-separated learner names, created at start (logins through the REST API need them)
LABKIT_ROOM_LOG_PORT   the shared log's loopback port (default 3000); LABKIT_ROOM_REGISTRY_PORT (default 5000)
LABKIT_ROOM_HUB_PORT, LABKIT_ROOM_PROXY_API_PORT  internal loopback ports (defaults 8081, 8001)
LABKIT_ROOM_SERVICE_TOKEN  optional: an API token for a "room-admin" service (admin of users and servers)

The shared log (`labkit log serve --room-page`) and, when docker-registry is
installed, the shared registry run as JupyterHub managed services on the
server's loopback; every learner's server gets their addresses as
LABKIT_ROOM_LOG and LABKIT_ROOM_REGISTRY, and labkit's loopback-only clients
reach them because everything runs on one machine.
"""
# ruff: noqa: F821  (`c` is the config object JupyterHub passes in)

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
BIN = Path(sys.executable).parent
env = os.environ.get

room = Path(env("LABKIT_ROOM_DIR", "room")).resolve()
room.mkdir(parents=True, exist_ok=True)
log_port = int(env("LABKIT_ROOM_LOG_PORT", "3000"))
registry_port = int(env("LABKIT_ROOM_REGISTRY_PORT", "5000"))

c = get_config()  # type: ignore[name-defined]  # noqa: F821

# -- where the hub listens and keeps its state ---------------------------------------------------------------
c.JupyterHub.bind_url = f"http://{env('LABKIT_ROOM_IP', '0.0.0.0')}:{env('LABKIT_ROOM_PORT', '8000')}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(env("LABKIT_ROOM_HUB_PORT", "8081"))
c.JupyterHub.db_url = f"sqlite:///{room / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(room / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(room / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# -- the proxy: configurable-http-proxy from npm, installed in tools/room by `npm ci --prefix tools/room` ------
local_chp = HERE / "node_modules" / ".bin" / "configurable-http-proxy"
chp = str(local_chp) if local_chp.exists() else shutil.which("configurable-http-proxy") or "configurable-http-proxy"
c.ConfigurableHTTPProxy.command = [chp]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env('LABKIT_ROOM_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.pid_file = str(room / "proxy.pid")

# -- who may log in, and how their servers start --------------------------------------------------------------
learners = {name.strip() for name in env("LABKIT_ROOM_LEARNERS", "").split(",") if name.strip()}
if env("LABKIT_ROOM_ACCOUNTS", "system") == "shared":
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = env("LABKIT_ROOM_PASSWORD", "")
    c.JupyterHub.spawner_class = "simple"
    c.SimpleLocalProcessSpawner.home_dir_template = str(room / "home" / "{username}")
else:
    c.JupyterHub.authenticator_class = "pam"
    c.JupyterHub.spawner_class = "localprocess"
if learners:
    c.Authenticator.allowed_users = learners
else:
    c.Authenticator.allow_all = True



def _home(spawner) -> Path:  # type: ignore[no-untyped-def]
    if hasattr(spawner, "home_dir"):  # SimpleLocalProcessSpawner
        return Path(spawner.home_dir)
    import pwd

    return Path(pwd.getpwnam(spawner.user.name).pw_dir)


def copy_notebooks(spawner) -> None:  # type: ignore[no-untyped-def]
    """Give each learner their own copy of the notebooks on their first start (kept afterwards)."""
    home = _home(spawner)
    target = home / "notebooks"
    if target.exists():
        return
    home.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "notebooks", target, ignore=shutil.ignore_patterns("_work", ".ipynb_checkpoints"))
    if not hasattr(spawner, "home_dir"):
        for path in [target, *target.rglob("*")]:
            shutil.chown(path, user=spawner.user.name)


c.Spawner.pre_spawn_hook = copy_notebooks
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab/tree/notebooks/00-start-here.ipynb"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 90
if os.getuid() == 0:  # the shared-account spawner runs servers as the hub's user; Jupyter refuses root unless told
    c.Spawner.args = ["--allow-root"]
c.Spawner.environment = {
    "LABKIT_ROOM_LOG": f"http://127.0.0.1:{log_port}",
    "LABKIT_ROOM_REGISTRY": f"127.0.0.1:{registry_port}",
    "PYTHONPATH": str(REPO),
    "JUPYTERLAB_SETTINGS_DIR": str(room / "lab-settings"),
}

# -- the room's shared services, on the server's loopback -----------------------------------------------------
services: list[dict[str, object]] = [{
    "name": "room-log",
    "command": [sys.executable, "-m", "labkit.cli", "log", "serve", "--dir", str(room / "log"),
                "--name", "room.log", "--port", str(log_port), "--room-page"],
    "environment": {"PYTHONPATH": str(REPO)},
}]
registry_bin = shutil.which("docker-registry") or shutil.which("registry")
if registry_bin:
    (room / "registry").mkdir(exist_ok=True)
    (room / "registry.yml").write_text(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {room / 'registry'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{registry_port}\n", encoding="utf-8")
    services.append({"name": "room-registry", "command": [registry_bin, "serve", str(room / "registry.yml")]})
token = env("LABKIT_ROOM_SERVICE_TOKEN")
if token:
    services.append({"name": "room-admin", "api_token": token})
    c.JupyterHub.load_roles = [{"name": "room-admin", "services": ["room-admin"],
                                "scopes": ["admin:users", "admin:servers", "list:users", "read:users"]}]
c.JupyterHub.services = services
