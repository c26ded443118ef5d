// Lexer for the OpenFGA modelling language (schema 1.1/1.2), written for mcp-grpc.
// Token names and their numbering are part of the observable behaviour: ANTLR prints them in syntax
// error messages ("expecting {IDENTIFIER, 'module', ...}"), and OpenFGA's conformance cases pin those messages.
// So the declaration order below is deliberate; do not reorder tokens.
lexer grammar FgaLexer;

tokens { COLON, COMMA, LESS, GREATER, LBRACKET, RBRACKET, LPAREN, RPAREN, WHITESPACE, IDENTIFIER }

HASH: '#';
COLON: ':';
COMMA: ',';

AND: 'and';
OR: 'or';
BUT_NOT: 'but not';
FROM: 'from';

MODULE: 'module';
MODEL: 'model';
SCHEMA: 'schema';
SCHEMA_VERSION: DIGIT+ '.' DIGIT+;
EXTEND: 'extend';
TYPE: 'type';
// A condition's parameter list has its own vocabulary (parameter types), hence a lexer mode.
CONDITION: 'condition' -> pushMode(PARAMS);
RELATIONS: 'relations';
RELATION: 'relation';
DEFINE: 'define';
KEYWORD_WITH: 'with';

// Condition bodies are CEL; these tokens only need to carry the text through (CEL is checked elsewhere).
EQUALS: '==';
NOT_EQUALS: '!=';
IN: 'in';
LESS: '<';
LESS_EQUALS: '<=';
GREATER_EQUALS: '>=';
GREATER: '>';
LOGICAL_AND: '&&';
LOGICAL_OR: '||';
LBRACKET: '[';
RPRACKET: ']';
LBRACE: '{';
RBRACE: '}';
LPAREN: '(';
RPAREN: ')';
DOT: '.';
MINUS: '-';
EXCLAM: '!';
QUESTIONMARK: '?';
PLUS: '+';
STAR: '*';
SLASH: '/';
PERCENT: '%';
CEL_TRUE: 'true';
CEL_FALSE: 'false';
NUL: 'null';

WHITESPACE: [ \t\f]+;
CEL_COMMENT: '//' ~'\n'* -> channel(HIDDEN);

NUM_FLOAT: DIGIT+ '.' DIGIT+ EXP? | DIGIT+ EXP | '.' DIGIT+ EXP?;
NUM_INT: DIGIT+ | '0x' HEX+;
NUM_UINT: DIGIT+ [uU] | '0x' HEX+ [uU];

STRING
    : '"' (ESCAPED | ~[\\"\n\r])* '"'
    | '\'' (ESCAPED | ~[\\'\n\r])* '\''
    | '"""' (ESCAPED | ~'\\')*? '"""'
    | '\'\'\'' (ESCAPED | ~'\\')*? '\'\'\''
    | [rR] '"' ~["\n\r]* '"'
    | [rR] '\'' ~['\n\r]* '\''
    | [rR] '"""' .*? '"""'
    | [rR] '\'\'\'' .*? '\'\'\''
    ;
BYTES: [bB] STRING;

// '-' is allowed in names (not in CEL identifiers: condition bodies are re-checked as CEL later).
IDENTIFIER: NAME_START [a-zA-Z0-9_-]*;
// Names with '/', '.' separators, e.g. `type a.b/c`.
EXTENDED_IDENTIFIER: NAME_START ([/.-]? [a-zA-Z0-9_]+)*;

// Line breaks swallow the indentation around them: the DSL is line-oriented, indentation-insensitive.
NEWLINE: [ \t\f]* ('\r'? '\n' | '\r' | '\f') [ \t\f]* NEWLINE?;

fragment NAME_START: [a-zA-Z_];
fragment DIGIT: [0-9];
fragment HEX: [0-9a-fA-F];
fragment EXP: [eE] [+-]? DIGIT+;
fragment ESCAPED
    : '\\' [abfnrtv"'\\?`]
    | '\\' [xX] HEX HEX
    | '\\u' HEX HEX HEX HEX
    | '\\U' HEX HEX HEX HEX HEX HEX HEX HEX
    | '\\' [0-3] [0-7] [0-7]
    ;

mode PARAMS;
PARAMS_END: RPAREN -> type(RPAREN), popMode;
CONDITION_PARAM_CONTAINER: 'map' | 'list';
CONDITION_PARAM_TYPE: 'bool' | 'string' | 'int' | 'uint' | 'double' | 'duration' | 'timestamp' | 'ipaddress';
PARAMS_LESS: LESS -> type(LESS);
PARAMS_GREATER: GREATER -> type(GREATER);
PARAMS_OPEN: LPAREN -> type(LPAREN);
PARAMS_COLON: COLON -> type(COLON);
PARAMS_COMMA: COMMA -> type(COMMA);
PARAMS_SPACE: WHITESPACE -> type(WHITESPACE);
PARAMS_NAME: IDENTIFIER -> type(IDENTIFIER);
