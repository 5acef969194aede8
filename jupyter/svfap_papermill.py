"""papermill's parameter translator for the SVFAP Workbench language: `papermill NB OUT -p steps 50`
injects `steps = 50` after the cell tagged `parameters`, written in the language.

papermill 2.6 finds translators only by `papermill_translators.register`, and loads its engine entry
points when it is imported: this module is the `papermill.engine` entry point `svfap` (papermill's
own nbclient engine under another name), and registering the translator is what loading it does."""

import math

from papermill.engines import NBClientEngine
from papermill.translators import Translator, papermill_translators


class SvfapTranslator(Translator):
    @classmethod
    def translate_escaped_str(cls, str_val):
        escaped = (str_val.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
                   .replace("\t", "\\t").replace("{", "\\{").replace("}", "\\}"))
        return f'"{escaped}"'

    @classmethod
    def translate_none(cls, val):
        return "nil"

    @classmethod
    def translate_bool(cls, val):
        return "true" if val else "false"

    @classmethod
    def translate_float(cls, val):
        if math.isfinite(val):
            return repr(val)
        raise ValueError(f"the svfap language has no {val} literal")

    @classmethod
    def translate_dict(cls, val):
        fields = ", ".join(f"{key}: {cls.translate(value)}" for key, value in val.items())
        return "{" + fields + "}"

    @classmethod
    def translate_list(cls, val):
        return "[" + ", ".join(cls.translate(v) for v in val) + "]"

    @classmethod
    def comment(cls, cmt_str):
        return f"# {cmt_str}".strip()

    @classmethod
    def assign(cls, name, str_val):
        return f"{name} = {str_val}"


class SvfapEngine(NBClientEngine):
    """papermill's nbclient engine (the entry point that brings the translator along)."""


papermill_translators.register("svfap", SvfapTranslator)
