package expr

// Boolean operators: $and $or $not. Operands are read with MongoDB's truthiness: false,
// null, undefined, missing and numeric zero are false; everything else is true.

import "github.com/modjo-orm/modjo/internal/engine/value"

func init() {
	register("$and", func(args any, sc *scope) (node, error) { return parseLogical(true, args, sc) })
	register("$or", func(args any, sc *scope) (node, error) { return parseLogical(false, args, sc) })
	registerUnary("$not", func(v any) (any, error) { return !value.Truthy(v), nil })
}

// logicalNode is $and (and true) or $or (and false); evaluation stops at the first operand
// that decides the result.
type logicalNode struct {
	and bool
	ops []node
}

func parseLogical(and bool, args any, sc *scope) (node, error) {
	ops, err := operands(args, sc)
	if err != nil {
		return nil, err
	}
	// Like mongod's optimizer: a constant operand that decides the result decides it
	// without evaluating the others, and constants that do not are dropped.
	kept := ops[:0:0]
	for _, n := range ops {
		if v, ok := literalValue(n); ok {
			if value.Truthy(v) != and {
				return literal{!and}, nil
			}
			continue
		}
		if inner, ok := n.(*logicalNode); ok && inner.and == and {
			kept = append(kept, inner.ops...)
			continue
		}
		kept = append(kept, n)
	}
	if len(kept) == 0 {
		return literal{and}, nil
	}
	return &logicalNode{and: and, ops: kept}, nil
}

func (n *logicalNode) eval(c *ctx) (any, error) {
	for _, op := range n.ops {
		v, err := op.eval(c)
		if err != nil {
			return nil, err
		}
		if value.Truthy(v) != n.and {
			return !n.and, nil
		}
	}
	return n.and, nil
}
