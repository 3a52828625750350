package expr

// Comparison operators: $cmp $eq $ne $gt $gte $lt $lte. They compare any two values in
// MongoDB's total BSON order (no type bracketing, unlike the query operators), so a missing
// field is below null and a string is above every number.

import "github.com/modjo-orm/modjo/internal/engine/value"

func init() {
	registerCompare("$cmp", func(c int) any { return int32(c) })
	registerCompare("$eq", func(c int) any { return c == 0 })
	registerCompare("$ne", func(c int) any { return c != 0 })
	registerCompare("$gt", func(c int) any { return c > 0 })
	registerCompare("$gte", func(c int) any { return c >= 0 })
	registerCompare("$lt", func(c int) any { return c < 0 })
	registerCompare("$lte", func(c int) any { return c <= 0 })
}

type compareNode struct {
	a, b   node
	result func(cmp int) any
}

func registerCompare(name string, result func(cmp int) any) {
	register(name, func(args any, sc *scope) (node, error) {
		ops, err := fixedOperands(name, 2, args, sc)
		if err != nil {
			return nil, err
		}
		return foldConstant(&compareNode{a: ops[0], b: ops[1], result: result}, ops...)
	})
}

func (n *compareNode) eval(c *ctx) (any, error) {
	a, err := n.a.eval(c)
	if err != nil {
		return nil, err
	}
	b, err := n.b.eval(c)
	if err != nil {
		return nil, err
	}
	return n.result(value.Compare(a, b)), nil
}
