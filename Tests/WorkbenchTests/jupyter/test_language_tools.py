"""The language's Python-side tools (JupyterKernelTests runs this after `svfap jupyter install
--prefix`, with JUPYTER_PATH pointing there and the repository as the working directory): the
Pygments lexer nbconvert highlights with, and papermill parameters through the svfap kernel."""

import os
import re
import subprocess
import sys
import tempfile
import unittest

import nbformat
from pygments import lex
from pygments.lexers import get_lexer_by_name
from pygments.token import Comment, Keyword, Name, Number, String


class LexerTests(unittest.TestCase):
    def tokens(self, code):
        return [(t, v) for t, v in lex(code, get_lexer_by_name("svfap")) if v.strip()]

    def test_highlights_keywords_strings_numbers_comments(self):
        toks = self.tokens('for r in [0.75, 9] { print "r {r}\\n", tube(r, seed: 2) }  # sweep\n')
        self.assertIn((Keyword, "for"), toks)
        self.assertIn((Keyword, "in"), toks)
        self.assertIn((Number.Float, "0.75"), toks)
        self.assertIn((Number.Integer, "9"), toks)
        self.assertIn((String.Interpol, "{r}"), toks)
        self.assertIn((String.Escape, "\\n"), toks)
        self.assertIn((Name.Attribute, "seed"), toks)
        self.assertIn((Comment.Single, "# sweep"), toks)
        self.assertIn((Keyword.Constant, "true"), self.tokens("x = true"))

    def test_keywords_are_the_languages(self):
        source = open("Sources/Script/Token.swift").read()
        block = re.search(r"let keywords: Set<String> = \[(.*?)\]", source, re.S).group(1)
        language = set(re.findall(r'"(\w+)"', block))
        import svfap_lexer
        self.assertEqual(language, set(svfap_lexer.KEYWORDS) | set(svfap_lexer.CONSTANTS))


class PapermillTests(unittest.TestCase):
    def test_parameters_reach_the_kernel(self):
        out = os.path.join(tempfile.mkdtemp(), "out.ipynb")
        run = subprocess.run(
            [sys.executable, "-m", "papermill", "notebooks/02-train-incrementally.ipynb", out,
             "-p", "steps", "3", "-k", "svfap", "--cwd", "notebooks"],
            capture_output=True, text=True, timeout=600)
        self.assertEqual(run.returncode, 0, run.stderr[-2000:])
        nb = nbformat.read(out, 4)
        nbformat.validate(nb)
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        self.assertEqual(len(injected), 1)
        self.assertIn("steps = 3", injected[0].source)
        text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
        self.assertIn("steps so far: 6,", text)  # two calls of `steps` steps


if __name__ == "__main__":
    unittest.main()
