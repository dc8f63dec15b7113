"""Runs pdoc (its own command line: the arguments are pdoc's) with the package's public names only.

The package keeps its classes in private modules (`mixerlead._client`, `mixerlead._errors`, …)
and exports them from `mixerlead`, and some share a private base (`Client(_Base)`). Left to
itself, pdoc names those where a class lists its bases and where an attribute shows its type,
in the pages and in the search index: `class Client(mixerlead._client._Base)`,
`skills: mixerlead._workspace.Skills`. Here, before pdoc renders anything:

- a base that is private (`_Base`) is not listed; its members are shown as the class's own
  (see pdoc/module.html.jinja2), so nothing is lost;
- a public class named through its private module is named as `mixerlead` exports it
  (`mixerlead.APIStatusError`), which pdoc then links to its entry.

`build.sh` then fails if `mixerlead._` is left anywhere in the rendered reference.
"""

import functools
import re
import sys

import pdoc.__main__
import pdoc.doc

import mixerlead

PRIVATE_MODULE = re.compile(r"\bmixerlead(?:\.\w+)*\._\w+(?:\.\w+)*\.(\w+)\b")


def exported(qualname: str) -> bool:
    """Whether `mixerlead` exports `qualname` under that name."""
    return not qualname.startswith("_") and "." not in qualname and qualname in mixerlead.__all__


def is_private_module(module: str) -> bool:
    return module.split(".")[0] == "mixerlead" and any(part.startswith("_") for part in module.split(".")[1:])


def public_bases(cls: pdoc.doc.Class) -> list[tuple[str, str, str]]:
    bases = []
    for module, qualname, text in original_bases(cls):
        if is_private_module(module) or qualname.startswith("_"):
            if not exported(qualname):
                continue
            module, text = "mixerlead", f"mixerlead.{qualname}"
        bases.append((module, qualname, text))
    return bases


def public_annotation(var: pdoc.doc.Variable) -> str:
    def rename(match: re.Match[str]) -> str:
        return f"mixerlead.{match.group(1)}" if exported(match.group(1)) else match.group(0)

    return PRIVATE_MODULE.sub(rename, original_annotation(var))


original_bases = pdoc.doc.Class.bases.func
original_annotation = pdoc.doc.Variable.annotation_str.func
for owner, name, replacement in (
    (pdoc.doc.Class, "bases", public_bases),
    (pdoc.doc.Variable, "annotation_str", public_annotation),
):
    prop = functools.cached_property(replacement)
    prop.__set_name__(owner, name)
    setattr(owner, name, prop)

if __name__ == "__main__":
    pdoc.__main__.cli(sys.argv[1:])
