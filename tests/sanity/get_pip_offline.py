"""Stand-in for ansible-test's get-pip bootstrap script (its download host is unreachable here).

ansible-test runs it as ``python get_pip_X_Y.py [pip options] pip==X.Y ...``. We bootstrap pip
with the standard library's ensurepip, then install the requested pip from the wheels that
tests/sanity/run.sh downloaded beside this script (WHEELS_DIR), without any network access.
A recent pip then uses the system trust store for everything ansible-test installs later.
"""
import ensurepip
import os
import subprocess
import sys

wheels = os.path.join(os.path.dirname(os.path.abspath(__file__)), "get_pip_wheels")
ensurepip.bootstrap(upgrade=True)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--no-index", "--find-links", wheels] + args))
