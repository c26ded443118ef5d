// Parser for the OpenFGA modelling language, written for mcp-grpc. The rule shapes decide which tokens ANTLR
// lists as "expecting" in syntax errors, which OpenFGA's conformance cases pin; keep them when editing.
parser grammar FgaParser;
options { tokenVocab=FgaLexer; }

main: WHITESPACE? NEWLINE? (modelHeader | moduleHeader) NEWLINE? typeDefs NEWLINE? conditions NEWLINE? EOF;

modelHeader: (multiLineComment NEWLINE)? MODEL NEWLINE SCHEMA WHITESPACE schemaVersion=SCHEMA_VERSION WHITESPACE?;
moduleHeader: (multiLineComment NEWLINE)? MODULE WHITESPACE moduleName=identifier WHITESPACE?;

typeDefs: typeDef*;
typeDef: (NEWLINE multiLineComment)? NEWLINE (EXTEND WHITESPACE)? TYPE WHITESPACE typeName=identifier
    (NEWLINE RELATIONS relationDeclaration+)?;

relationDeclaration: (NEWLINE multiLineComment)? NEWLINE DEFINE WHITESPACE relationName WHITESPACE? COLON WHITESPACE? relationDef;
relationName: identifier;

// A definition mixes at most one kind of operator per level; parentheses open a new level.
relationDef: (relationDefDirectAssignment | relationDefGrouping | relationRecurse) relationDefPartials?;
relationDefNoDirect: (relationDefGrouping | relationRecurseNoDirect) relationDefPartials?;
relationDefPartials
    : (WHITESPACE OR WHITESPACE (relationDefGrouping | relationRecurseNoDirect))+
    | (WHITESPACE AND WHITESPACE (relationDefGrouping | relationRecurseNoDirect))+
    | (WHITESPACE BUT_NOT WHITESPACE (relationDefGrouping | relationRecurseNoDirect))
    ;
relationDefGrouping: relationDefRewrite;
relationRecurse: LPAREN WHITESPACE* (relationDef | relationRecurseNoDirect) WHITESPACE* RPAREN;
relationRecurseNoDirect: LPAREN WHITESPACE* (relationDefNoDirect | relationRecurseNoDirect) WHITESPACE* RPAREN;

relationDefDirectAssignment: LBRACKET WHITESPACE? relationDefTypeRestriction WHITESPACE?
    (COMMA WHITESPACE? relationDefTypeRestriction WHITESPACE?)* RPRACKET;
relationDefRewrite: rewriteComputedusersetName=identifier (WHITESPACE FROM WHITESPACE rewriteTuplesetName=identifier)?;

relationDefTypeRestriction: NEWLINE? (relationDefTypeRestrictionBase
    | (relationDefTypeRestrictionBase WHITESPACE KEYWORD_WITH WHITESPACE conditionName)) NEWLINE?;
relationDefTypeRestrictionBase: relationDefTypeRestrictionType=identifier
    ((COLON relationDefTypeRestrictionWildcard=STAR) | (HASH relationDefTypeRestrictionRelation=identifier))?;

conditions: condition*;
condition: (NEWLINE multiLineComment)? NEWLINE CONDITION WHITESPACE conditionName WHITESPACE?
    LPAREN WHITESPACE? conditionParameter WHITESPACE? (COMMA WHITESPACE? conditionParameter WHITESPACE?)* NEWLINE?
    RPAREN WHITESPACE? LBRACE NEWLINE? WHITESPACE? conditionExpression NEWLINE? RBRACE;
conditionName: IDENTIFIER;
conditionParameter: NEWLINE? parameterName WHITESPACE? COLON WHITESPACE? parameterType;
parameterName: IDENTIFIER;
parameterType: CONDITION_PARAM_TYPE | (CONDITION_PARAM_CONTAINER LESS CONDITION_PARAM_TYPE GREATER);

multiLineComment: HASH (~NEWLINE)* (NEWLINE multiLineComment)?;

identifier: MODEL | SCHEMA | TYPE | RELATION | IDENTIFIER | MODULE | EXTEND | EXTENDED_IDENTIFIER;

// The CEL text is taken verbatim up to the closing brace.
conditionExpression: (~RBRACE)*;
