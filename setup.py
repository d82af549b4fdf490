"""Package layout: one import root `synth`.

The repository keeps `filters/`, `pipelines/`, `trainers/` and `schemas/` at the top level (where people look
for them), but they install as `synth.filters`, `synth.pipelines`, `synth.trainers` and `synth.schemas`, so
installing synth never puts generic names such as `filters` into site-packages. Metadata lives in
pyproject.toml; this file only computes the package list, which setuptools cannot find on its own when
folders are remapped.
"""

from setuptools import find_packages, setup

ROOTS = {"synth": "synth", "synth.filters": "filters", "synth.pipelines": "pipelines", "synth.trainers": "trainers"}

packages, package_dir = [], {}
for name, folder in ROOTS.items():
    package_dir[name] = folder
    packages.append(name)
    packages += [f"{name}.{sub}" for sub in find_packages(folder)]
package_dir["synth.schemas"] = "schemas"
packages.append("synth.schemas")

setup(packages=packages, package_dir=package_dir,
      package_data={"synth.schemas": ["*.json"], "synth.trainers": ["configs/*.json"],
                    "synth.pipelines": ["*/*.txt", "*/*.yaml", "*/prompts/*.txt"]})
