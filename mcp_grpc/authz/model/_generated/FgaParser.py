# Generated from grammar/FgaParser.g4 by ANTLR 4.13.2
# encoding: utf-8
from antlr4 import *
from io import StringIO
import sys
if sys.version_info[1] > 5:
	from typing import TextIO
else:
	from typing.io import TextIO

def serializedATN():
    return [
        4,1,57,385,2,0,7,0,2,1,7,1,2,2,7,2,2,3,7,3,2,4,7,4,2,5,7,5,2,6,7,
        6,2,7,7,7,2,8,7,8,2,9,7,9,2,10,7,10,2,11,7,11,2,12,7,12,2,13,7,13,
        2,14,7,14,2,15,7,15,2,16,7,16,2,17,7,17,2,18,7,18,2,19,7,19,2,20,
        7,20,2,21,7,21,2,22,7,22,2,23,7,23,2,24,7,24,2,25,7,25,1,0,3,0,54,
        8,0,1,0,3,0,57,8,0,1,0,1,0,3,0,61,8,0,1,0,3,0,64,8,0,1,0,1,0,3,0,
        68,8,0,1,0,1,0,3,0,72,8,0,1,0,1,0,1,1,1,1,1,1,3,1,79,8,1,1,1,1,1,
        1,1,1,1,1,1,1,1,3,1,87,8,1,1,2,1,2,1,2,3,2,92,8,2,1,2,1,2,1,2,1,
        2,3,2,98,8,2,1,3,5,3,101,8,3,10,3,12,3,104,9,3,1,4,1,4,3,4,108,8,
        4,1,4,1,4,1,4,3,4,113,8,4,1,4,1,4,1,4,1,4,1,4,1,4,4,4,121,8,4,11,
        4,12,4,122,3,4,125,8,4,1,5,1,5,3,5,129,8,5,1,5,1,5,1,5,1,5,1,5,3,
        5,136,8,5,1,5,1,5,3,5,140,8,5,1,5,1,5,1,6,1,6,1,7,1,7,1,7,3,7,149,
        8,7,1,7,3,7,152,8,7,1,8,1,8,3,8,156,8,8,1,8,3,8,159,8,8,1,9,1,9,
        1,9,1,9,1,9,3,9,166,8,9,4,9,168,8,9,11,9,12,9,169,1,9,1,9,1,9,1,
        9,1,9,3,9,177,8,9,4,9,179,8,9,11,9,12,9,180,1,9,1,9,1,9,1,9,1,9,
        3,9,188,8,9,3,9,190,8,9,1,10,1,10,1,11,1,11,5,11,196,8,11,10,11,
        12,11,199,9,11,1,11,1,11,3,11,203,8,11,1,11,5,11,206,8,11,10,11,
        12,11,209,9,11,1,11,1,11,1,12,1,12,5,12,215,8,12,10,12,12,12,218,
        9,12,1,12,1,12,3,12,222,8,12,1,12,5,12,225,8,12,10,12,12,12,228,
        9,12,1,12,1,12,1,13,1,13,3,13,234,8,13,1,13,1,13,3,13,238,8,13,1,
        13,1,13,3,13,242,8,13,1,13,1,13,3,13,246,8,13,5,13,248,8,13,10,13,
        12,13,251,9,13,1,13,1,13,1,14,1,14,1,14,1,14,1,14,3,14,260,8,14,
        1,15,3,15,263,8,15,1,15,1,15,1,15,1,15,1,15,1,15,1,15,3,15,272,8,
        15,1,15,3,15,275,8,15,1,16,1,16,1,16,1,16,1,16,3,16,282,8,16,1,17,
        5,17,285,8,17,10,17,12,17,288,9,17,1,18,1,18,3,18,292,8,18,1,18,
        1,18,1,18,1,18,1,18,3,18,299,8,18,1,18,1,18,3,18,303,8,18,1,18,1,
        18,3,18,307,8,18,1,18,1,18,3,18,311,8,18,1,18,1,18,3,18,315,8,18,
        5,18,317,8,18,10,18,12,18,320,9,18,1,18,3,18,323,8,18,1,18,1,18,
        3,18,327,8,18,1,18,1,18,3,18,331,8,18,1,18,3,18,334,8,18,1,18,1,
        18,3,18,338,8,18,1,18,1,18,1,19,1,19,1,20,3,20,345,8,20,1,20,1,20,
        3,20,349,8,20,1,20,1,20,3,20,353,8,20,1,20,1,20,1,21,1,21,1,22,1,
        22,1,22,1,22,1,22,3,22,364,8,22,1,23,1,23,5,23,368,8,23,10,23,12,
        23,371,9,23,1,23,1,23,3,23,375,8,23,1,24,1,24,1,25,5,25,380,8,25,
        10,25,12,25,383,9,25,1,25,0,0,26,0,2,4,6,8,10,12,14,16,18,20,22,
        24,26,28,30,32,34,36,38,40,42,44,46,48,50,0,3,1,0,55,55,5,0,10,10,
        16,18,20,21,24,24,54,54,1,0,36,36,425,0,53,1,0,0,0,2,78,1,0,0,0,
        4,91,1,0,0,0,6,102,1,0,0,0,8,107,1,0,0,0,10,128,1,0,0,0,12,143,1,
        0,0,0,14,148,1,0,0,0,16,155,1,0,0,0,18,189,1,0,0,0,20,191,1,0,0,
        0,22,193,1,0,0,0,24,212,1,0,0,0,26,231,1,0,0,0,28,254,1,0,0,0,30,
        262,1,0,0,0,32,276,1,0,0,0,34,286,1,0,0,0,36,291,1,0,0,0,38,341,
        1,0,0,0,40,344,1,0,0,0,42,356,1,0,0,0,44,363,1,0,0,0,46,365,1,0,
        0,0,48,376,1,0,0,0,50,381,1,0,0,0,52,54,5,9,0,0,53,52,1,0,0,0,53,
        54,1,0,0,0,54,56,1,0,0,0,55,57,5,55,0,0,56,55,1,0,0,0,56,57,1,0,
        0,0,57,60,1,0,0,0,58,61,3,2,1,0,59,61,3,4,2,0,60,58,1,0,0,0,60,59,
        1,0,0,0,61,63,1,0,0,0,62,64,5,55,0,0,63,62,1,0,0,0,63,64,1,0,0,0,
        64,65,1,0,0,0,65,67,3,6,3,0,66,68,5,55,0,0,67,66,1,0,0,0,67,68,1,
        0,0,0,68,69,1,0,0,0,69,71,3,34,17,0,70,72,5,55,0,0,71,70,1,0,0,0,
        71,72,1,0,0,0,72,73,1,0,0,0,73,74,5,0,0,1,74,1,1,0,0,0,75,76,3,46,
        23,0,76,77,5,55,0,0,77,79,1,0,0,0,78,75,1,0,0,0,78,79,1,0,0,0,79,
        80,1,0,0,0,80,81,5,17,0,0,81,82,5,55,0,0,82,83,5,18,0,0,83,84,5,
        9,0,0,84,86,5,19,0,0,85,87,5,9,0,0,86,85,1,0,0,0,86,87,1,0,0,0,87,
        3,1,0,0,0,88,89,3,46,23,0,89,90,5,55,0,0,90,92,1,0,0,0,91,88,1,0,
        0,0,91,92,1,0,0,0,92,93,1,0,0,0,93,94,5,16,0,0,94,95,5,9,0,0,95,
        97,3,48,24,0,96,98,5,9,0,0,97,96,1,0,0,0,97,98,1,0,0,0,98,5,1,0,
        0,0,99,101,3,8,4,0,100,99,1,0,0,0,101,104,1,0,0,0,102,100,1,0,0,
        0,102,103,1,0,0,0,103,7,1,0,0,0,104,102,1,0,0,0,105,106,5,55,0,0,
        106,108,3,46,23,0,107,105,1,0,0,0,107,108,1,0,0,0,108,109,1,0,0,
        0,109,112,5,55,0,0,110,111,5,20,0,0,111,113,5,9,0,0,112,110,1,0,
        0,0,112,113,1,0,0,0,113,114,1,0,0,0,114,115,5,21,0,0,115,116,5,9,
        0,0,116,124,3,48,24,0,117,118,5,55,0,0,118,120,5,23,0,0,119,121,
        3,10,5,0,120,119,1,0,0,0,121,122,1,0,0,0,122,120,1,0,0,0,122,123,
        1,0,0,0,123,125,1,0,0,0,124,117,1,0,0,0,124,125,1,0,0,0,125,9,1,
        0,0,0,126,127,5,55,0,0,127,129,3,46,23,0,128,126,1,0,0,0,128,129,
        1,0,0,0,129,130,1,0,0,0,130,131,5,55,0,0,131,132,5,25,0,0,132,133,
        5,9,0,0,133,135,3,12,6,0,134,136,5,9,0,0,135,134,1,0,0,0,135,136,
        1,0,0,0,136,137,1,0,0,0,137,139,5,1,0,0,138,140,5,9,0,0,139,138,
        1,0,0,0,139,140,1,0,0,0,140,141,1,0,0,0,141,142,3,14,7,0,142,11,
        1,0,0,0,143,144,3,48,24,0,144,13,1,0,0,0,145,149,3,26,13,0,146,149,
        3,20,10,0,147,149,3,22,11,0,148,145,1,0,0,0,148,146,1,0,0,0,148,
        147,1,0,0,0,149,151,1,0,0,0,150,152,3,18,9,0,151,150,1,0,0,0,151,
        152,1,0,0,0,152,15,1,0,0,0,153,156,3,20,10,0,154,156,3,24,12,0,155,
        153,1,0,0,0,155,154,1,0,0,0,156,158,1,0,0,0,157,159,3,18,9,0,158,
        157,1,0,0,0,158,159,1,0,0,0,159,17,1,0,0,0,160,161,5,9,0,0,161,162,
        5,13,0,0,162,165,5,9,0,0,163,166,3,20,10,0,164,166,3,24,12,0,165,
        163,1,0,0,0,165,164,1,0,0,0,166,168,1,0,0,0,167,160,1,0,0,0,168,
        169,1,0,0,0,169,167,1,0,0,0,169,170,1,0,0,0,170,190,1,0,0,0,171,
        172,5,9,0,0,172,173,5,12,0,0,173,176,5,9,0,0,174,177,3,20,10,0,175,
        177,3,24,12,0,176,174,1,0,0,0,176,175,1,0,0,0,177,179,1,0,0,0,178,
        171,1,0,0,0,179,180,1,0,0,0,180,178,1,0,0,0,180,181,1,0,0,0,181,
        190,1,0,0,0,182,183,5,9,0,0,183,184,5,14,0,0,184,187,5,9,0,0,185,
        188,3,20,10,0,186,188,3,24,12,0,187,185,1,0,0,0,187,186,1,0,0,0,
        188,190,1,0,0,0,189,167,1,0,0,0,189,178,1,0,0,0,189,182,1,0,0,0,
        190,19,1,0,0,0,191,192,3,28,14,0,192,21,1,0,0,0,193,197,5,7,0,0,
        194,196,5,9,0,0,195,194,1,0,0,0,196,199,1,0,0,0,197,195,1,0,0,0,
        197,198,1,0,0,0,198,202,1,0,0,0,199,197,1,0,0,0,200,203,3,14,7,0,
        201,203,3,24,12,0,202,200,1,0,0,0,202,201,1,0,0,0,203,207,1,0,0,
        0,204,206,5,9,0,0,205,204,1,0,0,0,206,209,1,0,0,0,207,205,1,0,0,
        0,207,208,1,0,0,0,208,210,1,0,0,0,209,207,1,0,0,0,210,211,5,8,0,
        0,211,23,1,0,0,0,212,216,5,7,0,0,213,215,5,9,0,0,214,213,1,0,0,0,
        215,218,1,0,0,0,216,214,1,0,0,0,216,217,1,0,0,0,217,221,1,0,0,0,
        218,216,1,0,0,0,219,222,3,16,8,0,220,222,3,24,12,0,221,219,1,0,0,
        0,221,220,1,0,0,0,222,226,1,0,0,0,223,225,5,9,0,0,224,223,1,0,0,
        0,225,228,1,0,0,0,226,224,1,0,0,0,226,227,1,0,0,0,227,229,1,0,0,
        0,228,226,1,0,0,0,229,230,5,8,0,0,230,25,1,0,0,0,231,233,5,5,0,0,
        232,234,5,9,0,0,233,232,1,0,0,0,233,234,1,0,0,0,234,235,1,0,0,0,
        235,237,3,30,15,0,236,238,5,9,0,0,237,236,1,0,0,0,237,238,1,0,0,
        0,238,249,1,0,0,0,239,241,5,2,0,0,240,242,5,9,0,0,241,240,1,0,0,
        0,241,242,1,0,0,0,242,243,1,0,0,0,243,245,3,30,15,0,244,246,5,9,
        0,0,245,244,1,0,0,0,245,246,1,0,0,0,246,248,1,0,0,0,247,239,1,0,
        0,0,248,251,1,0,0,0,249,247,1,0,0,0,249,250,1,0,0,0,250,252,1,0,
        0,0,251,249,1,0,0,0,252,253,5,34,0,0,253,27,1,0,0,0,254,259,3,48,
        24,0,255,256,5,9,0,0,256,257,5,15,0,0,257,258,5,9,0,0,258,260,3,
        48,24,0,259,255,1,0,0,0,259,260,1,0,0,0,260,29,1,0,0,0,261,263,5,
        55,0,0,262,261,1,0,0,0,262,263,1,0,0,0,263,271,1,0,0,0,264,272,3,
        32,16,0,265,266,3,32,16,0,266,267,5,9,0,0,267,268,5,26,0,0,268,269,
        5,9,0,0,269,270,3,38,19,0,270,272,1,0,0,0,271,264,1,0,0,0,271,265,
        1,0,0,0,272,274,1,0,0,0,273,275,5,55,0,0,274,273,1,0,0,0,274,275,
        1,0,0,0,275,31,1,0,0,0,276,281,3,48,24,0,277,278,5,1,0,0,278,282,
        5,42,0,0,279,280,5,11,0,0,280,282,3,48,24,0,281,277,1,0,0,0,281,
        279,1,0,0,0,281,282,1,0,0,0,282,33,1,0,0,0,283,285,3,36,18,0,284,
        283,1,0,0,0,285,288,1,0,0,0,286,284,1,0,0,0,286,287,1,0,0,0,287,
        35,1,0,0,0,288,286,1,0,0,0,289,290,5,55,0,0,290,292,3,46,23,0,291,
        289,1,0,0,0,291,292,1,0,0,0,292,293,1,0,0,0,293,294,5,55,0,0,294,
        295,5,22,0,0,295,296,5,9,0,0,296,298,3,38,19,0,297,299,5,9,0,0,298,
        297,1,0,0,0,298,299,1,0,0,0,299,300,1,0,0,0,300,302,5,7,0,0,301,
        303,5,9,0,0,302,301,1,0,0,0,302,303,1,0,0,0,303,304,1,0,0,0,304,
        306,3,40,20,0,305,307,5,9,0,0,306,305,1,0,0,0,306,307,1,0,0,0,307,
        318,1,0,0,0,308,310,5,2,0,0,309,311,5,9,0,0,310,309,1,0,0,0,310,
        311,1,0,0,0,311,312,1,0,0,0,312,314,3,40,20,0,313,315,5,9,0,0,314,
        313,1,0,0,0,314,315,1,0,0,0,315,317,1,0,0,0,316,308,1,0,0,0,317,
        320,1,0,0,0,318,316,1,0,0,0,318,319,1,0,0,0,319,322,1,0,0,0,320,
        318,1,0,0,0,321,323,5,55,0,0,322,321,1,0,0,0,322,323,1,0,0,0,323,
        324,1,0,0,0,324,326,5,8,0,0,325,327,5,9,0,0,326,325,1,0,0,0,326,
        327,1,0,0,0,327,328,1,0,0,0,328,330,5,35,0,0,329,331,5,55,0,0,330,
        329,1,0,0,0,330,331,1,0,0,0,331,333,1,0,0,0,332,334,5,9,0,0,333,
        332,1,0,0,0,333,334,1,0,0,0,334,335,1,0,0,0,335,337,3,50,25,0,336,
        338,5,55,0,0,337,336,1,0,0,0,337,338,1,0,0,0,338,339,1,0,0,0,339,
        340,5,36,0,0,340,37,1,0,0,0,341,342,5,10,0,0,342,39,1,0,0,0,343,
        345,5,55,0,0,344,343,1,0,0,0,344,345,1,0,0,0,345,346,1,0,0,0,346,
        348,3,42,21,0,347,349,5,9,0,0,348,347,1,0,0,0,348,349,1,0,0,0,349,
        350,1,0,0,0,350,352,5,1,0,0,351,353,5,9,0,0,352,351,1,0,0,0,352,
        353,1,0,0,0,353,354,1,0,0,0,354,355,3,44,22,0,355,41,1,0,0,0,356,
        357,5,10,0,0,357,43,1,0,0,0,358,364,5,57,0,0,359,360,5,56,0,0,360,
        361,5,3,0,0,361,362,5,57,0,0,362,364,5,4,0,0,363,358,1,0,0,0,363,
        359,1,0,0,0,364,45,1,0,0,0,365,369,5,11,0,0,366,368,8,0,0,0,367,
        366,1,0,0,0,368,371,1,0,0,0,369,367,1,0,0,0,369,370,1,0,0,0,370,
        374,1,0,0,0,371,369,1,0,0,0,372,373,5,55,0,0,373,375,3,46,23,0,374,
        372,1,0,0,0,374,375,1,0,0,0,375,47,1,0,0,0,376,377,7,1,0,0,377,49,
        1,0,0,0,378,380,8,2,0,0,379,378,1,0,0,0,380,383,1,0,0,0,381,379,
        1,0,0,0,381,382,1,0,0,0,382,51,1,0,0,0,383,381,1,0,0,0,64,53,56,
        60,63,67,71,78,86,91,97,102,107,112,122,124,128,135,139,148,151,
        155,158,165,169,176,180,187,189,197,202,207,216,221,226,233,237,
        241,245,249,259,262,271,274,281,286,291,298,302,306,310,314,318,
        322,326,330,333,337,344,348,352,363,369,374,381
    ]

class FgaParser ( Parser ):

    grammarFileName = "FgaParser.g4"

    atn = ATNDeserializer().deserialize(serializedATN())

    decisionsToDFA = [ DFA(ds, i) for i, ds in enumerate(atn.decisionToState) ]

    sharedContextCache = PredictionContextCache()

    literalNames = [ "<INVALID>", "':'", "','", "'<'", "'>'", "'['", "<INVALID>", 
                     "'('", "')'", "<INVALID>", "<INVALID>", "'#'", "'and'", 
                     "'or'", "'but not'", "'from'", "'module'", "'model'", 
                     "'schema'", "<INVALID>", "'extend'", "'type'", "'condition'", 
                     "'relations'", "'relation'", "'define'", "'with'", 
                     "'=='", "'!='", "'in'", "'<='", "'>='", "'&&'", "'||'", 
                     "']'", "'{'", "'}'", "'.'", "'-'", "'!'", "'?'", "'+'", 
                     "'*'", "'/'", "'%'", "'true'", "'false'", "'null'" ]

    symbolicNames = [ "<INVALID>", "COLON", "COMMA", "LESS", "GREATER", 
                      "LBRACKET", "RBRACKET", "LPAREN", "RPAREN", "WHITESPACE", 
                      "IDENTIFIER", "HASH", "AND", "OR", "BUT_NOT", "FROM", 
                      "MODULE", "MODEL", "SCHEMA", "SCHEMA_VERSION", "EXTEND", 
                      "TYPE", "CONDITION", "RELATIONS", "RELATION", "DEFINE", 
                      "KEYWORD_WITH", "EQUALS", "NOT_EQUALS", "IN", "LESS_EQUALS", 
                      "GREATER_EQUALS", "LOGICAL_AND", "LOGICAL_OR", "RPRACKET", 
                      "LBRACE", "RBRACE", "DOT", "MINUS", "EXCLAM", "QUESTIONMARK", 
                      "PLUS", "STAR", "SLASH", "PERCENT", "CEL_TRUE", "CEL_FALSE", 
                      "NUL", "CEL_COMMENT", "NUM_FLOAT", "NUM_INT", "NUM_UINT", 
                      "STRING", "BYTES", "EXTENDED_IDENTIFIER", "NEWLINE", 
                      "CONDITION_PARAM_CONTAINER", "CONDITION_PARAM_TYPE" ]

    RULE_main = 0
    RULE_modelHeader = 1
    RULE_moduleHeader = 2
    RULE_typeDefs = 3
    RULE_typeDef = 4
    RULE_relationDeclaration = 5
    RULE_relationName = 6
    RULE_relationDef = 7
    RULE_relationDefNoDirect = 8
    RULE_relationDefPartials = 9
    RULE_relationDefGrouping = 10
    RULE_relationRecurse = 11
    RULE_relationRecurseNoDirect = 12
    RULE_relationDefDirectAssignment = 13
    RULE_relationDefRewrite = 14
    RULE_relationDefTypeRestriction = 15
    RULE_relationDefTypeRestrictionBase = 16
    RULE_conditions = 17
    RULE_condition = 18
    RULE_conditionName = 19
    RULE_conditionParameter = 20
    RULE_parameterName = 21
    RULE_parameterType = 22
    RULE_multiLineComment = 23
    RULE_identifier = 24
    RULE_conditionExpression = 25

    ruleNames =  [ "main", "modelHeader", "moduleHeader", "typeDefs", "typeDef", 
                   "relationDeclaration", "relationName", "relationDef", 
                   "relationDefNoDirect", "relationDefPartials", "relationDefGrouping", 
                   "relationRecurse", "relationRecurseNoDirect", "relationDefDirectAssignment", 
                   "relationDefRewrite", "relationDefTypeRestriction", "relationDefTypeRestrictionBase", 
                   "conditions", "condition", "conditionName", "conditionParameter", 
                   "parameterName", "parameterType", "multiLineComment", 
                   "identifier", "conditionExpression" ]

    EOF = Token.EOF
    COLON=1
    COMMA=2
    LESS=3
    GREATER=4
    LBRACKET=5
    RBRACKET=6
    LPAREN=7
    RPAREN=8
    WHITESPACE=9
    IDENTIFIER=10
    HASH=11
    AND=12
    OR=13
    BUT_NOT=14
    FROM=15
    MODULE=16
    MODEL=17
    SCHEMA=18
    SCHEMA_VERSION=19
    EXTEND=20
    TYPE=21
    CONDITION=22
    RELATIONS=23
    RELATION=24
    DEFINE=25
    KEYWORD_WITH=26
    EQUALS=27
    NOT_EQUALS=28
    IN=29
    LESS_EQUALS=30
    GREATER_EQUALS=31
    LOGICAL_AND=32
    LOGICAL_OR=33
    RPRACKET=34
    LBRACE=35
    RBRACE=36
    DOT=37
    MINUS=38
    EXCLAM=39
    QUESTIONMARK=40
    PLUS=41
    STAR=42
    SLASH=43
    PERCENT=44
    CEL_TRUE=45
    CEL_FALSE=46
    NUL=47
    CEL_COMMENT=48
    NUM_FLOAT=49
    NUM_INT=50
    NUM_UINT=51
    STRING=52
    BYTES=53
    EXTENDED_IDENTIFIER=54
    NEWLINE=55
    CONDITION_PARAM_CONTAINER=56
    CONDITION_PARAM_TYPE=57

    def __init__(self, input:TokenStream, output:TextIO = sys.stdout):
        super().__init__(input, output)
        self.checkVersion("4.13.2")
        self._interp = ParserATNSimulator(self, self.atn, self.decisionsToDFA, self.sharedContextCache)
        self._predicates = None




    class MainContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def typeDefs(self):
            return self.getTypedRuleContext(FgaParser.TypeDefsContext,0)


        def conditions(self):
            return self.getTypedRuleContext(FgaParser.ConditionsContext,0)


        def EOF(self):
            return self.getToken(FgaParser.EOF, 0)

        def modelHeader(self):
            return self.getTypedRuleContext(FgaParser.ModelHeaderContext,0)


        def moduleHeader(self):
            return self.getTypedRuleContext(FgaParser.ModuleHeaderContext,0)


        def WHITESPACE(self):
            return self.getToken(FgaParser.WHITESPACE, 0)

        def NEWLINE(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.NEWLINE)
            else:
                return self.getToken(FgaParser.NEWLINE, i)

        def getRuleIndex(self):
            return FgaParser.RULE_main

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterMain" ):
                listener.enterMain(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitMain" ):
                listener.exitMain(self)




    def main(self):

        localctx = FgaParser.MainContext(self, self._ctx, self.state)
        self.enterRule(localctx, 0, self.RULE_main)
        self._la = 0 # Token type
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 53
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==9:
                self.state = 52
                self.match(FgaParser.WHITESPACE)


            self.state = 56
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==55:
                self.state = 55
                self.match(FgaParser.NEWLINE)


            self.state = 60
            self._errHandler.sync(self)
            la_ = self._interp.adaptivePredict(self._input,2,self._ctx)
            if la_ == 1:
                self.state = 58
                self.modelHeader()
                pass

            elif la_ == 2:
                self.state = 59
                self.moduleHeader()
                pass


            self.state = 63
            self._errHandler.sync(self)
            la_ = self._interp.adaptivePredict(self._input,3,self._ctx)
            if la_ == 1:
                self.state = 62
                self.match(FgaParser.NEWLINE)


            self.state = 65
            self.typeDefs()
            self.state = 67
            self._errHandler.sync(self)
            la_ = self._interp.adaptivePredict(self._input,4,self._ctx)
            if la_ == 1:
                self.state = 66
                self.match(FgaParser.NEWLINE)


            self.state = 69
            self.conditions()
            self.state = 71
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==55:
                self.state = 70
                self.match(FgaParser.NEWLINE)


            self.state = 73
            self.match(FgaParser.EOF)
        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class ModelHeaderContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser
            self.schemaVersion = None # Token

        def MODEL(self):
            return self.getToken(FgaParser.MODEL, 0)

        def NEWLINE(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.NEWLINE)
            else:
                return self.getToken(FgaParser.NEWLINE, i)

        def SCHEMA(self):
            return self.getToken(FgaParser.SCHEMA, 0)

        def WHITESPACE(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.WHITESPACE)
            else:
                return self.getToken(FgaParser.WHITESPACE, i)

        def SCHEMA_VERSION(self):
            return self.getToken(FgaParser.SCHEMA_VERSION, 0)

        def multiLineComment(self):
            return self.getTypedRuleContext(FgaParser.MultiLineCommentContext,0)


        def getRuleIndex(self):
            return FgaParser.RULE_modelHeader

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterModelHeader" ):
                listener.enterModelHeader(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitModelHeader" ):
                listener.exitModelHeader(self)




    def modelHeader(self):

        localctx = FgaParser.ModelHeaderContext(self, self._ctx, self.state)
        self.enterRule(localctx, 2, self.RULE_modelHeader)
        self._la = 0 # Token type
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 78
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==11:
                self.state = 75
                self.multiLineComment()
                self.state = 76
                self.match(FgaParser.NEWLINE)


            self.state = 80
            self.match(FgaParser.MODEL)
            self.state = 81
            self.match(FgaParser.NEWLINE)
            self.state = 82
            self.match(FgaParser.SCHEMA)
            self.state = 83
            self.match(FgaParser.WHITESPACE)
            self.state = 84
            localctx.schemaVersion = self.match(FgaParser.SCHEMA_VERSION)
            self.state = 86
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==9:
                self.state = 85
                self.match(FgaParser.WHITESPACE)


        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class ModuleHeaderContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser
            self.moduleName = None # IdentifierContext

        def MODULE(self):
            return self.getToken(FgaParser.MODULE, 0)

        def WHITESPACE(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.WHITESPACE)
            else:
                return self.getToken(FgaParser.WHITESPACE, i)

        def identifier(self):
            return self.getTypedRuleContext(FgaParser.IdentifierContext,0)


        def multiLineComment(self):
            return self.getTypedRuleContext(FgaParser.MultiLineCommentContext,0)


        def NEWLINE(self):
            return self.getToken(FgaParser.NEWLINE, 0)

        def getRuleIndex(self):
            return FgaParser.RULE_moduleHeader

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterModuleHeader" ):
                listener.enterModuleHeader(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitModuleHeader" ):
                listener.exitModuleHeader(self)




    def moduleHeader(self):

        localctx = FgaParser.ModuleHeaderContext(self, self._ctx, self.state)
        self.enterRule(localctx, 4, self.RULE_moduleHeader)
        self._la = 0 # Token type
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 91
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==11:
                self.state = 88
                self.multiLineComment()
                self.state = 89
                self.match(FgaParser.NEWLINE)


            self.state = 93
            self.match(FgaParser.MODULE)
            self.state = 94
            self.match(FgaParser.WHITESPACE)
            self.state = 95
            localctx.moduleName = self.identifier()
            self.state = 97
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==9:
                self.state = 96
                self.match(FgaParser.WHITESPACE)


        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class TypeDefsContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def typeDef(self, i:int=None):
            if i is None:
                return self.getTypedRuleContexts(FgaParser.TypeDefContext)
            else:
                return self.getTypedRuleContext(FgaParser.TypeDefContext,i)


        def getRuleIndex(self):
            return FgaParser.RULE_typeDefs

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterTypeDefs" ):
                listener.enterTypeDefs(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitTypeDefs" ):
                listener.exitTypeDefs(self)




    def typeDefs(self):

        localctx = FgaParser.TypeDefsContext(self, self._ctx, self.state)
        self.enterRule(localctx, 6, self.RULE_typeDefs)
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 102
            self._errHandler.sync(self)
            _alt = self._interp.adaptivePredict(self._input,10,self._ctx)
            while _alt!=2 and _alt!=ATN.INVALID_ALT_NUMBER:
                if _alt==1:
                    self.state = 99
                    self.typeDef() 
                self.state = 104
                self._errHandler.sync(self)
                _alt = self._interp.adaptivePredict(self._input,10,self._ctx)

        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class TypeDefContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser
            self.typeName = None # IdentifierContext

        def NEWLINE(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.NEWLINE)
            else:
                return self.getToken(FgaParser.NEWLINE, i)

        def TYPE(self):
            return self.getToken(FgaParser.TYPE, 0)

        def WHITESPACE(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.WHITESPACE)
            else:
                return self.getToken(FgaParser.WHITESPACE, i)

        def identifier(self):
            return self.getTypedRuleContext(FgaParser.IdentifierContext,0)


        def multiLineComment(self):
            return self.getTypedRuleContext(FgaParser.MultiLineCommentContext,0)


        def EXTEND(self):
            return self.getToken(FgaParser.EXTEND, 0)

        def RELATIONS(self):
            return self.getToken(FgaParser.RELATIONS, 0)

        def relationDeclaration(self, i:int=None):
            if i is None:
                return self.getTypedRuleContexts(FgaParser.RelationDeclarationContext)
            else:
                return self.getTypedRuleContext(FgaParser.RelationDeclarationContext,i)


        def getRuleIndex(self):
            return FgaParser.RULE_typeDef

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterTypeDef" ):
                listener.enterTypeDef(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitTypeDef" ):
                listener.exitTypeDef(self)




    def typeDef(self):

        localctx = FgaParser.TypeDefContext(self, self._ctx, self.state)
        self.enterRule(localctx, 8, self.RULE_typeDef)
        self._la = 0 # Token type
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 107
            self._errHandler.sync(self)
            la_ = self._interp.adaptivePredict(self._input,11,self._ctx)
            if la_ == 1:
                self.state = 105
                self.match(FgaParser.NEWLINE)
                self.state = 106
                self.multiLineComment()


            self.state = 109
            self.match(FgaParser.NEWLINE)
            self.state = 112
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==20:
                self.state = 110
                self.match(FgaParser.EXTEND)
                self.state = 111
                self.match(FgaParser.WHITESPACE)


            self.state = 114
            self.match(FgaParser.TYPE)
            self.state = 115
            self.match(FgaParser.WHITESPACE)
            self.state = 116
            localctx.typeName = self.identifier()
            self.state = 124
            self._errHandler.sync(self)
            la_ = self._interp.adaptivePredict(self._input,14,self._ctx)
            if la_ == 1:
                self.state = 117
                self.match(FgaParser.NEWLINE)
                self.state = 118
                self.match(FgaParser.RELATIONS)
                self.state = 120 
                self._errHandler.sync(self)
                _alt = 1
                while _alt!=2 and _alt!=ATN.INVALID_ALT_NUMBER:
                    if _alt == 1:
                        self.state = 119
                        self.relationDeclaration()

                    else:
                        raise NoViableAltException(self)
                    self.state = 122 
                    self._errHandler.sync(self)
                    _alt = self._interp.adaptivePredict(self._input,13,self._ctx)



        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class RelationDeclarationContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def NEWLINE(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.NEWLINE)
            else:
                return self.getToken(FgaParser.NEWLINE, i)

        def DEFINE(self):
            return self.getToken(FgaParser.DEFINE, 0)

        def WHITESPACE(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.WHITESPACE)
            else:
                return self.getToken(FgaParser.WHITESPACE, i)

        def relationName(self):
            return self.getTypedRuleContext(FgaParser.RelationNameContext,0)


        def COLON(self):
            return self.getToken(FgaParser.COLON, 0)

        def relationDef(self):
            return self.getTypedRuleContext(FgaParser.RelationDefContext,0)


        def multiLineComment(self):
            return self.getTypedRuleContext(FgaParser.MultiLineCommentContext,0)


        def getRuleIndex(self):
            return FgaParser.RULE_relationDeclaration

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterRelationDeclaration" ):
                listener.enterRelationDeclaration(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitRelationDeclaration" ):
                listener.exitRelationDeclaration(self)




    def relationDeclaration(self):

        localctx = FgaParser.RelationDeclarationContext(self, self._ctx, self.state)
        self.enterRule(localctx, 10, self.RULE_relationDeclaration)
        self._la = 0 # Token type
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 128
            self._errHandler.sync(self)
            la_ = self._interp.adaptivePredict(self._input,15,self._ctx)
            if la_ == 1:
                self.state = 126
                self.match(FgaParser.NEWLINE)
                self.state = 127
                self.multiLineComment()


            self.state = 130
            self.match(FgaParser.NEWLINE)
            self.state = 131
            self.match(FgaParser.DEFINE)
            self.state = 132
            self.match(FgaParser.WHITESPACE)
            self.state = 133
            self.relationName()
            self.state = 135
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==9:
                self.state = 134
                self.match(FgaParser.WHITESPACE)


            self.state = 137
            self.match(FgaParser.COLON)
            self.state = 139
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==9:
                self.state = 138
                self.match(FgaParser.WHITESPACE)


            self.state = 141
            self.relationDef()
        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class RelationNameContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def identifier(self):
            return self.getTypedRuleContext(FgaParser.IdentifierContext,0)


        def getRuleIndex(self):
            return FgaParser.RULE_relationName

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterRelationName" ):
                listener.enterRelationName(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitRelationName" ):
                listener.exitRelationName(self)




    def relationName(self):

        localctx = FgaParser.RelationNameContext(self, self._ctx, self.state)
        self.enterRule(localctx, 12, self.RULE_relationName)
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 143
            self.identifier()
        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class RelationDefContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def relationDefDirectAssignment(self):
            return self.getTypedRuleContext(FgaParser.RelationDefDirectAssignmentContext,0)


        def relationDefGrouping(self):
            return self.getTypedRuleContext(FgaParser.RelationDefGroupingContext,0)


        def relationRecurse(self):
            return self.getTypedRuleContext(FgaParser.RelationRecurseContext,0)


        def relationDefPartials(self):
            return self.getTypedRuleContext(FgaParser.RelationDefPartialsContext,0)


        def getRuleIndex(self):
            return FgaParser.RULE_relationDef

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterRelationDef" ):
                listener.enterRelationDef(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitRelationDef" ):
                listener.exitRelationDef(self)




    def relationDef(self):

        localctx = FgaParser.RelationDefContext(self, self._ctx, self.state)
        self.enterRule(localctx, 14, self.RULE_relationDef)
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 148
            self._errHandler.sync(self)
            token = self._input.LA(1)
            if token in [5]:
                self.state = 145
                self.relationDefDirectAssignment()
                pass
            elif token in [10, 16, 17, 18, 20, 21, 24, 54]:
                self.state = 146
                self.relationDefGrouping()
                pass
            elif token in [7]:
                self.state = 147
                self.relationRecurse()
                pass
            else:
                raise NoViableAltException(self)

            self.state = 151
            self._errHandler.sync(self)
            la_ = self._interp.adaptivePredict(self._input,19,self._ctx)
            if la_ == 1:
                self.state = 150
                self.relationDefPartials()


        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class RelationDefNoDirectContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def relationDefGrouping(self):
            return self.getTypedRuleContext(FgaParser.RelationDefGroupingContext,0)


        def relationRecurseNoDirect(self):
            return self.getTypedRuleContext(FgaParser.RelationRecurseNoDirectContext,0)


        def relationDefPartials(self):
            return self.getTypedRuleContext(FgaParser.RelationDefPartialsContext,0)


        def getRuleIndex(self):
            return FgaParser.RULE_relationDefNoDirect

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterRelationDefNoDirect" ):
                listener.enterRelationDefNoDirect(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitRelationDefNoDirect" ):
                listener.exitRelationDefNoDirect(self)




    def relationDefNoDirect(self):

        localctx = FgaParser.RelationDefNoDirectContext(self, self._ctx, self.state)
        self.enterRule(localctx, 16, self.RULE_relationDefNoDirect)
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 155
            self._errHandler.sync(self)
            token = self._input.LA(1)
            if token in [10, 16, 17, 18, 20, 21, 24, 54]:
                self.state = 153
                self.relationDefGrouping()
                pass
            elif token in [7]:
                self.state = 154
                self.relationRecurseNoDirect()
                pass
            else:
                raise NoViableAltException(self)

            self.state = 158
            self._errHandler.sync(self)
            la_ = self._interp.adaptivePredict(self._input,21,self._ctx)
            if la_ == 1:
                self.state = 157
                self.relationDefPartials()


        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class RelationDefPartialsContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def WHITESPACE(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.WHITESPACE)
            else:
                return self.getToken(FgaParser.WHITESPACE, i)

        def OR(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.OR)
            else:
                return self.getToken(FgaParser.OR, i)

        def relationDefGrouping(self, i:int=None):
            if i is None:
                return self.getTypedRuleContexts(FgaParser.RelationDefGroupingContext)
            else:
                return self.getTypedRuleContext(FgaParser.RelationDefGroupingContext,i)


        def relationRecurseNoDirect(self, i:int=None):
            if i is None:
                return self.getTypedRuleContexts(FgaParser.RelationRecurseNoDirectContext)
            else:
                return self.getTypedRuleContext(FgaParser.RelationRecurseNoDirectContext,i)


        def AND(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.AND)
            else:
                return self.getToken(FgaParser.AND, i)

        def BUT_NOT(self):
            return self.getToken(FgaParser.BUT_NOT, 0)

        def getRuleIndex(self):
            return FgaParser.RULE_relationDefPartials

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterRelationDefPartials" ):
                listener.enterRelationDefPartials(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitRelationDefPartials" ):
                listener.exitRelationDefPartials(self)




    def relationDefPartials(self):

        localctx = FgaParser.RelationDefPartialsContext(self, self._ctx, self.state)
        self.enterRule(localctx, 18, self.RULE_relationDefPartials)
        try:
            self.state = 189
            self._errHandler.sync(self)
            la_ = self._interp.adaptivePredict(self._input,27,self._ctx)
            if la_ == 1:
                self.enterOuterAlt(localctx, 1)
                self.state = 167 
                self._errHandler.sync(self)
                _alt = 1
                while _alt!=2 and _alt!=ATN.INVALID_ALT_NUMBER:
                    if _alt == 1:
                        self.state = 160
                        self.match(FgaParser.WHITESPACE)
                        self.state = 161
                        self.match(FgaParser.OR)
                        self.state = 162
                        self.match(FgaParser.WHITESPACE)
                        self.state = 165
                        self._errHandler.sync(self)
                        token = self._input.LA(1)
                        if token in [10, 16, 17, 18, 20, 21, 24, 54]:
                            self.state = 163
                            self.relationDefGrouping()
                            pass
                        elif token in [7]:
                            self.state = 164
                            self.relationRecurseNoDirect()
                            pass
                        else:
                            raise NoViableAltException(self)


                    else:
                        raise NoViableAltException(self)
                    self.state = 169 
                    self._errHandler.sync(self)
                    _alt = self._interp.adaptivePredict(self._input,23,self._ctx)

                pass

            elif la_ == 2:
                self.enterOuterAlt(localctx, 2)
                self.state = 178 
                self._errHandler.sync(self)
                _alt = 1
                while _alt!=2 and _alt!=ATN.INVALID_ALT_NUMBER:
                    if _alt == 1:
                        self.state = 171
                        self.match(FgaParser.WHITESPACE)
                        self.state = 172
                        self.match(FgaParser.AND)
                        self.state = 173
                        self.match(FgaParser.WHITESPACE)
                        self.state = 176
                        self._errHandler.sync(self)
                        token = self._input.LA(1)
                        if token in [10, 16, 17, 18, 20, 21, 24, 54]:
                            self.state = 174
                            self.relationDefGrouping()
                            pass
                        elif token in [7]:
                            self.state = 175
                            self.relationRecurseNoDirect()
                            pass
                        else:
                            raise NoViableAltException(self)


                    else:
                        raise NoViableAltException(self)
                    self.state = 180 
                    self._errHandler.sync(self)
                    _alt = self._interp.adaptivePredict(self._input,25,self._ctx)

                pass

            elif la_ == 3:
                self.enterOuterAlt(localctx, 3)
                self.state = 182
                self.match(FgaParser.WHITESPACE)
                self.state = 183
                self.match(FgaParser.BUT_NOT)
                self.state = 184
                self.match(FgaParser.WHITESPACE)
                self.state = 187
                self._errHandler.sync(self)
                token = self._input.LA(1)
                if token in [10, 16, 17, 18, 20, 21, 24, 54]:
                    self.state = 185
                    self.relationDefGrouping()
                    pass
                elif token in [7]:
                    self.state = 186
                    self.relationRecurseNoDirect()
                    pass
                else:
                    raise NoViableAltException(self)

                pass


        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class RelationDefGroupingContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def relationDefRewrite(self):
            return self.getTypedRuleContext(FgaParser.RelationDefRewriteContext,0)


        def getRuleIndex(self):
            return FgaParser.RULE_relationDefGrouping

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterRelationDefGrouping" ):
                listener.enterRelationDefGrouping(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitRelationDefGrouping" ):
                listener.exitRelationDefGrouping(self)




    def relationDefGrouping(self):

        localctx = FgaParser.RelationDefGroupingContext(self, self._ctx, self.state)
        self.enterRule(localctx, 20, self.RULE_relationDefGrouping)
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 191
            self.relationDefRewrite()
        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class RelationRecurseContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def LPAREN(self):
            return self.getToken(FgaParser.LPAREN, 0)

        def RPAREN(self):
            return self.getToken(FgaParser.RPAREN, 0)

        def relationDef(self):
            return self.getTypedRuleContext(FgaParser.RelationDefContext,0)


        def relationRecurseNoDirect(self):
            return self.getTypedRuleContext(FgaParser.RelationRecurseNoDirectContext,0)


        def WHITESPACE(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.WHITESPACE)
            else:
                return self.getToken(FgaParser.WHITESPACE, i)

        def getRuleIndex(self):
            return FgaParser.RULE_relationRecurse

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterRelationRecurse" ):
                listener.enterRelationRecurse(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitRelationRecurse" ):
                listener.exitRelationRecurse(self)




    def relationRecurse(self):

        localctx = FgaParser.RelationRecurseContext(self, self._ctx, self.state)
        self.enterRule(localctx, 22, self.RULE_relationRecurse)
        self._la = 0 # Token type
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 193
            self.match(FgaParser.LPAREN)
            self.state = 197
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            while _la==9:
                self.state = 194
                self.match(FgaParser.WHITESPACE)
                self.state = 199
                self._errHandler.sync(self)
                _la = self._input.LA(1)

            self.state = 202
            self._errHandler.sync(self)
            la_ = self._interp.adaptivePredict(self._input,29,self._ctx)
            if la_ == 1:
                self.state = 200
                self.relationDef()
                pass

            elif la_ == 2:
                self.state = 201
                self.relationRecurseNoDirect()
                pass


            self.state = 207
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            while _la==9:
                self.state = 204
                self.match(FgaParser.WHITESPACE)
                self.state = 209
                self._errHandler.sync(self)
                _la = self._input.LA(1)

            self.state = 210
            self.match(FgaParser.RPAREN)
        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class RelationRecurseNoDirectContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def LPAREN(self):
            return self.getToken(FgaParser.LPAREN, 0)

        def RPAREN(self):
            return self.getToken(FgaParser.RPAREN, 0)

        def relationDefNoDirect(self):
            return self.getTypedRuleContext(FgaParser.RelationDefNoDirectContext,0)


        def relationRecurseNoDirect(self):
            return self.getTypedRuleContext(FgaParser.RelationRecurseNoDirectContext,0)


        def WHITESPACE(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.WHITESPACE)
            else:
                return self.getToken(FgaParser.WHITESPACE, i)

        def getRuleIndex(self):
            return FgaParser.RULE_relationRecurseNoDirect

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterRelationRecurseNoDirect" ):
                listener.enterRelationRecurseNoDirect(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitRelationRecurseNoDirect" ):
                listener.exitRelationRecurseNoDirect(self)




    def relationRecurseNoDirect(self):

        localctx = FgaParser.RelationRecurseNoDirectContext(self, self._ctx, self.state)
        self.enterRule(localctx, 24, self.RULE_relationRecurseNoDirect)
        self._la = 0 # Token type
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 212
            self.match(FgaParser.LPAREN)
            self.state = 216
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            while _la==9:
                self.state = 213
                self.match(FgaParser.WHITESPACE)
                self.state = 218
                self._errHandler.sync(self)
                _la = self._input.LA(1)

            self.state = 221
            self._errHandler.sync(self)
            la_ = self._interp.adaptivePredict(self._input,32,self._ctx)
            if la_ == 1:
                self.state = 219
                self.relationDefNoDirect()
                pass

            elif la_ == 2:
                self.state = 220
                self.relationRecurseNoDirect()
                pass


            self.state = 226
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            while _la==9:
                self.state = 223
                self.match(FgaParser.WHITESPACE)
                self.state = 228
                self._errHandler.sync(self)
                _la = self._input.LA(1)

            self.state = 229
            self.match(FgaParser.RPAREN)
        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class RelationDefDirectAssignmentContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def LBRACKET(self):
            return self.getToken(FgaParser.LBRACKET, 0)

        def relationDefTypeRestriction(self, i:int=None):
            if i is None:
                return self.getTypedRuleContexts(FgaParser.RelationDefTypeRestrictionContext)
            else:
                return self.getTypedRuleContext(FgaParser.RelationDefTypeRestrictionContext,i)


        def RPRACKET(self):
            return self.getToken(FgaParser.RPRACKET, 0)

        def WHITESPACE(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.WHITESPACE)
            else:
                return self.getToken(FgaParser.WHITESPACE, i)

        def COMMA(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.COMMA)
            else:
                return self.getToken(FgaParser.COMMA, i)

        def getRuleIndex(self):
            return FgaParser.RULE_relationDefDirectAssignment

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterRelationDefDirectAssignment" ):
                listener.enterRelationDefDirectAssignment(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitRelationDefDirectAssignment" ):
                listener.exitRelationDefDirectAssignment(self)




    def relationDefDirectAssignment(self):

        localctx = FgaParser.RelationDefDirectAssignmentContext(self, self._ctx, self.state)
        self.enterRule(localctx, 26, self.RULE_relationDefDirectAssignment)
        self._la = 0 # Token type
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 231
            self.match(FgaParser.LBRACKET)
            self.state = 233
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==9:
                self.state = 232
                self.match(FgaParser.WHITESPACE)


            self.state = 235
            self.relationDefTypeRestriction()
            self.state = 237
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==9:
                self.state = 236
                self.match(FgaParser.WHITESPACE)


            self.state = 249
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            while _la==2:
                self.state = 239
                self.match(FgaParser.COMMA)
                self.state = 241
                self._errHandler.sync(self)
                _la = self._input.LA(1)
                if _la==9:
                    self.state = 240
                    self.match(FgaParser.WHITESPACE)


                self.state = 243
                self.relationDefTypeRestriction()
                self.state = 245
                self._errHandler.sync(self)
                _la = self._input.LA(1)
                if _la==9:
                    self.state = 244
                    self.match(FgaParser.WHITESPACE)


                self.state = 251
                self._errHandler.sync(self)
                _la = self._input.LA(1)

            self.state = 252
            self.match(FgaParser.RPRACKET)
        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class RelationDefRewriteContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser
            self.rewriteComputedusersetName = None # IdentifierContext
            self.rewriteTuplesetName = None # IdentifierContext

        def identifier(self, i:int=None):
            if i is None:
                return self.getTypedRuleContexts(FgaParser.IdentifierContext)
            else:
                return self.getTypedRuleContext(FgaParser.IdentifierContext,i)


        def WHITESPACE(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.WHITESPACE)
            else:
                return self.getToken(FgaParser.WHITESPACE, i)

        def FROM(self):
            return self.getToken(FgaParser.FROM, 0)

        def getRuleIndex(self):
            return FgaParser.RULE_relationDefRewrite

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterRelationDefRewrite" ):
                listener.enterRelationDefRewrite(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitRelationDefRewrite" ):
                listener.exitRelationDefRewrite(self)




    def relationDefRewrite(self):

        localctx = FgaParser.RelationDefRewriteContext(self, self._ctx, self.state)
        self.enterRule(localctx, 28, self.RULE_relationDefRewrite)
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 254
            localctx.rewriteComputedusersetName = self.identifier()
            self.state = 259
            self._errHandler.sync(self)
            la_ = self._interp.adaptivePredict(self._input,39,self._ctx)
            if la_ == 1:
                self.state = 255
                self.match(FgaParser.WHITESPACE)
                self.state = 256
                self.match(FgaParser.FROM)
                self.state = 257
                self.match(FgaParser.WHITESPACE)
                self.state = 258
                localctx.rewriteTuplesetName = self.identifier()


        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class RelationDefTypeRestrictionContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def relationDefTypeRestrictionBase(self):
            return self.getTypedRuleContext(FgaParser.RelationDefTypeRestrictionBaseContext,0)


        def NEWLINE(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.NEWLINE)
            else:
                return self.getToken(FgaParser.NEWLINE, i)

        def WHITESPACE(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.WHITESPACE)
            else:
                return self.getToken(FgaParser.WHITESPACE, i)

        def KEYWORD_WITH(self):
            return self.getToken(FgaParser.KEYWORD_WITH, 0)

        def conditionName(self):
            return self.getTypedRuleContext(FgaParser.ConditionNameContext,0)


        def getRuleIndex(self):
            return FgaParser.RULE_relationDefTypeRestriction

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterRelationDefTypeRestriction" ):
                listener.enterRelationDefTypeRestriction(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitRelationDefTypeRestriction" ):
                listener.exitRelationDefTypeRestriction(self)




    def relationDefTypeRestriction(self):

        localctx = FgaParser.RelationDefTypeRestrictionContext(self, self._ctx, self.state)
        self.enterRule(localctx, 30, self.RULE_relationDefTypeRestriction)
        self._la = 0 # Token type
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 262
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==55:
                self.state = 261
                self.match(FgaParser.NEWLINE)


            self.state = 271
            self._errHandler.sync(self)
            la_ = self._interp.adaptivePredict(self._input,41,self._ctx)
            if la_ == 1:
                self.state = 264
                self.relationDefTypeRestrictionBase()
                pass

            elif la_ == 2:
                self.state = 265
                self.relationDefTypeRestrictionBase()
                self.state = 266
                self.match(FgaParser.WHITESPACE)
                self.state = 267
                self.match(FgaParser.KEYWORD_WITH)
                self.state = 268
                self.match(FgaParser.WHITESPACE)
                self.state = 269
                self.conditionName()
                pass


            self.state = 274
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==55:
                self.state = 273
                self.match(FgaParser.NEWLINE)


        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class RelationDefTypeRestrictionBaseContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser
            self.relationDefTypeRestrictionType = None # IdentifierContext
            self.relationDefTypeRestrictionWildcard = None # Token
            self.relationDefTypeRestrictionRelation = None # IdentifierContext

        def identifier(self, i:int=None):
            if i is None:
                return self.getTypedRuleContexts(FgaParser.IdentifierContext)
            else:
                return self.getTypedRuleContext(FgaParser.IdentifierContext,i)


        def COLON(self):
            return self.getToken(FgaParser.COLON, 0)

        def HASH(self):
            return self.getToken(FgaParser.HASH, 0)

        def STAR(self):
            return self.getToken(FgaParser.STAR, 0)

        def getRuleIndex(self):
            return FgaParser.RULE_relationDefTypeRestrictionBase

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterRelationDefTypeRestrictionBase" ):
                listener.enterRelationDefTypeRestrictionBase(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitRelationDefTypeRestrictionBase" ):
                listener.exitRelationDefTypeRestrictionBase(self)




    def relationDefTypeRestrictionBase(self):

        localctx = FgaParser.RelationDefTypeRestrictionBaseContext(self, self._ctx, self.state)
        self.enterRule(localctx, 32, self.RULE_relationDefTypeRestrictionBase)
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 276
            localctx.relationDefTypeRestrictionType = self.identifier()
            self.state = 281
            self._errHandler.sync(self)
            token = self._input.LA(1)
            if token in [1]:
                self.state = 277
                self.match(FgaParser.COLON)
                self.state = 278
                localctx.relationDefTypeRestrictionWildcard = self.match(FgaParser.STAR)
                pass
            elif token in [11]:
                self.state = 279
                self.match(FgaParser.HASH)
                self.state = 280
                localctx.relationDefTypeRestrictionRelation = self.identifier()
                pass
            elif token in [2, 9, 34, 55]:
                pass
            else:
                pass
        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class ConditionsContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def condition(self, i:int=None):
            if i is None:
                return self.getTypedRuleContexts(FgaParser.ConditionContext)
            else:
                return self.getTypedRuleContext(FgaParser.ConditionContext,i)


        def getRuleIndex(self):
            return FgaParser.RULE_conditions

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterConditions" ):
                listener.enterConditions(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitConditions" ):
                listener.exitConditions(self)




    def conditions(self):

        localctx = FgaParser.ConditionsContext(self, self._ctx, self.state)
        self.enterRule(localctx, 34, self.RULE_conditions)
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 286
            self._errHandler.sync(self)
            _alt = self._interp.adaptivePredict(self._input,44,self._ctx)
            while _alt!=2 and _alt!=ATN.INVALID_ALT_NUMBER:
                if _alt==1:
                    self.state = 283
                    self.condition() 
                self.state = 288
                self._errHandler.sync(self)
                _alt = self._interp.adaptivePredict(self._input,44,self._ctx)

        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class ConditionContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def NEWLINE(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.NEWLINE)
            else:
                return self.getToken(FgaParser.NEWLINE, i)

        def CONDITION(self):
            return self.getToken(FgaParser.CONDITION, 0)

        def WHITESPACE(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.WHITESPACE)
            else:
                return self.getToken(FgaParser.WHITESPACE, i)

        def conditionName(self):
            return self.getTypedRuleContext(FgaParser.ConditionNameContext,0)


        def LPAREN(self):
            return self.getToken(FgaParser.LPAREN, 0)

        def conditionParameter(self, i:int=None):
            if i is None:
                return self.getTypedRuleContexts(FgaParser.ConditionParameterContext)
            else:
                return self.getTypedRuleContext(FgaParser.ConditionParameterContext,i)


        def RPAREN(self):
            return self.getToken(FgaParser.RPAREN, 0)

        def LBRACE(self):
            return self.getToken(FgaParser.LBRACE, 0)

        def conditionExpression(self):
            return self.getTypedRuleContext(FgaParser.ConditionExpressionContext,0)


        def RBRACE(self):
            return self.getToken(FgaParser.RBRACE, 0)

        def multiLineComment(self):
            return self.getTypedRuleContext(FgaParser.MultiLineCommentContext,0)


        def COMMA(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.COMMA)
            else:
                return self.getToken(FgaParser.COMMA, i)

        def getRuleIndex(self):
            return FgaParser.RULE_condition

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterCondition" ):
                listener.enterCondition(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitCondition" ):
                listener.exitCondition(self)




    def condition(self):

        localctx = FgaParser.ConditionContext(self, self._ctx, self.state)
        self.enterRule(localctx, 36, self.RULE_condition)
        self._la = 0 # Token type
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 291
            self._errHandler.sync(self)
            la_ = self._interp.adaptivePredict(self._input,45,self._ctx)
            if la_ == 1:
                self.state = 289
                self.match(FgaParser.NEWLINE)
                self.state = 290
                self.multiLineComment()


            self.state = 293
            self.match(FgaParser.NEWLINE)
            self.state = 294
            self.match(FgaParser.CONDITION)
            self.state = 295
            self.match(FgaParser.WHITESPACE)
            self.state = 296
            self.conditionName()
            self.state = 298
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==9:
                self.state = 297
                self.match(FgaParser.WHITESPACE)


            self.state = 300
            self.match(FgaParser.LPAREN)
            self.state = 302
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==9:
                self.state = 301
                self.match(FgaParser.WHITESPACE)


            self.state = 304
            self.conditionParameter()
            self.state = 306
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==9:
                self.state = 305
                self.match(FgaParser.WHITESPACE)


            self.state = 318
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            while _la==2:
                self.state = 308
                self.match(FgaParser.COMMA)
                self.state = 310
                self._errHandler.sync(self)
                _la = self._input.LA(1)
                if _la==9:
                    self.state = 309
                    self.match(FgaParser.WHITESPACE)


                self.state = 312
                self.conditionParameter()
                self.state = 314
                self._errHandler.sync(self)
                _la = self._input.LA(1)
                if _la==9:
                    self.state = 313
                    self.match(FgaParser.WHITESPACE)


                self.state = 320
                self._errHandler.sync(self)
                _la = self._input.LA(1)

            self.state = 322
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==55:
                self.state = 321
                self.match(FgaParser.NEWLINE)


            self.state = 324
            self.match(FgaParser.RPAREN)
            self.state = 326
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==9:
                self.state = 325
                self.match(FgaParser.WHITESPACE)


            self.state = 328
            self.match(FgaParser.LBRACE)
            self.state = 330
            self._errHandler.sync(self)
            la_ = self._interp.adaptivePredict(self._input,54,self._ctx)
            if la_ == 1:
                self.state = 329
                self.match(FgaParser.NEWLINE)


            self.state = 333
            self._errHandler.sync(self)
            la_ = self._interp.adaptivePredict(self._input,55,self._ctx)
            if la_ == 1:
                self.state = 332
                self.match(FgaParser.WHITESPACE)


            self.state = 335
            self.conditionExpression()
            self.state = 337
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==55:
                self.state = 336
                self.match(FgaParser.NEWLINE)


            self.state = 339
            self.match(FgaParser.RBRACE)
        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class ConditionNameContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def IDENTIFIER(self):
            return self.getToken(FgaParser.IDENTIFIER, 0)

        def getRuleIndex(self):
            return FgaParser.RULE_conditionName

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterConditionName" ):
                listener.enterConditionName(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitConditionName" ):
                listener.exitConditionName(self)




    def conditionName(self):

        localctx = FgaParser.ConditionNameContext(self, self._ctx, self.state)
        self.enterRule(localctx, 38, self.RULE_conditionName)
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 341
            self.match(FgaParser.IDENTIFIER)
        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class ConditionParameterContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def parameterName(self):
            return self.getTypedRuleContext(FgaParser.ParameterNameContext,0)


        def COLON(self):
            return self.getToken(FgaParser.COLON, 0)

        def parameterType(self):
            return self.getTypedRuleContext(FgaParser.ParameterTypeContext,0)


        def NEWLINE(self):
            return self.getToken(FgaParser.NEWLINE, 0)

        def WHITESPACE(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.WHITESPACE)
            else:
                return self.getToken(FgaParser.WHITESPACE, i)

        def getRuleIndex(self):
            return FgaParser.RULE_conditionParameter

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterConditionParameter" ):
                listener.enterConditionParameter(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitConditionParameter" ):
                listener.exitConditionParameter(self)




    def conditionParameter(self):

        localctx = FgaParser.ConditionParameterContext(self, self._ctx, self.state)
        self.enterRule(localctx, 40, self.RULE_conditionParameter)
        self._la = 0 # Token type
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 344
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==55:
                self.state = 343
                self.match(FgaParser.NEWLINE)


            self.state = 346
            self.parameterName()
            self.state = 348
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==9:
                self.state = 347
                self.match(FgaParser.WHITESPACE)


            self.state = 350
            self.match(FgaParser.COLON)
            self.state = 352
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            if _la==9:
                self.state = 351
                self.match(FgaParser.WHITESPACE)


            self.state = 354
            self.parameterType()
        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class ParameterNameContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def IDENTIFIER(self):
            return self.getToken(FgaParser.IDENTIFIER, 0)

        def getRuleIndex(self):
            return FgaParser.RULE_parameterName

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterParameterName" ):
                listener.enterParameterName(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitParameterName" ):
                listener.exitParameterName(self)




    def parameterName(self):

        localctx = FgaParser.ParameterNameContext(self, self._ctx, self.state)
        self.enterRule(localctx, 42, self.RULE_parameterName)
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 356
            self.match(FgaParser.IDENTIFIER)
        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class ParameterTypeContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def CONDITION_PARAM_TYPE(self):
            return self.getToken(FgaParser.CONDITION_PARAM_TYPE, 0)

        def CONDITION_PARAM_CONTAINER(self):
            return self.getToken(FgaParser.CONDITION_PARAM_CONTAINER, 0)

        def LESS(self):
            return self.getToken(FgaParser.LESS, 0)

        def GREATER(self):
            return self.getToken(FgaParser.GREATER, 0)

        def getRuleIndex(self):
            return FgaParser.RULE_parameterType

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterParameterType" ):
                listener.enterParameterType(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitParameterType" ):
                listener.exitParameterType(self)




    def parameterType(self):

        localctx = FgaParser.ParameterTypeContext(self, self._ctx, self.state)
        self.enterRule(localctx, 44, self.RULE_parameterType)
        try:
            self.state = 363
            self._errHandler.sync(self)
            token = self._input.LA(1)
            if token in [57]:
                self.enterOuterAlt(localctx, 1)
                self.state = 358
                self.match(FgaParser.CONDITION_PARAM_TYPE)
                pass
            elif token in [56]:
                self.enterOuterAlt(localctx, 2)
                self.state = 359
                self.match(FgaParser.CONDITION_PARAM_CONTAINER)
                self.state = 360
                self.match(FgaParser.LESS)
                self.state = 361
                self.match(FgaParser.CONDITION_PARAM_TYPE)
                self.state = 362
                self.match(FgaParser.GREATER)
                pass
            else:
                raise NoViableAltException(self)

        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class MultiLineCommentContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def HASH(self):
            return self.getToken(FgaParser.HASH, 0)

        def NEWLINE(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.NEWLINE)
            else:
                return self.getToken(FgaParser.NEWLINE, i)

        def multiLineComment(self):
            return self.getTypedRuleContext(FgaParser.MultiLineCommentContext,0)


        def getRuleIndex(self):
            return FgaParser.RULE_multiLineComment

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterMultiLineComment" ):
                listener.enterMultiLineComment(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitMultiLineComment" ):
                listener.exitMultiLineComment(self)




    def multiLineComment(self):

        localctx = FgaParser.MultiLineCommentContext(self, self._ctx, self.state)
        self.enterRule(localctx, 46, self.RULE_multiLineComment)
        self._la = 0 # Token type
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 365
            self.match(FgaParser.HASH)
            self.state = 369
            self._errHandler.sync(self)
            _la = self._input.LA(1)
            while (((_la) & ~0x3f) == 0 and ((1 << _la) & 252201579132747774) != 0):
                self.state = 366
                _la = self._input.LA(1)
                if _la <= 0 or _la==55:
                    self._errHandler.recoverInline(self)
                else:
                    self._errHandler.reportMatch(self)
                    self.consume()
                self.state = 371
                self._errHandler.sync(self)
                _la = self._input.LA(1)

            self.state = 374
            self._errHandler.sync(self)
            la_ = self._interp.adaptivePredict(self._input,62,self._ctx)
            if la_ == 1:
                self.state = 372
                self.match(FgaParser.NEWLINE)
                self.state = 373
                self.multiLineComment()


        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class IdentifierContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def MODEL(self):
            return self.getToken(FgaParser.MODEL, 0)

        def SCHEMA(self):
            return self.getToken(FgaParser.SCHEMA, 0)

        def TYPE(self):
            return self.getToken(FgaParser.TYPE, 0)

        def RELATION(self):
            return self.getToken(FgaParser.RELATION, 0)

        def IDENTIFIER(self):
            return self.getToken(FgaParser.IDENTIFIER, 0)

        def MODULE(self):
            return self.getToken(FgaParser.MODULE, 0)

        def EXTEND(self):
            return self.getToken(FgaParser.EXTEND, 0)

        def EXTENDED_IDENTIFIER(self):
            return self.getToken(FgaParser.EXTENDED_IDENTIFIER, 0)

        def getRuleIndex(self):
            return FgaParser.RULE_identifier

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterIdentifier" ):
                listener.enterIdentifier(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitIdentifier" ):
                listener.exitIdentifier(self)




    def identifier(self):

        localctx = FgaParser.IdentifierContext(self, self._ctx, self.state)
        self.enterRule(localctx, 48, self.RULE_identifier)
        self._la = 0 # Token type
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 376
            _la = self._input.LA(1)
            if not((((_la) & ~0x3f) == 0 and ((1 << _la) & 18014398529864704) != 0)):
                self._errHandler.recoverInline(self)
            else:
                self._errHandler.reportMatch(self)
                self.consume()
        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx


    class ConditionExpressionContext(ParserRuleContext):
        __slots__ = 'parser'

        def __init__(self, parser, parent:ParserRuleContext=None, invokingState:int=-1):
            super().__init__(parent, invokingState)
            self.parser = parser

        def RBRACE(self, i:int=None):
            if i is None:
                return self.getTokens(FgaParser.RBRACE)
            else:
                return self.getToken(FgaParser.RBRACE, i)

        def getRuleIndex(self):
            return FgaParser.RULE_conditionExpression

        def enterRule(self, listener:ParseTreeListener):
            if hasattr( listener, "enterConditionExpression" ):
                listener.enterConditionExpression(self)

        def exitRule(self, listener:ParseTreeListener):
            if hasattr( listener, "exitConditionExpression" ):
                listener.exitConditionExpression(self)




    def conditionExpression(self):

        localctx = FgaParser.ConditionExpressionContext(self, self._ctx, self.state)
        self.enterRule(localctx, 50, self.RULE_conditionExpression)
        self._la = 0 # Token type
        try:
            self.enterOuterAlt(localctx, 1)
            self.state = 381
            self._errHandler.sync(self)
            _alt = self._interp.adaptivePredict(self._input,63,self._ctx)
            while _alt!=2 and _alt!=ATN.INVALID_ALT_NUMBER:
                if _alt==1:
                    self.state = 378
                    _la = self._input.LA(1)
                    if _la <= 0 or _la==36:
                        self._errHandler.recoverInline(self)
                    else:
                        self._errHandler.reportMatch(self)
                        self.consume() 
                self.state = 383
                self._errHandler.sync(self)
                _alt = self._interp.adaptivePredict(self._input,63,self._ctx)

        except RecognitionException as re:
            localctx.exception = re
            self._errHandler.reportError(self, re)
            self._errHandler.recover(self, re)
        finally:
            self.exitRule()
        return localctx





