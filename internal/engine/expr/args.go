package expr

// Shared helpers for operator parsers. Every operator file of this package may use them, so
// that arity errors, constant folding and named arguments behave the same everywhere:
//
//   - operands(args, sc) parses an operator's operand list: the items of an array argument,
//     or the argument itself as the only operand ({$abs: "$x"} is {$abs: ["$x"]}).
//   - fixedOperands(name, n, args, sc) wants exactly n operands (error 16020 otherwise).
//   - rangeOperands(name, min, max, args, sc) wants min..max operands (error 28667).
//   - foldConstant(n, ops...) replaces n by its value when every operand is a literal,
//     the way mongod's optimizer folds constant sub-expressions (errors surface at parse
//     time, as they do there).
//   - literalValue(n) returns the value of a literal node.
//   - typeName(v) is MongoDB's type alias of a value, as error messages print it.
//   - registerUnary, registerBinary and registerSingleNumeric (arithmetic.go) register the
//     common operator shapes; numeric.go has mongod's numeric coercions (int32Of, int64Of,
//     intOrLong, decimalOf, formatDouble in convert.go).

import (
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// operands parses the operand list of an operator: an array argument gives one operand per
// item, anything else is the single operand.
func operands(args any, sc *scope) ([]node, error) {
	arr, ok := args.(bson.A)
	if !ok {
		n, err := parse(args, sc)
		if err != nil {
			return nil, err
		}
		return []node{n}, nil
	}
	out := make([]node, len(arr))
	for i, a := range arr {
		n, err := parse(a, sc)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// fixedOperands parses exactly n operands of the operator name.
func fixedOperands(name string, n int, args any, sc *scope) ([]node, error) {
	ops, err := operands(args, sc)
	if err != nil {
		return nil, err
	}
	if len(ops) != n {
		return nil, mongoerr.Newf(16020, "Expression %s takes exactly %d arguments. %d were passed in.", name, n, len(ops))
	}
	return ops, nil
}

// rangeOperands parses between min and max operands of the operator name.
func rangeOperands(name string, min, max int, args any, sc *scope) ([]node, error) {
	ops, err := operands(args, sc)
	if err != nil {
		return nil, err
	}
	if len(ops) < min || len(ops) > max {
		return nil, mongoerr.Newf(28667, "Expression %s takes at least %d arguments, and at most %d, but %d were passed in.", name, min, max, len(ops))
	}
	return ops, nil
}

// literalValue returns the value of n when it is a literal.
func literalValue(n node) (any, bool) {
	if l, ok := n.(literal); ok {
		return l.v, true
	}
	return nil, false
}

// allLiteral reports whether every node is a literal.
func allLiteral(ns ...node) bool {
	for _, n := range ns {
		if _, ok := n.(literal); !ok {
			return false
		}
	}
	return true
}

// foldConstant returns n evaluated once when all of ops are literals, and n otherwise. The
// node must not use variables bound inside the expression (its operands are literals, so
// it cannot). An evaluation error is returned: mongod folds constants while optimizing a
// pipeline and fails the command even if no document reaches the expression.
func foldConstant(n node, ops ...node) (node, error) {
	if !allLiteral(ops...) {
		return n, nil
	}
	v, err := n.eval(&ctx{})
	if err != nil {
		return nil, err
	}
	return literal{v}, nil
}

// typeName is MongoDB's alias for the type of v ("missing" for a missing value), as used in
// error messages.
func typeName(v any) string { return value.TypeName(v) }
