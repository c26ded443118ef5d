# Generated from grammar/FgaParser.g4 by ANTLR 4.13.2
from antlr4 import *
if "." in __name__:
    from .FgaParser import FgaParser
else:
    from FgaParser import FgaParser

# This class defines a complete listener for a parse tree produced by FgaParser.
class FgaParserListener(ParseTreeListener):

    # Enter a parse tree produced by FgaParser#main.
    def enterMain(self, ctx:FgaParser.MainContext):
        pass

    # Exit a parse tree produced by FgaParser#main.
    def exitMain(self, ctx:FgaParser.MainContext):
        pass


    # Enter a parse tree produced by FgaParser#modelHeader.
    def enterModelHeader(self, ctx:FgaParser.ModelHeaderContext):
        pass

    # Exit a parse tree produced by FgaParser#modelHeader.
    def exitModelHeader(self, ctx:FgaParser.ModelHeaderContext):
        pass


    # Enter a parse tree produced by FgaParser#moduleHeader.
    def enterModuleHeader(self, ctx:FgaParser.ModuleHeaderContext):
        pass

    # Exit a parse tree produced by FgaParser#moduleHeader.
    def exitModuleHeader(self, ctx:FgaParser.ModuleHeaderContext):
        pass


    # Enter a parse tree produced by FgaParser#typeDefs.
    def enterTypeDefs(self, ctx:FgaParser.TypeDefsContext):
        pass

    # Exit a parse tree produced by FgaParser#typeDefs.
    def exitTypeDefs(self, ctx:FgaParser.TypeDefsContext):
        pass


    # Enter a parse tree produced by FgaParser#typeDef.
    def enterTypeDef(self, ctx:FgaParser.TypeDefContext):
        pass

    # Exit a parse tree produced by FgaParser#typeDef.
    def exitTypeDef(self, ctx:FgaParser.TypeDefContext):
        pass


    # Enter a parse tree produced by FgaParser#relationDeclaration.
    def enterRelationDeclaration(self, ctx:FgaParser.RelationDeclarationContext):
        pass

    # Exit a parse tree produced by FgaParser#relationDeclaration.
    def exitRelationDeclaration(self, ctx:FgaParser.RelationDeclarationContext):
        pass


    # Enter a parse tree produced by FgaParser#relationName.
    def enterRelationName(self, ctx:FgaParser.RelationNameContext):
        pass

    # Exit a parse tree produced by FgaParser#relationName.
    def exitRelationName(self, ctx:FgaParser.RelationNameContext):
        pass


    # Enter a parse tree produced by FgaParser#relationDef.
    def enterRelationDef(self, ctx:FgaParser.RelationDefContext):
        pass

    # Exit a parse tree produced by FgaParser#relationDef.
    def exitRelationDef(self, ctx:FgaParser.RelationDefContext):
        pass


    # Enter a parse tree produced by FgaParser#relationDefNoDirect.
    def enterRelationDefNoDirect(self, ctx:FgaParser.RelationDefNoDirectContext):
        pass

    # Exit a parse tree produced by FgaParser#relationDefNoDirect.
    def exitRelationDefNoDirect(self, ctx:FgaParser.RelationDefNoDirectContext):
        pass


    # Enter a parse tree produced by FgaParser#relationDefPartials.
    def enterRelationDefPartials(self, ctx:FgaParser.RelationDefPartialsContext):
        pass

    # Exit a parse tree produced by FgaParser#relationDefPartials.
    def exitRelationDefPartials(self, ctx:FgaParser.RelationDefPartialsContext):
        pass


    # Enter a parse tree produced by FgaParser#relationDefGrouping.
    def enterRelationDefGrouping(self, ctx:FgaParser.RelationDefGroupingContext):
        pass

    # Exit a parse tree produced by FgaParser#relationDefGrouping.
    def exitRelationDefGrouping(self, ctx:FgaParser.RelationDefGroupingContext):
        pass


    # Enter a parse tree produced by FgaParser#relationRecurse.
    def enterRelationRecurse(self, ctx:FgaParser.RelationRecurseContext):
        pass

    # Exit a parse tree produced by FgaParser#relationRecurse.
    def exitRelationRecurse(self, ctx:FgaParser.RelationRecurseContext):
        pass


    # Enter a parse tree produced by FgaParser#relationRecurseNoDirect.
    def enterRelationRecurseNoDirect(self, ctx:FgaParser.RelationRecurseNoDirectContext):
        pass

    # Exit a parse tree produced by FgaParser#relationRecurseNoDirect.
    def exitRelationRecurseNoDirect(self, ctx:FgaParser.RelationRecurseNoDirectContext):
        pass


    # Enter a parse tree produced by FgaParser#relationDefDirectAssignment.
    def enterRelationDefDirectAssignment(self, ctx:FgaParser.RelationDefDirectAssignmentContext):
        pass

    # Exit a parse tree produced by FgaParser#relationDefDirectAssignment.
    def exitRelationDefDirectAssignment(self, ctx:FgaParser.RelationDefDirectAssignmentContext):
        pass


    # Enter a parse tree produced by FgaParser#relationDefRewrite.
    def enterRelationDefRewrite(self, ctx:FgaParser.RelationDefRewriteContext):
        pass

    # Exit a parse tree produced by FgaParser#relationDefRewrite.
    def exitRelationDefRewrite(self, ctx:FgaParser.RelationDefRewriteContext):
        pass


    # Enter a parse tree produced by FgaParser#relationDefTypeRestriction.
    def enterRelationDefTypeRestriction(self, ctx:FgaParser.RelationDefTypeRestrictionContext):
        pass

    # Exit a parse tree produced by FgaParser#relationDefTypeRestriction.
    def exitRelationDefTypeRestriction(self, ctx:FgaParser.RelationDefTypeRestrictionContext):
        pass


    # Enter a parse tree produced by FgaParser#relationDefTypeRestrictionBase.
    def enterRelationDefTypeRestrictionBase(self, ctx:FgaParser.RelationDefTypeRestrictionBaseContext):
        pass

    # Exit a parse tree produced by FgaParser#relationDefTypeRestrictionBase.
    def exitRelationDefTypeRestrictionBase(self, ctx:FgaParser.RelationDefTypeRestrictionBaseContext):
        pass


    # Enter a parse tree produced by FgaParser#conditions.
    def enterConditions(self, ctx:FgaParser.ConditionsContext):
        pass

    # Exit a parse tree produced by FgaParser#conditions.
    def exitConditions(self, ctx:FgaParser.ConditionsContext):
        pass


    # Enter a parse tree produced by FgaParser#condition.
    def enterCondition(self, ctx:FgaParser.ConditionContext):
        pass

    # Exit a parse tree produced by FgaParser#condition.
    def exitCondition(self, ctx:FgaParser.ConditionContext):
        pass


    # Enter a parse tree produced by FgaParser#conditionName.
    def enterConditionName(self, ctx:FgaParser.ConditionNameContext):
        pass

    # Exit a parse tree produced by FgaParser#conditionName.
    def exitConditionName(self, ctx:FgaParser.ConditionNameContext):
        pass


    # Enter a parse tree produced by FgaParser#conditionParameter.
    def enterConditionParameter(self, ctx:FgaParser.ConditionParameterContext):
        pass

    # Exit a parse tree produced by FgaParser#conditionParameter.
    def exitConditionParameter(self, ctx:FgaParser.ConditionParameterContext):
        pass


    # Enter a parse tree produced by FgaParser#parameterName.
    def enterParameterName(self, ctx:FgaParser.ParameterNameContext):
        pass

    # Exit a parse tree produced by FgaParser#parameterName.
    def exitParameterName(self, ctx:FgaParser.ParameterNameContext):
        pass


    # Enter a parse tree produced by FgaParser#parameterType.
    def enterParameterType(self, ctx:FgaParser.ParameterTypeContext):
        pass

    # Exit a parse tree produced by FgaParser#parameterType.
    def exitParameterType(self, ctx:FgaParser.ParameterTypeContext):
        pass


    # Enter a parse tree produced by FgaParser#multiLineComment.
    def enterMultiLineComment(self, ctx:FgaParser.MultiLineCommentContext):
        pass

    # Exit a parse tree produced by FgaParser#multiLineComment.
    def exitMultiLineComment(self, ctx:FgaParser.MultiLineCommentContext):
        pass


    # Enter a parse tree produced by FgaParser#identifier.
    def enterIdentifier(self, ctx:FgaParser.IdentifierContext):
        pass

    # Exit a parse tree produced by FgaParser#identifier.
    def exitIdentifier(self, ctx:FgaParser.IdentifierContext):
        pass


    # Enter a parse tree produced by FgaParser#conditionExpression.
    def enterConditionExpression(self, ctx:FgaParser.ConditionExpressionContext):
        pass

    # Exit a parse tree produced by FgaParser#conditionExpression.
    def exitConditionExpression(self, ctx:FgaParser.ConditionExpressionContext):
        pass



del FgaParser