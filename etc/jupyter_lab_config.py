# JupyterLab settings for `make lab` (passed with --config): the lab makes no outside contact.
# binder/postBuild does the same on mybinder by disabling the announcements plugin.
c = get_config()  # noqa: F821  (provided by traitlets when Jupyter loads this file)

# No news feed and no update check: both would ask a server on the internet at start.
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"

# The extension manager lists no PyPI packages: the "readonly" manager never asks pypi.org.
c.LabApp.extension_manager = "readonly"
