"""DSL text to the JSON authorization model, as OpenFGA's `fga model transform` produces it.

The grammar lives in `grammar/` and is compiled by ANTLR 4.13.2 into `_generated/` (see `grammar/README.md`).
ANTLR is used rather than a hand-written parser because OpenFGA's own tooling is ANTLR-based and its
conformance cases pin ANTLR's error-recovery messages ("extraneous input ... expecting {...}"); only the same
recovery algorithm reproduces them.
"""

from __future__ import annotations

import threading
from typing import Any

from antlr4 import CommonTokenStream, InputStream, ParseTreeWalker
from antlr4.atn.ATNState import ATNState
from antlr4.error.ErrorListener import ErrorListener
from antlr4.error.ErrorStrategy import DefaultErrorStrategy
from antlr4.error.Errors import InputMismatchException
from antlr4.IntervalSet import IntervalSet
from antlr4.Token import Token

from ._generated.FgaLexer import FgaLexer
from ._generated.FgaParser import FgaParser
from ._generated.FgaParserListener import FgaParserListener
from ._fast import fast_parse
from .errors import ModelIssue, ModelSyntaxError, Span

__all__ = ["parse_dsl", "parse_dsl_with_errors", "clean_comments"]

_OPERATORS = {"or": "union", "and": "intersection", "but not": "difference"}


def clean_comments(text: str) -> str:
    """Blank out comment lines and strip trailing ` #...` comments, as OpenFGA's parser does before lexing.

    Line count and the columns of everything kept are unchanged, so positions stay true to the input.
    """
    out = []
    for line in text.split("\n"):
        if line.lstrip()[:1] == "#":
            out.append("")
        else:
            out.append(line.split(" #", 1)[0].rstrip())
    return "\n".join(out)


def _combine(rewrites: list[dict], operator: str | None) -> dict | None:
    if not rewrites:
        return None
    if len(rewrites) == 1:
        return rewrites[0]
    kind = _OPERATORS.get(operator or "")
    if kind == "union" or kind == "intersection":
        return {kind: {"child": list(rewrites)}}
    if kind == "difference":
        return {"difference": {"base": rewrites[0], "subtract": rewrites[1]}}
    return None


class _Collector(ErrorListener):
    """Collects ANTLR syntax errors with zero-based lines and [start, end) columns."""

    def __init__(self) -> None:
        self.issues: list[ModelIssue] = []

    def syntaxError(self, recognizer, offendingSymbol, line, column, msg, e):  # noqa: N802 (ANTLR API)
        metadata: dict[str, Any] = {}
        width = 0
        if isinstance(offendingSymbol, Token):
            text = offendingSymbol.text
            if text is None:
                text = "<EOF>" if offendingSymbol.type == Token.EOF else ""
            metadata["symbol"] = text
            width = len(text)
        self.issues.append(ModelIssue(msg, Span(line - 1, line - 1), Span(column, column + width), metadata))


class _RecoveryStrategy(DefaultErrorStrategy):
    """ANTLR's default recovery, minus a Python-runtime bug.

    antlr4-python3-runtime 4.13.2's `sync` merges the recovery set into the ATN's *cached* next-token set
    (`IntervalSet.addSet` mutates in place), so a second error at the same state reports a polluted
    "expecting {...}" list. The Java/Go/JS runtimes build a new set; so does this override.
    """

    _BLOCK_STARTS = (
        ATNState.BLOCK_START,
        ATNState.STAR_BLOCK_START,
        ATNState.PLUS_BLOCK_START,
        ATNState.STAR_LOOP_ENTRY,
    )
    _LOOP_BACKS = (ATNState.PLUS_LOOP_BACK, ATNState.STAR_LOOP_BACK)

    def sync(self, recognizer):
        if self.inErrorRecoveryMode(recognizer):
            return
        state = recognizer._interp.atn.states[recognizer.state]
        la = recognizer.getTokenStream().LA(1)
        next_tokens = recognizer.atn.nextTokens(state)
        if la in next_tokens or Token.EPSILON in next_tokens:
            return
        if state.stateType in self._BLOCK_STARTS:
            if self.singleTokenDeletion(recognizer) is not None:
                return
            raise InputMismatchException(recognizer)
        if state.stateType in self._LOOP_BACKS:
            self.reportUnwantedToken(recognizer)
            follow = IntervalSet()
            follow.addSet(recognizer.getExpectedTokens())
            follow.addSet(self.getErrorRecoverySet(recognizer))
            self.consumeUntil(recognizer, follow)


class _Builder(FgaParserListener):
    """Walks the parse tree and builds the model dict (the same walk as OpenFGA's DSL-to-JSON listener)."""

    def __init__(self, parser: FgaParser) -> None:
        self.parser = parser
        self.model: dict[str, Any] = {}
        self.modular = False
        self.module_name: str | None = None
        self.type_def: dict[str, Any] | None = None
        self.rewrites: list[dict] = []
        self.operator: str | None = None
        self.related: list[dict] = []
        self.stack: list[tuple[list[dict], str | None]] = []
        self.condition: dict[str, Any] | None = None
        self.extended: set[str] = set()
        self.type_tokens: list[tuple[dict, Token]] = []

    def _error(self, message: str, token: Token) -> None:
        self.parser.notifyErrorListeners(message, token, None)

    # headers
    def exitModuleHeader(self, ctx):  # noqa: N802
        self.modular = True
        if ctx.moduleName is not None:
            self.module_name = ctx.moduleName.getText()

    def exitModelHeader(self, ctx):  # noqa: N802
        if ctx.schemaVersion is not None:
            self.model["schema_version"] = ctx.schemaVersion.text

    # types
    def enterTypeDefs(self, ctx):  # noqa: N802
        self.model["type_definitions"] = []

    def exitTypeDefs(self, ctx):  # noqa: N802
        if not self.model.get("type_definitions"):
            self.model.pop("type_definitions", None)

    def enterTypeDef(self, ctx):  # noqa: N802
        if ctx.typeName is None:
            return
        name = ctx.typeName.getText()
        if ctx.EXTEND() is not None:
            if not self.modular:
                self._error("extend can only be used in a modular model", ctx.typeName.start)
            elif name in self.extended:
                self._error(f"'{name}' is already extended in file.", ctx.typeName.start)
            else:
                self.extended.add(name)
        self.type_def = {"type": name, "relations": {}, "metadata": {"relations": {}}}
        if self.modular:
            self.type_def["metadata"]["module"] = self.module_name

    def exitTypeDef(self, ctx):  # noqa: N802
        td = self.type_def
        if td is None or not td.get("type"):
            return
        if not td["metadata"]["relations"]:
            if self.modular:
                del td["metadata"]["relations"]
            else:
                td["metadata"] = None
        self.model.setdefault("type_definitions", []).append(td)
        self.type_tokens.append((td, ctx))
        self.type_def = None

    # relations
    def enterRelationDeclaration(self, ctx):  # noqa: N802
        self.rewrites = []
        self.operator = None
        self.related = []
        self.stack = []

    def exitRelationDeclaration(self, ctx):  # noqa: N802
        name_ctx = ctx.relationName()
        if name_ctx is None or self.type_def is None:
            return
        name = name_ctx.getText()
        definition = _combine(self.rewrites, self.operator)
        if definition is not None:
            if name in self.type_def["relations"]:
                self._error(f"'{name}' is already defined in '{self.type_def['type']}'", name_ctx.start)
            self.type_def["relations"][name] = definition
            self.type_def["metadata"]["relations"][name] = {"directly_related_user_types": self.related}

    def enterRelationDefDirectAssignment(self, ctx):  # noqa: N802
        self.related = []

    def exitRelationDefDirectAssignment(self, ctx):  # noqa: N802
        self.rewrites.append({"this": {}})

    def exitRelationDefTypeRestriction(self, ctx):  # noqa: N802
        base = ctx.relationDefTypeRestrictionBase()
        if base is None or base.relationDefTypeRestrictionType is None:
            return
        ref: dict[str, Any] = {"type": base.relationDefTypeRestrictionType.getText()}
        cond = ctx.conditionName()
        if cond is not None:
            ref["condition"] = cond.getText()
        if base.relationDefTypeRestrictionRelation is not None:
            ref["relation"] = base.relationDefTypeRestrictionRelation.getText()
        if base.relationDefTypeRestrictionWildcard is not None:
            ref["wildcard"] = {}
        self.related.append(ref)

    def exitRelationDefRewrite(self, ctx):  # noqa: N802
        if ctx.rewriteComputedusersetName is None:
            return
        computed = {"relation": ctx.rewriteComputedusersetName.getText()}
        if ctx.rewriteTuplesetName is not None:
            self.rewrites.append(
                {
                    "tupleToUserset": {
                        "computedUserset": computed,
                        "tupleset": {"relation": ctx.rewriteTuplesetName.getText()},
                    }
                }
            )
        else:
            self.rewrites.append({"computedUserset": computed})

    def exitRelationRecurse(self, ctx):  # noqa: N802
        definition = _combine(self.rewrites, self.operator)
        if definition is not None:
            self.rewrites = [definition]

    def enterRelationRecurseNoDirect(self, ctx):  # noqa: N802
        self.stack.append((self.rewrites, self.operator))
        self.rewrites = []

    def exitRelationRecurseNoDirect(self, ctx):  # noqa: N802
        definition = _combine(self.rewrites, self.operator)
        outer_rewrites, outer_operator = self.stack.pop() if self.stack else ([], None)
        if definition is not None:
            self.operator = outer_operator
            self.rewrites = [*outer_rewrites, definition]

    def enterRelationDefPartials(self, ctx):  # noqa: N802
        if ctx.OR():
            self.operator = "or"
        elif ctx.AND():
            self.operator = "and"
        elif ctx.BUT_NOT():
            self.operator = "but not"

    # conditions
    def enterCondition(self, ctx):  # noqa: N802
        name_ctx = ctx.conditionName()
        if name_ctx is None:
            return
        conditions = self.model.setdefault("conditions", {})
        name = name_ctx.getText()
        if name in conditions:
            self._error(f"condition '{name}' is already defined in the model", name_ctx.start)
        self.condition = {"name": name, "expression": "", "parameters": {}}
        if self.modular:
            self.condition["metadata"] = {"module": self.module_name}

    def exitConditionParameter(self, ctx):  # noqa: N802
        name_ctx, type_ctx = ctx.parameterName(), ctx.parameterType()
        if name_ctx is None or type_ctx is None or self.condition is None:
            return
        name = name_ctx.getText()
        if name in self.condition["parameters"]:
            self._error(
                f"parameter '{name}' is already defined in the condition '{self.condition['name']}'", name_ctx.start
            )
        container = type_ctx.CONDITION_PARAM_CONTAINER()
        if container is not None:
            ref: dict[str, Any] = {"type_name": "TYPE_NAME_" + container.getText().upper()}
            inner = type_ctx.CONDITION_PARAM_TYPE()
            if inner is not None:
                ref["generic_types"] = [{"type_name": "TYPE_NAME_" + inner.getText().upper()}]
        else:
            ref = {"type_name": "TYPE_NAME_" + type_ctx.getText().upper()}
        self.condition["parameters"][name] = ref

    def exitConditionExpression(self, ctx):  # noqa: N802
        if self.condition is not None:
            self.condition["expression"] = ctx.getText().strip()

    def exitCondition(self, ctx):  # noqa: N802
        if self.condition is not None:
            self.model.setdefault("conditions", {})[self.condition["name"]] = self.condition
            self.condition = None


class ParseResult:
    """The model built from DSL text, the syntax issues found, and the module header (if any)."""

    __slots__ = ("model", "issues", "modular", "module_name", "cleaned", "extended_types")

    def __init__(
        self,
        model: dict,
        issues: list[ModelIssue],
        modular: bool,
        module_name: str | None,
        cleaned: str,
        extended_types: frozenset[str] = frozenset(),
    ):
        self.extended_types = extended_types
        self.model = model
        self.issues = issues
        self.modular = modular
        self.module_name = module_name
        self.cleaned = cleaned


def parse_dsl_with_errors(text: str, *, fast: bool = True) -> ParseResult:
    """Parse DSL text; return the (possibly partial) model together with every syntax issue found.

    Well-formed text in the common layout takes a hand-written fast path (see `_fast`); everything else,
    and every input with an error, goes through the ANTLR parser. `fast=False` forces ANTLR.
    """
    cleaned = clean_comments(text)
    if fast:
        quick = fast_parse(cleaned)
        if quick is not None:
            model, modular, module_name, extended = quick
            return ParseResult(model, [], modular, module_name, cleaned, extended)
    with _ANTLR_LOCK:
        return _antlr_parse(cleaned)


# The ANTLR Python runtime shares its DFA caches between parser instances without locking.
_ANTLR_LOCK = threading.Lock()


def _antlr_parse(cleaned: str) -> ParseResult:
    collector = _Collector()
    lexer = FgaLexer(InputStream(cleaned))
    lexer.removeErrorListeners()
    lexer.addErrorListener(collector)
    parser = FgaParser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(collector)
    parser._errHandler = _RecoveryStrategy()
    tree = parser.main()
    builder = _Builder(parser)
    ParseTreeWalker.DEFAULT.walk(builder, tree)
    return ParseResult(
        builder.model, collector.issues, builder.modular, builder.module_name, cleaned, frozenset(builder.extended)
    )


def parse_dsl(text: str) -> dict:
    """Parse DSL text (schema 1.1) to the JSON authorization model; raise ModelSyntaxError on any syntax error.

    This is the transform only (as `fga model transform`); `load_model` also validates the result.
    """
    result = parse_dsl_with_errors(text)
    if result.issues:
        raise ModelSyntaxError(result.issues)
    return result.model
