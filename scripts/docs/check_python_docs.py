"""Fails when a public item of the installed `mixerlead` package has no docstring.

It walks the package as pdoc sees it (so attribute docstrings and the native module's `.pyi`
stubs count): the modules `mixerlead` and `mixerlead.testing`, every public name they export,
and every public member of those classes. Run with the Python whose site-packages holds the
wheel and pdoc.
"""

import sys

import pdoc.doc

import mixerlead
import mixerlead.testing


def walk(item: pdoc.doc.Doc, missing: list[str]) -> int:
    """Checks `item` and its public members; returns how many items it checked."""
    checked = 1
    if not item.docstring.strip():
        missing.append(item.fullname)
    if isinstance(item, (pdoc.doc.Module, pdoc.doc.Class)):
        for member in item.own_members:
            if member.name.startswith("_") or member.name == "__version__":
                continue
            if isinstance(item, pdoc.doc.Module) and member.name not in getattr(item.obj, "__all__", [member.name]):
                continue
            checked += walk(member, missing)
    if isinstance(item, pdoc.doc.Class):
        # Members of a private base in the package (Client's with_options, from _Base) are
        # documented as the class's own: see the template in scripts/docs/pdoc.
        for (module, base), members in item.inherited_members.items():
            if module.startswith("mixerlead") and base.startswith("_"):
                for member in members:
                    if not member.name.startswith("_"):
                        checked += walk(member, missing)
    return checked


def main() -> int:
    missing: list[str] = []
    checked = sum(walk(pdoc.doc.Module(m), missing) for m in (mixerlead, mixerlead.testing))
    for name in missing:
        print(f"undocumented: {name}")
    print(f"python docs: {checked - len(missing)} passed, {len(missing)} failed")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
