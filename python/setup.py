"""Builds judgebias._judgebias with the main CMake project (the folder above this one).

By default in a build folder of its own (Release, the library and the module only). With
JUDGEBIAS_CMAKE_BUILD_DIR set to a build folder configured with -DJUDGEBIAS_BUILD_PYTHON=ON, the module
is built (or found up to date) there instead: scripts/test.sh installs the package from the build it has
just tested.
"""
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent.parent


class CMakeExtension(Extension):
    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        if not (ROOT / "CMakeLists.txt").is_file():
            sys.exit(f"judgebias: the C++ sources are not at {ROOT} (install from the source tree: "
                     "pip install --no-build-isolation ./python)")
        jobs = str(os.cpu_count() or 2)
        given = os.environ.get("JUDGEBIAS_CMAKE_BUILD_DIR")
        if given:
            build = Path(given).resolve()
        else:
            build = Path(self.build_temp).resolve() / "cmake"
            subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                            "-DJUDGEBIAS_BUILD_PYTHON=ON", "-DJUDGEBIAS_BUILD_TESTS=OFF",
                            "-DJUDGEBIAS_BUILD_EXAMPLES=OFF", "-DJUDGEBIAS_BUILD_BENCH=OFF",
                            "-DJUDGEBIAS_INSTALL=OFF", f"-DPython3_EXECUTABLE={sys.executable}"], check=True)
        subprocess.run(["cmake", "--build", str(build), "--target", "_judgebias", "-j", jobs], check=True)
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        built = build / "python" / "judgebias" / f"_judgebias{suffix}"
        if not built.is_file():
            sys.exit(f"judgebias: {built} was not built (a build folder configured for another Python? "
                     f"this one is {sys.executable}, whose modules end in {suffix})")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, target)


setup(ext_modules=[CMakeExtension("judgebias._judgebias")], cmdclass={"build_ext": CMakeBuild})
