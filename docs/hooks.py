"""MkDocs hooks: the reference pages are generated from the code at build time, never
written by hand, so they cannot drift from it.

* ``reference/api/*.md``: the HTTP API, one page per OpenAPI tag plus the schemas, rendered
  from the app's own OpenAPI document (``fraudguard.api.create_app().openapi()``: creating
  the app loads nothing and starts nothing; only its lifespan, which the build never runs,
  loads the model, rules and database).
* ``reference/openapi.json``: that document as the service serves it at ``/openapi.json``.
* ``reference/configuration.md``: every ``Settings`` field as ``FRAUDGUARD_<NAME>``, its
  default, its allowed values and its description (``fraudguard/config.py``).

Registered in ``mkdocs.yml`` under ``hooks:``. Nothing here touches the network. A setting
without a description is a build warning, so ``mkdocs build --strict`` fails on it.
"""

from __future__ import annotations

import enum
import json
import logging
import re
import types
import typing
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.fraudguard")

API_DIR = "reference/api"
ROLE_NAMES = ("scorer", "analyst", "reviewer", "approver", "admin")
#: Wording for the tags of the OpenAPI document (a tag without an entry gets its own name).
TAG_TITLES = {
    "scoring": "Scoring",
    "promotions": "Promotions",
    "operations": "Operations",
    "cases": "Cases and audit",
    "outcomes": "Outcomes",
    "change control": "Change control",
}
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


# --- the hook ---------------------------------------------------------------------------------


def on_files(files: Files, config: MkDocsConfig) -> Files:
    try:
        from fraudguard.api import create_app
        from fraudguard.config import Settings
    except Exception as error:  # the build must say why, not produce a page without it
        raise PluginError(f"docs/hooks.py cannot import fraudguard: {error!r}") from error

    app = create_app(Settings())
    document = app.openapi()
    roles = _route_roles(app)
    pages = {
        f"{API_DIR}/index.md": _api_index(document, roles),
        f"{API_DIR}/schemas.md": _schemas_page(document),
    }
    for tag in _tags(document):
        pages[f"{API_DIR}/{_slug(tag)}.md"] = _tag_page(document, tag, roles)
    pages["reference/configuration.md"] = _configuration_page(Settings)
    pages["reference/openapi.json"] = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    for src_uri, content in pages.items():
        files.append(File.generated(config, src_uri, content=content))
    return files


IMPORT_CONTRACTS = "<!-- import-linter contracts -->"


def on_page_markdown(markdown: str, page: Any, config: MkDocsConfig, files: Files) -> str:
    """Replace the placeholder in ``architecture.md`` with the import-linter contracts of
    ``pyproject.toml``: the layering the docs describe is the one the build enforces."""
    if IMPORT_CONTRACTS not in markdown:
        return markdown
    root = Path(config.config_file_path).parent
    return markdown.replace(IMPORT_CONTRACTS, _contracts_markdown(root))


# --- the HTTP API -----------------------------------------------------------------------------


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]


def _tags(document: dict[str, Any]) -> list[str]:
    tags: list[str] = []
    for _, _, op in _operations(document):
        for tag in op.get("tags") or ["other"]:
            if tag not in tags:
                tags.append(tag)
    return tags


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _api_routes(routes: Any) -> Any:
    """Every route of the app, also those of included routers (FastAPI keeps them nested in
    some versions)."""
    for route in routes:
        if hasattr(route, "dependant"):
            yield route
        elif hasattr(route, "effective_route_contexts"):
            yield from _api_routes(c.original_route for c in route.effective_route_contexts())
        elif hasattr(route, "routes"):
            yield from _api_routes(route.routes)


def _route_roles(app: Any) -> dict[str, tuple[str, ...]]:
    """operationId -> the roles a route admits, read off its dependencies: the role check
    is a dependency object with a ``roles`` attribute."""
    found: dict[str, tuple[str, ...]] = {}
    for route in _api_routes(app.routes):
        stack = [route.dependant]
        while stack:
            current = stack.pop()
            roles = getattr(current.call, "roles", None)
            if roles:
                found[route.operation_id or route.unique_id] = tuple(str(r) for r in roles)
                break
            stack.extend(current.dependencies)
    return found


def _roles_of(op: dict[str, Any], roles: dict[str, tuple[str, ...]]) -> str:
    if op.get("operationId") in roles:
        return ", ".join(f"`{r}`" for r in roles[op["operationId"]])
    stated = re.search(r"Roles?:\s*([^.\n]+)", op.get("description") or "")
    if stated:
        named = [r for r in ROLE_NAMES if re.search(rf"\b{r}\b", stated.group(1))]
        if named:
            return ", ".join(f"`{r}`" for r in named)
    if "401" in op.get("responses", {}):
        return (
            "an API key (the roles are not declared on this route in the code: see "
            "[keys and roles](../../guides/integrator.md#keys-and-roles))"
        )
    return "none: no API key needed"


def _text(description: str | None) -> str:
    """A docstring as Markdown: RST literals and roles become code spans."""
    if not description:
        return ""
    text = re.sub(r":[a-z]+:`~?(?:[\w.]+\.)?([\w]+)`", r"`\1`", description)
    text = re.sub(r"``(.+?)``", r"`\1`", text, flags=re.S)
    text = " ".join(line.strip() for line in text.splitlines()).strip()
    # Literal asterisks (masked numbers such as 189****5678) outside code spans.
    parts = text.split("`")
    return "`".join(p if i % 2 else p.replace("*", "\\*") for i, p in enumerate(parts))


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "&#124;").replace("\n", " ")


def _schema_link(name: str, prefix: str) -> str:
    return f"[`{name}`]({prefix}schemas.md#schema-{name.lower()})"


def _type(schema: dict[str, Any], prefix: str) -> str:
    """A JSON Schema fragment in words: `Decision`, `string or null`, `array of Reason`."""
    if "$ref" in schema:
        return _schema_link(schema["$ref"].rsplit("/", 1)[-1], prefix)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            parts = [_type(s, prefix) for s in schema[key]]
            return " or ".join(dict.fromkeys(parts))
    if "enum" in schema:
        return "one of " + ", ".join(f"`{v}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    kind = schema.get("type")
    if kind == "array":
        return "array of " + _type(schema.get("items", {}), prefix)
    if kind == "object" and "additionalProperties" in schema:
        extra = schema["additionalProperties"]
        value = _type(extra, prefix) if isinstance(extra, dict) else "any"
        return f"object of {value}"
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind:
        fmt = schema.get("format")
        return f"{kind} ({fmt})" if fmt else kind
    return "any"


def _constraints(schema: dict[str, Any]) -> str:
    words = []
    for key, label in (
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("exclusiveMaximum", "<"),
        ("minLength", "length ≥"),
        ("maxLength", "length ≤"),
        ("minItems", "items ≥"),
        ("maxItems", "items ≤"),
    ):
        if key in schema:
            words.append(f"{label} {schema[key]}")
    if "pattern" in schema:
        words.append(f"pattern `{schema['pattern']}`")
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            extra = _constraints(option)
            if extra:
                words.append(extra)
    return ", ".join(words)


def _operation_section(
    method: str,
    path: str,
    op: dict[str, Any],
    roles: dict[str, tuple[str, ...]],
    prefix: str,
) -> list[str]:
    lines = [f"## {method.upper()} `{path}` {{ #{method}-{_slug(path)} }}", ""]
    if op.get("summary"):
        lines += [f"**{op['summary']}.** {_text(op.get('description'))}".rstrip(), ""]
    elif op.get("description"):
        lines += [_text(op["description"]), ""]
    lines += [f"**Who:** {_roles_of(op, roles)}", ""]
    parameters = op.get("parameters", [])
    if parameters:
        lines += [
            "| parameter | in | required | type | default | description |",
            "|---|---|---|---|---|---|",
        ]
        for p in parameters:
            schema = p.get("schema", {})
            default = f"`{schema['default']}`" if "default" in schema else ""
            described = " ".join(
                part for part in (p.get("description", ""), _constraints(schema)) if part
            )
            lines.append(
                f"| `{p['name']}` | {p['in']} | {'yes' if p.get('required') else 'no'} | "
                f"{_cell(_type(schema, prefix))} | {_cell(default)} | {_cell(described)} |"
            )
        lines.append("")
    body = op.get("requestBody")
    if body:
        for media, content in body.get("content", {}).items():
            lines += [
                f"**Request body** (`{media}`): {_type(content.get('schema', {}), prefix)}",
                "",
            ]
    lines += ["| status | meaning | body |", "|---|---|---|"]
    for status, response in op.get("responses", {}).items():
        bodies = [
            f"{_type(content.get('schema', {}), prefix)} (`{media}`)"
            if media != "application/json"
            else _type(content.get("schema", {}), prefix)
            for media, content in response.get("content", {}).items()
        ]
        lines.append(
            f"| {status} | {_cell(response.get('description', ''))} | {_cell(', '.join(bodies))} |"
        )
    lines.append("")
    return lines


_GENERATED = "<!-- Generated by docs/hooks.py from the app's OpenAPI document; do not edit. -->\n\n"


def _api_index(document: dict[str, Any], roles: dict[str, tuple[str, ...]]) -> str:
    info = document.get("info", {})
    lines = [
        _GENERATED + "# HTTP API",
        "",
        f"{info.get('title', 'FraudGuard')} {info.get('version', '')}: "
        f"{info.get('summary', '')}".strip(),
        "",
        "These pages are generated at every docs build from the service's own OpenAPI "
        f"document (OpenAPI {document.get('openapi', '3')}), the same one a running service "
        "serves at `/openapi.json` and shows at `/docs`. The document itself: "
        "[openapi.json](../openapi.json). The integrator's guide explains the contract "
        "in words: [Pipeline integrator](../../guides/integrator.md).",
        "",
        "Every route with a **Who** names the API key roles it admits; the key is sent as "
        "`Authorization: Bearer <key>`. Every error is an "
        "[`ErrorBody`](schemas.md#schema-errorbody).",
        "",
        "| method | path | what | who | page |",
        "|---|---|---|---|---|",
    ]
    for method, path, op in _operations(document):
        tag = (op.get("tags") or ["other"])[0]
        who = _roles_of(op, roles)
        if who.startswith("an API key"):
            who = "an API key"
        anchor = f"{method}-{_slug(path)}"
        lines.append(
            f"| {method.upper()} | [`{path}`]({_slug(tag)}.md#{anchor}) | "
            f"{_cell(op.get('summary', ''))} | {_cell(who)} | "
            f"{TAG_TITLES.get(tag, tag.title())} |"
        )
    lines += ["", "The request and response models: [Schemas](schemas.md).", ""]
    return "\n".join(lines)


def _tag_page(document: dict[str, Any], tag: str, roles: dict[str, tuple[str, ...]]) -> str:
    lines = [_GENERATED + f"# {TAG_TITLES.get(tag, tag.title())}", ""]
    for method, path, op in _operations(document):
        if tag in (op.get("tags") or ["other"]):
            lines += _operation_section(method, path, op, roles, "")
    return "\n".join(lines)


def _schemas_page(document: dict[str, Any]) -> str:
    schemas = document.get("components", {}).get("schemas", {})
    lines = [
        _GENERATED + "# Schemas",
        "",
        "Every model the HTTP API reads or answers, as its OpenAPI document defines it. In a "
        "request, fields marked required must be sent and the others may be left out; in an "
        "answer, required fields are always present.",
        "",
    ]
    for name in sorted(schemas, key=str.lower):
        schema = schemas[name]
        lines += [f"## {name} {{ #schema-{name.lower()} }}", ""]
        if schema.get("description"):
            lines += [_text(schema["description"]), ""]
        if "enum" in schema:
            lines += ["One of: " + ", ".join(f"`{v}`" for v in schema["enum"]) + ".", ""]
            continue
        properties = schema.get("properties", {})
        if not properties:
            lines += [f"Type: {_type(schema, '')}.", ""]
            continue
        required = set(schema.get("required", []))
        lines += ["| field | type | required | default | notes |", "|---|---|---|---|---|"]
        for field, spec in properties.items():
            default = json.dumps(spec["default"], ensure_ascii=False) if "default" in spec else ""
            notes = " ".join(
                part for part in (_text(spec.get("description")), _constraints(spec)) if part
            )
            lines.append(
                f"| `{field}` | {_cell(_type(spec, ''))} | "
                f"{'yes' if field in required else 'no'} | "
                f"{_cell(f'`{default}`' if default else '')} | {_cell(notes)} |"
            )
        if schema.get("additionalProperties") is False:
            lines += ["", "Any other field is refused (`422`)."]
        lines.append("")
    return "\n".join(lines)


# --- import contracts -------------------------------------------------------------------------


def _contracts_markdown(root: Path) -> str:
    import tomllib

    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    linter = pyproject.get("tool", {}).get("importlinter", {})
    contracts = linter.get("contracts", [])
    if not contracts:
        log.warning("pyproject.toml has no [tool.importlinter] contracts to document")
        return "(no import-linter contracts in `pyproject.toml`)"
    package = linter.get("root_package", "fraudguard")
    source = root / package
    packages = sorted(
        {p.parent.name for p in source.glob("*/__init__.py")}
        | {p.stem for p in source.glob("*.py") if p.stem != "__init__"}
    )

    def short(module: str) -> str:
        return module.removeprefix(f"{package}.")

    lines: list[str] = []
    for contract in contracts:
        name, kind = contract.get("name", "a contract"), contract.get("type")
        if kind == "layers":
            lines += ["", f"**{name}** (top to bottom; `|` separates independent packages):", ""]
            lines += ["```"]
            lines += [
                " | ".join(short(m.strip()) for m in layer.split("|"))
                for layer in contract.get("layers", [])
            ]
            lines += ["```", ""]
        elif kind == "forbidden":
            banned = ", ".join(f"`{m}`" for m in contract.get("forbidden_modules", []))
            sources = {short(m) for m in contract.get("source_modules", [])}
            allowed = [p for p in packages if p not in sources]
            where = ", ".join(f"`{p}`" for p in allowed) if allowed else "no package"
            lines += [f"- **{name}**: {banned} may be imported directly only by {where}."]
        elif kind == "independence":
            modules = ", ".join(f"`{short(m)}`" for m in contract.get("modules", []))
            lines += [f"- **{name}**: {modules} never import each other."]
        else:
            lines += [f"- **{name}** (an import-linter `{kind}` contract)."]
    return "\n".join(lines) + "\n"


# --- configuration ----------------------------------------------------------------------------


def _annotation_words(annotation: Any) -> tuple[str, list[str]]:
    """(kind in words, allowed values) of a Settings field's type."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        kind, values = _annotation_words(inner[0]) if len(inner) == 1 else ("value", [])
        return kind, values
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "one of", [str(member.value) for member in annotation]
    name = getattr(annotation, "__name__", str(annotation))
    return {
        "Path": "path",
        "PosixPath": "path",
        "str": "text",
        "SecretStr": "secret text",
        "bool": "`true` / `false`",
        "int": "integer",
        "float": "number",
    }.get(name, name), []


def _default_words(field: Any) -> str:
    default = field.get_default(call_default_factory=True)
    if default is None:
        return "unset"
    if type(default).__name__ == "SecretStr":
        return "a development-only key"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, enum.Enum):
        return f"`{default.value}`"
    if isinstance(default, float) and default.is_integer():
        return f"`{int(default)}`"
    if isinstance(default, Path):
        return f"`{default.as_posix()}`"
    return f"`{default}`"


def _allowed_words(field: Any) -> str:
    kind, values = _annotation_words(field.annotation)
    words = []
    for item in field.metadata:
        pattern = getattr(item, "pattern", None)
        if pattern:
            match = re.fullmatch(r"\^\(([\w|]+)\)\$", pattern)
            if match:
                values = match.group(1).split("|")
            else:
                words.append(f"matching `{pattern}`")
        for attr, label in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            bound = getattr(item, attr, None)
            if bound is not None:
                words.append(f"{label} {bound}")
    if values:
        return "one of " + ", ".join(f"`{v}`" for v in values)
    return ", ".join([kind, *words])


def _configuration_page(settings: type[Any]) -> str:
    prefix = settings.model_config.get("env_prefix", "FRAUDGUARD_")
    env_file = settings.model_config.get("env_file")
    lines = [
        "<!-- Generated by docs/hooks.py from fraudguard/config.py (Settings); "
        "do not edit: improve the field descriptions there. -->",
        "",
        "# Configuration",
        "",
        f"Every setting is an environment variable `{prefix}<NAME>`"
        + (f" or a line of a `{env_file}` file in the working directory" if env_file else "")
        + ". The service and every CLI command read them once, at start; a bad value stops "
        "the process at start with the variable named. This table is generated from "
        "`fraudguard.config.Settings` at every docs build.",
        "",
        "| variable | default | values | meaning |",
        "|---|---|---|---|",
    ]
    for name, field in settings.model_fields.items():
        if not field.description:
            log.warning("fraudguard.config.Settings.%s has no description", name)
        variable = (field.alias or f"{prefix}{name}").upper()
        lines.append(
            f"| `{variable}` | {_cell(_default_words(field))} | "
            f"{_cell(_allowed_words(field))} | {_cell(_text(field.description))} |"
        )
    lines += [
        "",
        "`fraudguard reference check` loads every reference file the configuration points "
        "at and reports what it holds.",
        "",
    ]
    return "\n".join(lines)
