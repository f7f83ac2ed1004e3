"""hyperlab's JupyterLab: the lab built in build/ (npm run build), served by
jupyterlab_server's LabServerApp on jupyter_server (Debian: python3-jupyterlab-server,
python3-jupyter-server). `npm run lab` in the repository root starts it on the lessons.

    /usr/bin/python3 lab/serve.py [--ServerApp.root_dir=DIR] [--ServerApp.port=8888] ...

Options are jupyter_server's (--ServerApp.token, --ServerApp.open_browser, ...). With
--HyperlabLab.expose_app=True the page puts the application on window.jupyterapp
(the browser test drives it through that).
"""
import os
import sys

from jupyter_core.paths import jupyter_config_dir
from jupyterlab_server import LabServerApp
from traitlets import Bool

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build")


def _jupyter_server_extension_points():
    return [{"module": __name__, "app": HyperlabLab}]


class HyperlabLab(LabServerApp):
    name = __name__
    app_name = "JupyterLab (hyperlab)"
    app_version = "3.6.8"  # the @jupyterlab/* release package.json pins
    extension_url = "/lab"
    default_url = "/lab"
    load_other_extensions = False

    static_dir = BUILD
    schemas_dir = os.path.join(BUILD, "schemas")
    themes_dir = os.path.join(BUILD, "themes")
    templates_dir = os.path.join(HERE, "templates")
    # Settings this lab ships with (overrides.json); the user's own go under their Jupyter config folder.
    app_settings_dir = os.path.join(HERE, "settings")
    user_settings_dir = os.path.join(jupyter_config_dir(), "hyperlab-lab", "user-settings")
    workspaces_dir = os.path.join(jupyter_config_dir(), "hyperlab-lab", "workspaces")

    expose_app = Bool(False, config=True, help="Put the application on window.jupyterapp (for tests).")

    def initialize_settings(self):
        super().initialize_settings()
        if self.expose_app:
            self.serverapp.web_app.settings.setdefault("page_config_data", {})["exposeAppInBrowser"] = True


if __name__ == "__main__":
    if not os.path.exists(os.path.join(BUILD, "bundle.js")):
        sys.exit(f"{BUILD}/bundle.js is missing: build the lab first (bash scripts/lab-setup.sh, or npm ci && npm run build in lab/)")
    HyperlabLab.launch_instance()
