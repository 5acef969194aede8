"""Pygments lexer of the SVFAP Workbench language: keywords, strings with {expr} interpolation,
numbers, comments, operators and option names (`steps:`). nbconvert's HTML and any Pygments user
highlight .svfap code and svfap notebook cells with it (entry point `pygments.lexers`: svfap)."""

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text

VERSION = "1"

# The reserved words of Sources/Script/Token.swift (a test keeps the two lists equal).
KEYWORDS = ("if", "else", "for", "in", "while", "proc", "return", "break", "continue", "and", "or",
            "not", "source")
CONSTANTS = ("true", "false", "nil")


class SvfapLexer(RegexLexer):
    name = "SVFAP"
    aliases = ["svfap"]
    filenames = ["*.svfap"]
    mimetypes = ["text/x-svfap"]

    tokens = {
        "root": [
            (r"\s+", Text),
            (r"#.*$", Comment.Single),
            (words(KEYWORDS, suffix=r"\b"), Keyword),
            (words(CONSTANTS, suffix=r"\b"), Keyword.Constant),
            (r"(proc)(\s+)([A-Za-z_]\w*)", bygroups(Keyword, Text, Name.Function)),
            (r"[A-Za-z_]\w*(?=:)", Name.Attribute),
            (r"[A-Za-z_]\w*", Name),
            (r"\d[\d_]*\.\d[\d_]*([eE][+-]?\d+)?|\d[\d_]*[eE][+-]?\d+", Number.Float),
            (r"\d[\d_]*", Number.Integer),
            (r'"', String.Double, "string"),
            (r"\.\.|==|!=|<=|>=|\+=|-=|[-+*/%^<>=]", Operator),
            (r"[()\[\]{},:;.\\]", Punctuation),
        ],
        "string": [
            (r'\\[nt"\\{}]', String.Escape),
            (r"\{[^}\n]*\}", String.Interpol),
            (r'[^"\\{]+', String.Double),
            (r'"', String.Double, "#pop"),
            (r".", String.Double),
        ],
    }
