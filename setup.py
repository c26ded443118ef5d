"""Setuptools hook: ship protos/ in the wheel as mcp_grpc/proto/ (an include root for protoc and buf).

Everything else about the package is declared in pyproject.toml.
"""

import pathlib
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = pathlib.Path(__file__).parent


class build_py_with_protos(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install reads protos/ from the checkout
        target = pathlib.Path(self.build_lib) / "mcp_grpc" / "proto"
        for source in sorted((ROOT / "protos").rglob("*.proto")):
            destination = target / source.relative_to(ROOT / "protos")
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)


setup(cmdclass={"build_py": build_py_with_protos})
